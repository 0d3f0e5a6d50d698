package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
// starting together take turns, so that one of them sees the other. The
// store keeps the identity agreed to, and checks it again each time the
// node takes its lost claim again (recheckIdentity): a node of another
// region or account may have started while the claim was lost.
func (db *DB) AgreeIdentity(ctx context.Context, id Identity) (previous *Identity, err error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	// At a node's start ctx has no deadline: bounded as a read outside a
	// call is (readCtx), a start that meets the meta table locked by
	// another session (an operator's LOCK TABLE left open in psql) fails
	// and says so, where it waited without a word for as long as the lock
	// was held.
	ctx, cancel := db.readCtx(ctx)
	defer cancel()
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
	if err == nil {
		db.identity.Store(&id)
	}
	return previous, err
}

// identityRecheckTimeout bounds each try of a claim taken again to check
// the node's region and account (recheckIdentity).
const identityRecheckTimeout = 10 * time.Second

// recheckIdentity checks, once the node has taken its lost claim again,
// that the database is still served as the region and account the node
// agreed to (AgreeIdentity). While the claim was lost, every node's may
// have been (a restart of the server ends them all), and a node of another
// region or account started in that gap counted no claim but its own and
// took the database over: the node then fences its store with
// ErrIdentityMismatch, so that the two do not both serve, and returns
// false. Should the other node have stopped meanwhile, the node is alone
// and takes the database back with its own, as a node starting alone
// would. The check is tried again, backing off, while the database does
// not answer; it returns false too when ctx is done or the store closed.
func (db *DB) recheckIdentity(ctx context.Context) bool {
	id := db.identity.Load()
	if id == nil {
		return true // the node has not agreed to one yet (it is starting)
	}
	wait := listenRetryMin
	for {
		tctx, cancel := context.WithTimeout(ctx, identityRecheckTimeout)
		previous, err := db.AgreeIdentity(tctx, *id)
		cancel()
		switch {
		case err == nil:
			if previous != nil {
				db.logger.Warn("postgres: this node took its claim on the database again and found it served as another region or account "+
					"by nodes no longer running: the ARNs they handed out name theirs",
					"database", db.where, "region", id.Region, "account", id.Account,
					"previous_region", previous.Region, "previous_account", previous.Account)
			}
			return true
		case errors.Is(err, ErrIdentityMismatch):
			db.fence(err)
			db.logger.Error("postgres: this node took its claim on the database again, but the database is now served as another region or account "+
				"(a node started while the claim was lost); every call to this node fails from now on: stop it",
				"database", db.where, "err", err)
			return false
		}
		if ctx.Err() != nil {
			return false
		}
		db.logger.Warn("postgres: cannot check this node's region and account against the database's yet; retrying",
			"database", db.where, "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		case <-db.done:
			return false
		}
		wait = min(2*wait, listenRetryMax)
	}
}
