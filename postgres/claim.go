package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// nodeLockKey is the first half of the advisory lock by which swfd nodes
// claim their place on a database (ClaimNode); the second, as for
// migrations, is a hash of the schema.
const nodeLockKey = 0x73776e64 // "swnd"

// ErrNotAlone is ClaimNode's error when the claim conflicts with another
// swfd node on the database: one claimed it alone while others use it,
// or others use it while one holds it alone.
var ErrNotAlone = errors.New("postgres: another swfd node uses this database")

// ClaimNode claims this node's place among the swfd nodes that use the
// database (its schema), until release is called: alone, for a node that
// no other may share the database with (one whose clock moves: each node
// has its own clock, so nodes beside it would date events by theirs), or
// beside other nodes, which is refused while one holds the database alone.
// A claim that conflicts fails at once with ErrNotAlone.
//
// The claim is a session advisory lock (exclusive alone, shared beside
// others) held by a connection of its own, outside the pool: it ends when
// that connection does, so a node killed without a word lets the next one
// in. Should that connection be lost while the node runs (the database
// restarted), the claim is gone and the node does not take it again.
func (db *DB) ClaimNode(ctx context.Context, alone bool) (release func(), err error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: claim the database for this node: %w", err)
	}
	fn := "pg_try_advisory_lock_shared"
	if alone {
		fn = "pg_try_advisory_lock"
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT "+fn+"($1, hashtext(current_schema()))", int32(nodeLockKey)).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("postgres: claim the database for this node: %w", err)
	}
	if !got {
		conn.Close(context.Background())
		return nil, ErrNotAlone
	}
	return func() { conn.Close(context.Background()) }, nil
}
