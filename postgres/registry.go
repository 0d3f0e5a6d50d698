package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/stored"
)

// CreateDomain inserts d. The existence and limit checks and the insert are
// one SERIALIZABLE transaction, so they hold between nodes too.
//
// Its first statement locks the domains table against the other creations
// (SHARE ROW EXCLUSIVE, which reads never wait for), so they run in turn
// and each takes its snapshot, at its first read, once the one before has
// committed. Without the lock every two creations at once conflicted on
// the count (each read what the other wrote) and one of them failed for
// serialization; under a stream of creations from several nodes one could
// lose all its attempts and fail. SERIALIZABLE stays for a previous
// release's nodes, which create without the lock during a rolling upgrade.
func (db *DB) CreateDomain(ctx context.Context, d swfd.Domain, maxDomains int) error {
	tags, err := stored.Tags(d.Tags)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return db.serializable(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "LOCK TABLE domains IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("postgres: create domain %q: %w", d.Name, err)
		}
		var found bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM domains WHERE name = $1)", d.Name).Scan(&found); err != nil {
			return fmt.Errorf("postgres: create domain %q: %w", d.Name, err)
		}
		if found {
			return fmt.Errorf("postgres: domain %q: %w", d.Name, swfd.ErrAlreadyExists)
		}
		if maxDomains > 0 {
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM domains").Scan(&n); err != nil {
				return fmt.Errorf("postgres: create domain %q: %w", d.Name, err)
			}
			if n >= maxDomains {
				return fmt.Errorf("postgres: create domain %q: %d domains exist: %w", d.Name, n, swfd.ErrLimitExceeded)
			}
		}
		desc, emptyDesc := stored.Description(d.Description)
		_, err := tx.Exec(ctx, `INSERT INTO domains (name, description, empty_description, status, retention, tags, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			d.Name, desc, emptyDesc, d.Status, d.RetentionDays, tags, d.Created.UnixMilli())
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("postgres: domain %q: %w", d.Name, swfd.ErrAlreadyExists)
			}
			return fmt.Errorf("postgres: create domain %q: %w", d.Name, err)
		}
		return nil
	})
}

const domainCols = "name, description, empty_description, status, retention, tags, created"

func scanDomain(s pgx.Row) (swfd.Domain, error) {
	var d swfd.Domain
	var desc, tags string
	var emptyDesc bool
	var created int64
	if err := s.Scan(&d.Name, &desc, &emptyDesc, &d.Status, &d.RetentionDays, &tags, &created); err != nil {
		return d, err
	}
	d.Description = stored.ReadDescription(desc, emptyDesc)
	d.Created = fromMillis(created)
	var err error
	if d.Tags, err = stored.ReadTags(tags); err != nil {
		return d, fmt.Errorf("postgres: domain %q: bad tags: %w", d.Name, err)
	}
	return d, nil
}

// GetDomain returns a domain or ErrNotFound.
func (db *DB) GetDomain(ctx context.Context, name string) (swfd.Domain, error) {
	if err := db.check(ctx); err != nil {
		return swfd.Domain{}, err
	}
	d, err := scanDomain(db.pool.QueryRow(ctx, "SELECT "+domainCols+" FROM domains WHERE name = $1", name))
	if db.again(ctx, err) {
		d, err = scanDomain(db.pool.QueryRow(ctx, "SELECT "+domainCols+" FROM domains WHERE name = $1", name))
	}
	err = unavailable(err)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("postgres: domain %q: %w", name, swfd.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("postgres: get domain %q: %w", name, err)
	}
	return d, nil
}

// SetDomainStatus changes a domain's status; deprecating it deprecates its
// registered types at the same instant, in the same transaction.
//
// It runs at READ COMMITTED and locks the domain's row first (the UPDATE of
// domains), so it never fails for serialization and cannot be starved by
// registrations: it waits for the CreateType and SetTypeStatus call that
// holds the row (FOR NO KEY UPDATE) to commit, and those that come after it
// queue behind it. (Had they held the row FOR SHARE, each new registration
// would join the share holders without waiting, and a steady stream of them
// kept the UPDATE waiting for good: PostgreSQL queues only conflicting
// lockers.) The UPDATE of types is a statement of its own, after the lock
// is taken, so it sees every type committed before then; a registration
// waiting on the row sees the domain deprecated once this commits.
func (db *DB) SetDomainStatus(ctx context.Context, name, status string, at time.Time) error {
	return db.locked(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE domains SET status = $1 WHERE name = $2", status, name)
		if err != nil {
			return fmt.Errorf("postgres: set domain status %q: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: domain %q: %w", name, swfd.ErrNotFound)
		}
		if status == swfd.StatusDeprecated {
			if _, err := tx.Exec(ctx, "UPDATE types SET status = $1, deprecated = $2 WHERE domain = $3 AND status = $4",
				swfd.StatusDeprecated, at.UnixMilli(), name, swfd.StatusRegistered); err != nil {
				return fmt.Errorf("postgres: deprecate types of domain %q: %w", name, err)
			}
		}
		return nil
	})
}

// UpdateDomainTags removes and upserts a domain's tags. It reads the stored
// list with the domain's row locked (FOR UPDATE) and writes it back in the
// same transaction, so concurrent updates, from this node or another, wait
// for each other and never overwrite each other.
func (db *DB) UpdateDomainTags(ctx context.Context, name string, add []swfd.Tag, remove []string, maxTags int) error {
	return db.locked(ctx, func(tx pgx.Tx) error {
		var js string
		err := tx.QueryRow(ctx, "SELECT tags FROM domains WHERE name = $1 FOR UPDATE", name).Scan(&js)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: domain %q: %w", name, swfd.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: update domain tags %q: %w", name, err)
		}
		tags, err := stored.ReadTags(js)
		if err != nil {
			return fmt.Errorf("postgres: domain %q: bad tags: %w", name, err)
		}
		tags = stored.UpdateTags(tags, add, remove)
		if maxTags > 0 && len(tags) > maxTags {
			return fmt.Errorf("postgres: domain %q would have %d tags: %w", name, len(tags), swfd.ErrLimitExceeded)
		}
		if js, err = stored.Tags(tags); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE domains SET tags = $1 WHERE name = $2", js, name); err != nil {
			return fmt.Errorf("postgres: update domain tags %q: %w", name, err)
		}
		return nil
	})
}

// checkDomainFor reads a domain's row FOR NO KEY UPDATE, holding it until
// the transaction ends, so that SetDomainStatus, which locks the row first,
// runs wholly before or wholly after the write. The lock is exclusive, not
// FOR SHARE, so that the writers of one domain queue in turn and a waiting
// SetDomainStatus takes its place in that queue (see SetDomainStatus).
// ErrNotFound if the domain does not exist; ErrDeprecated if a type of
// status typeStatus would be registered in a deprecated domain.
func checkDomainFor(ctx context.Context, tx pgx.Tx, domain, typeStatus string) error {
	var status string
	err := tx.QueryRow(ctx, "SELECT status FROM domains WHERE name = $1 FOR NO KEY UPDATE", domain).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("domain %q: %w", domain, swfd.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read domain %q: %w", domain, err)
	}
	if typeStatus == swfd.StatusRegistered && status != swfd.StatusRegistered {
		return fmt.Errorf("domain %q: %w", domain, swfd.ErrDeprecated)
	}
	return nil
}

// args numbers query arguments as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// ListDomains returns domains of q.Status (every status when empty) in name
// order. A Limit of 0 or less means no limit.
func (db *DB) ListDomains(ctx context.Context, q swfd.ListQuery) ([]swfd.Domain, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	var sb strings.Builder
	var a args
	sb.WriteString("SELECT " + domainCols + " FROM domains WHERE true")
	if q.Status != "" {
		sb.WriteString(" AND status = " + a.add(q.Status))
	}
	if q.After != "" {
		if q.Reverse {
			sb.WriteString(" AND name < " + a.add(q.After))
		} else {
			sb.WriteString(" AND name > " + a.add(q.After))
		}
	}
	if q.Reverse {
		sb.WriteString(" ORDER BY name DESC")
	} else {
		sb.WriteString(" ORDER BY name")
	}
	if q.Limit > 0 {
		sb.WriteString(" LIMIT " + a.add(q.Limit))
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (swfd.Domain, error) { return scanDomain(r) }, sb.String(), a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list domains: %w", err)
	}
	return out, nil
}

// CreateType inserts t. It runs at READ COMMITTED and orders itself with
// row locks: it locks the domain's row (checkDomainFor), then the row of
// type_counts for the kind and domain FOR UPDATE (made first if missing).
// That row holds the count of the domain's types of the kind, which a
// trigger on types keeps with every insert and delete, so the limit costs
// one row read; registrations in one domain take the domain's row in turn
// (and the count row, which also orders them against a release that wrote
// types without the domain lock), each seeing the types and the count the
// one before left, and
// none fails for serialization (at SERIALIZABLE, every registration into a
// domain changing its one count row made them fail each other).
func (db *DB) CreateType(ctx context.Context, t swfd.TypeRecord, maxTypes int) error {
	return db.locked(ctx, func(tx pgx.Tx) error {
		if err := checkDomainFor(ctx, tx, t.Domain, t.Status); err != nil {
			return fmt.Errorf("postgres: create %s type: %w", t.Kind, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO type_counts (kind, domain, n) VALUES ($1, $2, 0) ON CONFLICT (kind, domain) DO NOTHING",
			string(t.Kind), t.Domain); err != nil {
			return fmt.Errorf("postgres: create %s type: %w", t.Kind, err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT n FROM type_counts WHERE kind = $1 AND domain = $2 FOR UPDATE",
			string(t.Kind), t.Domain).Scan(&n); err != nil {
			return fmt.Errorf("postgres: create %s type: %w", t.Kind, err)
		}
		var found bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM types WHERE kind = $1 AND domain = $2 AND name = $3 AND version = $4)",
			string(t.Kind), t.Domain, t.Name, t.Version).Scan(&found); err != nil {
			return fmt.Errorf("postgres: create %s type: %w", t.Kind, err)
		}
		if found {
			return fmt.Errorf("postgres: %s type %s/%s:%s: %w", t.Kind, t.Domain, t.Name, t.Version, swfd.ErrAlreadyExists)
		}
		if maxTypes > 0 && n >= maxTypes {
			return fmt.Errorf("postgres: create %s type in %q: %d exist: %w", t.Kind, t.Domain, n, swfd.ErrLimitExceeded)
		}
		desc, emptyDesc := stored.Description(t.Description)
		_, err := tx.Exec(ctx, `INSERT INTO types (kind, domain, name, version, status, description, empty_description, created, deprecated, config)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			string(t.Kind), t.Domain, t.Name, t.Version, t.Status, desc, emptyDesc,
			t.Created.UnixMilli(), nullMillis(t.Deprecated), t.Config)
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("postgres: %s type %s/%s:%s: %w", t.Kind, t.Domain, t.Name, t.Version, swfd.ErrAlreadyExists)
			}
			return fmt.Errorf("postgres: create %s type: %w", t.Kind, err)
		}
		return nil
	})
}

