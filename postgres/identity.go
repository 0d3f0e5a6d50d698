package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// identityKey is the meta key under which the store keeps the region and
// account of the nodes that serve it (AgreeIdentity).
const identityKey = "node-identity"

// identityLockKey is the first half of the transaction advisory lock that
// makes the nodes' AgreeIdentity calls take turns (the second, as for the
// other locks, is a hash of the schema).
const identityLockKey = 0x73776964 // "swid"

// ErrIdentityMismatch is AgreeIdentity's error when other nodes serve the
// database as another region or account.
var ErrIdentityMismatch = errors.New("postgres: other swfd nodes serve this database as another region or account")

// Identity is the region and account a node serves as: the parts of every
// ARN it writes and of every IAM decision it makes.
type Identity struct {
	Region  string `json:"region"`
	Account string `json:"account"`
}

// AgreeIdentity checks that the node serves as the same region and account
// as the other nodes of the database (its schema), which would otherwise
// write and accept ARNs that differ by node, and decide IAM policies by
// them differently. It must be called once the node holds its claim
// (ClaimNode), which is how the other nodes are counted: the identity is
// kept in the database, written by the first node to start; a node that
// finds another one kept there fails with ErrIdentityMismatch while any
// other node holds a claim, and takes the database over with its own
// when none does (an installation restarted as another region or account),
// in which case previous reports the identity it replaced. Two nodes
// starting together take turns, so that one of them sees the other.
func (db *DB) AgreeIdentity(ctx context.Context, id Identity) (previous *Identity, err error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	mine, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	err = db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		previous = nil
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", int32(identityLockKey)); err != nil {
			return err
		}
		var kept []byte
		switch err := tx.QueryRow(ctx, "SELECT value FROM meta WHERE key = $1", identityKey).Scan(&kept); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			var was Identity
			if json.Unmarshal(kept, &was) != nil {
				// Unreadable: taken over below as if it were another.
				was = Identity{}
			}
			if was == id {
				return nil
			}
			var claims int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_locks
				WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
				AND classid = $1 AND objid = hashtext(current_schema())::oid AND objsubid = 2 AND granted`,
				int64(nodeLockKey)).Scan(&claims); err != nil {
				return err
			}
			if claims > 1 { // this node's own claim, and another's
				return fmt.Errorf("%w: they serve as region %q, account %q; this node as region %q, account %q",
					ErrIdentityMismatch, was.Region, was.Account, id.Region, id.Account)
			}
			previous = &was
		}
		_, err := tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			identityKey, mine)
		return err
	})
	if err != nil && !errors.Is(err, ErrIdentityMismatch) {
		return nil, fmt.Errorf("postgres: check the nodes' region and account: %w", unavailable(err))
	}
	return previous, err
}
