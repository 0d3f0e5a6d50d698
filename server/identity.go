package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/postgres"
)

// identityAgreer is a store that several nodes may share, which keeps the
// region and account they serve as (a *postgres.DB).
type identityAgreer interface {
	AgreeIdentity(ctx context.Context, id postgres.Identity) (*postgres.Identity, error)
}

// agreeIdentity makes sure that this node serves st as the same region and
// account as the other nodes that serve it: the ARNs each writes and
// accepts, and the IAM decisions made by them, would otherwise differ by
// the node a call reaches. It is called once the node holds its claim
// (claimNode). A node started alone with another region or account than
// the database last served takes it over, with a warning.
func agreeIdentity(ctx context.Context, st swfd.Store, region, account string, log *slog.Logger) error {
	a, ok := st.(identityAgreer)
	if !ok {
		return nil
	}
	previous, err := a.AgreeIdentity(ctx, postgres.Identity{Region: region, Account: account})
	switch {
	case errors.Is(err, postgres.ErrIdentityMismatch):
		return fmt.Errorf("--region and --account-id must be the same on every swfd node of a database (the ARNs a node writes and accepts, "+
			"and its IAM decisions, are made of them); start this node with those of the running nodes, or stop them all first: %w", err)
	case err != nil:
		return err
	case previous != nil:
		log.Warn("this database was served as another region or account, by nodes no longer running: "+
			"the ARNs already handed out name the old ones",
			"region", region, "account", account, "previous_region", previous.Region, "previous_account", previous.Account)
	}
	return nil
}