const typeCols = "kind, domain, name, version, status, description, empty_description, created, deprecated, config"

func scanType(s pgx.Row) (swfd.TypeRecord, error) {
	var t swfd.TypeRecord
	var kind string
	var created int64
	var deprecated *int64
	var desc string
	var emptyDesc bool
	if err := s.Scan(&kind, &t.Domain, &t.Name, &t.Version, &t.Status, &desc, &emptyDesc, &created, &deprecated, &t.Config); err != nil {
		return t, err
	}
	t.Description = stored.ReadDescription(desc, emptyDesc)
	t.Kind = swfd.TypeKind(kind)
	t.Created = fromMillis(created)
	t.Deprecated = fromNullMillis(deprecated)
	return t, nil
}

// GetType returns a type or ErrNotFound.
func (db *DB) GetType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	if err := db.check(ctx); err != nil {
		return swfd.TypeRecord{}, err
	}
	const query = "SELECT " + typeCols + " FROM types WHERE kind = $1 AND domain = $2 AND name = $3 AND version = $4"
	t, err := scanType(db.pool.QueryRow(ctx, query, string(kind), domain, name, version))
	if db.again(ctx, err) {
		t, err = scanType(db.pool.QueryRow(ctx, query, string(kind), domain, name, version))
	}
	err = unavailable(err)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("postgres: %s type %s/%s:%s: %w", kind, domain, name, version, swfd.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("postgres: get %s type: %w", kind, err)
	}
	return t, nil
}

// SetTypeStatus changes a type's status and deprecation date. Undeprecating
// locks the domain's row first (checkDomainFor), so a type is
// undeprecated only while its domain is registered.
func (db *DB) SetTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string, deprecated time.Time) error {
	return db.locked(ctx, func(tx pgx.Tx) error {
		if status == swfd.StatusRegistered {
			if err := checkDomainFor(ctx, tx, domain, status); err != nil && !errors.Is(err, swfd.ErrNotFound) {
				return fmt.Errorf("postgres: set %s type status: %w", kind, err)
			}
		}
		tag, err := tx.Exec(ctx, "UPDATE types SET status = $1, deprecated = $2 WHERE kind = $3 AND domain = $4 AND name = $5 AND version = $6",
			status, nullMillis(deprecated), string(kind), domain, name, version)
		if err != nil {
			return fmt.Errorf("postgres: set %s type status: %w", kind, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: %s type %s/%s:%s: %w", kind, domain, name, version, swfd.ErrNotFound)
		}
		return nil
	})
}

// DeleteType removes a type.
func (db *DB) DeleteType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	// A transaction of its own (inTx), not one statement committed at
	// once: a statement sent on a connection that then fails may have
	// deleted the type, and sent again it would find nothing to delete.
	return db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM types WHERE kind = $1 AND domain = $2 AND name = $3 AND version = $4",
			string(kind), domain, name, version)
		if err != nil {
			return fmt.Errorf("postgres: delete %s type: %w", kind, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: %s type %s/%s:%s: %w", kind, domain, name, version, swfd.ErrNotFound)
		}
		return nil
	})
}

// ListTypes returns types of a kind and domain ordered by name then version.
// A Limit of 0 or less means no limit.
func (db *DB) ListTypes(ctx context.Context, kind swfd.TypeKind, domain string, q swfd.ListQuery) ([]swfd.TypeRecord, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	var sb strings.Builder
	var a args
	sb.WriteString("SELECT " + typeCols + " FROM types WHERE kind = " + a.add(string(kind)) + " AND domain = " + a.add(domain))
	if q.Status != "" {
		sb.WriteString(" AND status = " + a.add(q.Status))
	}
	if q.Name != "" {
		sb.WriteString(" AND name = " + a.add(q.Name))
	}
	if q.After != "" {
		name, version, _ := strings.Cut(q.After, "\x00")
		op := " > "
		if q.Reverse {
			op = " < "
		}
		sb.WriteString(" AND (name, version)" + op + "(" + a.add(name) + ", " + a.add(version) + ")")
	}
	if q.Reverse {
		sb.WriteString(" ORDER BY name DESC, version DESC")
	} else {
		sb.WriteString(" ORDER BY name, version")
	}
	if q.Limit > 0 {
		sb.WriteString(" LIMIT " + a.add(q.Limit))
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (swfd.TypeRecord, error) { return scanType(r) }, sb.String(), a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s types: %w", kind, err)
	}
	return out, nil
}

// Meta reads a server-wide value.
func (db *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	var v []byte
	err := db.scanRow(ctx, []any{&v}, "SELECT value FROM meta WHERE key = $1", key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: meta %q: %w", key, swfd.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: meta %q: %w", key, err)
	}
	return v, nil
}

// SetMetaIfAbsent writes a server-wide value unless it is set, and returns
// the value in force. Of nodes setting one key at once, one value wins and
// every node gets it back.
func (db *DB) SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	value = nonNil(value)
	if err := db.execAgain(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, value); err != nil {
		return nil, fmt.Errorf("postgres: set meta %q: %w", key, err)
	}
	// A statement of its own, so that at READ COMMITTED it sees the row
	// whichever transaction inserted it.
	var v []byte
	if err := db.scanRow(ctx, []any{&v}, "SELECT value FROM meta WHERE key = $1", key); err != nil {
		return nil, fmt.Errorf("postgres: set meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta writes a server-wide value, replacing the one set.
func (db *DB) SetMeta(ctx context.Context, key string, value []byte) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if err := db.execAgain(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, nonNil(value)); err != nil {
		return fmt.Errorf("postgres: set meta %q: %w", key, err)
	}
	return nil
}

// SetMetaMax writes a server-wide value unless the value set is greater,
// compared byte by byte (bytea's order). Of nodes writing one key at once,
// each update waits for the row lock and compares with the value the
// previous one committed, so the greatest stays.
func (db *DB) SetMetaMax(ctx context.Context, key string, value []byte) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if err := db.execAgain(ctx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE meta.value < excluded.value", key, nonNil(value)); err != nil {
		return fmt.Errorf("postgres: set meta %q to at least %q: %w", key, value, err)
	}
	return nil
}
