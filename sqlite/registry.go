package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/stored"
)

// CreateDomain inserts d.
func (db *DB) CreateDomain(ctx context.Context, d swfd.Domain, maxDomains int) error {
	tags, err := stored.Tags(d.Tags)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return db.write(ctx, func(x *wtx) error {
		found, err := x.exists("SELECT 1 FROM domains WHERE name = ?", d.Name)
		if err != nil {
			return fmt.Errorf("sqlite: create domain %q: %w", d.Name, err)
		}
		if found {
			return fmt.Errorf("sqlite: domain %q: %w", d.Name, swfd.ErrAlreadyExists)
		}
		if maxDomains > 0 {
			var n int
			if err := x.queryRow("SELECT count(*) FROM domains").Scan(&n); err != nil {
				return fmt.Errorf("sqlite: create domain %q: %w", d.Name, err)
			}
			if n >= maxDomains {
				return fmt.Errorf("sqlite: create domain %q: %d domains exist: %w", d.Name, n, swfd.ErrLimitExceeded)
			}
		}
		desc, emptyDesc := stored.Description(d.Description)
		_, err = x.exec(`INSERT INTO domains (name, description, empty_description, status, retention, tags, created)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			d.Name, desc, emptyDesc, d.Status, d.RetentionDays, tags, d.Created.UnixMilli())
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("sqlite: domain %q: %w", d.Name, swfd.ErrAlreadyExists)
			}
			return fmt.Errorf("sqlite: create domain %q: %w", d.Name, err)
		}
		return nil
	})
}

const domainCols = "name, description, empty_description, status, retention, tags, created"

func scanDomain(s interface{ Scan(...any) error }) (swfd.Domain, error) {
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
		return d, fmt.Errorf("sqlite: domain %q: bad tags: %w", d.Name, err)
	}
	return d, nil
}

// GetDomain returns a domain or ErrNotFound.
func (db *DB) GetDomain(ctx context.Context, name string) (swfd.Domain, error) {
	var d swfd.Domain
	err := db.read(ctx, func(q querier) error {
		var err error
		d, err = scanDomain(q.QueryRowContext(ctx, "SELECT "+domainCols+" FROM domains WHERE name = ?", name))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("sqlite: domain %q: %w", name, swfd.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("sqlite: get domain %q: %w", name, err)
	}
	return d, nil
}

// SetDomainStatus changes a domain's status; deprecating it deprecates its
// registered types at the same instant.
func (db *DB) SetDomainStatus(ctx context.Context, name, status string, at time.Time) error {
	return db.write(ctx, func(x *wtx) error {
		n, err := x.execN("UPDATE domains SET status = ? WHERE name = ?", status, name)
		if err != nil {
			return fmt.Errorf("sqlite: set domain status %q: %w", name, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: domain %q: %w", name, swfd.ErrNotFound)
		}
		if status == swfd.StatusDeprecated {
			if _, err := x.exec("UPDATE types SET status = ?, deprecated = ? WHERE domain = ? AND status = ?",
				swfd.StatusDeprecated, at.UnixMilli(), name, swfd.StatusRegistered); err != nil {
				return fmt.Errorf("sqlite: deprecate types of domain %q: %w", name, err)
			}
		}
		return nil
	})
}

// UpdateDomainTags removes and upserts a domain's tags. The stored list is
// read and written in one write transaction, and the store has one writer
// at a time, so concurrent updates never overwrite each other.
func (db *DB) UpdateDomainTags(ctx context.Context, name string, add []swfd.Tag, remove []string, maxTags int) error {
	return db.write(ctx, func(x *wtx) error {
		var js string
		err := x.queryRow("SELECT tags FROM domains WHERE name = ?", name).Scan(&js)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: domain %q: %w", name, swfd.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: update domain tags %q: %w", name, err)
		}
		tags, err := stored.ReadTags(js)
		if err != nil {
			return fmt.Errorf("sqlite: domain %q: bad tags: %w", name, err)
		}
		tags = stored.UpdateTags(tags, add, remove)
		if maxTags > 0 && len(tags) > maxTags {
			return fmt.Errorf("sqlite: domain %q would have %d tags: %w", name, len(tags), swfd.ErrLimitExceeded)
		}
		if js, err = stored.Tags(tags); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if _, err := x.exec("UPDATE domains SET tags = ? WHERE name = ?", js, name); err != nil {
			return fmt.Errorf("sqlite: update domain tags %q: %w", name, err)
		}
		return nil
	})
}

// domainStatus reads a domain's status in a write transaction: ErrNotFound
// if there is no such domain.
func (x *wtx) domainStatus(name string) (string, error) {
	var status string
	err := x.queryRow("SELECT status FROM domains WHERE name = ?", name).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("domain %q: %w", name, swfd.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read domain %q: %w", name, err)
	}
	return status, nil
}

// checkDomainFor fails with ErrDeprecated when a write would leave a type
// of status typeStatus registered in a deprecated domain, and with
// ErrNotFound when the domain does not exist. It reads the domain in the write's transaction,
// so a SetDomainStatus is either before it or after the write, never
// between.
func (x *wtx) checkDomainFor(domain, typeStatus string) error {
	status, err := x.domainStatus(domain)
	if err != nil {
		return err
	}
	if typeStatus == swfd.StatusRegistered && status != swfd.StatusRegistered {
		return fmt.Errorf("domain %q: %w", domain, swfd.ErrDeprecated)
	}
	return nil
}

// ListDomains returns domains of q.Status in name order.
func (db *DB) ListDomains(ctx context.Context, q swfd.ListQuery) ([]swfd.Domain, error) {
	var sb strings.Builder
	var args []any
	sb.WriteString("SELECT " + domainCols + " FROM domains WHERE 1=1")
	if q.Status != "" {
		sb.WriteString(" AND status = ?")
		args = append(args, q.Status)
	}
	if q.After != "" {
		if q.Reverse {
			sb.WriteString(" AND name < ?")
		} else {
			sb.WriteString(" AND name > ?")
		}
		args = append(args, q.After)
	}
	if q.Reverse {
		sb.WriteString(" ORDER BY name DESC")
	} else {
		sb.WriteString(" ORDER BY name")
	}
	sb.WriteString(" LIMIT ?")
	args = append(args, sqlLimit(q.Limit))
	var out []swfd.Domain
	err := db.read(ctx, func(qr querier) error {
		rows, err := qr.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDomain(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list domains: %w", err)
	}
	return out, nil
}

// CreateType inserts t.
func (db *DB) CreateType(ctx context.Context, t swfd.TypeRecord, maxTypes int) error {
	return db.write(ctx, func(x *wtx) error {
		if err := x.checkDomainFor(t.Domain, t.Status); err != nil {
			return fmt.Errorf("sqlite: create %s type: %w", t.Kind, err)
		}
		found, err := x.exists("SELECT 1 FROM types WHERE kind = ? AND domain = ? AND name = ? AND version = ?",
			string(t.Kind), t.Domain, t.Name, t.Version)
		if err != nil {
			return fmt.Errorf("sqlite: create %s type: %w", t.Kind, err)
		}
		if found {
			return fmt.Errorf("sqlite: %s type %s/%s:%s: %w", t.Kind, t.Domain, t.Name, t.Version, swfd.ErrAlreadyExists)
		}
		if maxTypes > 0 {
			// type_counts holds the count, kept by triggers on types: one
			// row read, however many types the domain holds.
			var n int
			err := x.queryRow("SELECT n FROM type_counts WHERE kind = ? AND domain = ?", string(t.Kind), t.Domain).Scan(&n)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: create %s type: %w", t.Kind, err)
			}
			if n >= maxTypes {
				return fmt.Errorf("sqlite: create %s type in %q: %d exist: %w", t.Kind, t.Domain, n, swfd.ErrLimitExceeded)
			}
		}
		desc, emptyDesc := stored.Description(t.Description)
		_, err = x.exec(`INSERT INTO types (kind, domain, name, version, status, description, empty_description, created, deprecated, config)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(t.Kind), t.Domain, t.Name, t.Version, t.Status, desc, emptyDesc,
			t.Created.UnixMilli(), nullMillis(t.Deprecated), t.Config)
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("sqlite: %s type %s/%s:%s: %w", t.Kind, t.Domain, t.Name, t.Version, swfd.ErrAlreadyExists)
			}
			return fmt.Errorf("sqlite: create %s type: %w", t.Kind, err)
		}
		return nil
	})
}

const typeCols = "kind, domain, name, version, status, description, empty_description, created, deprecated, config"

func scanType(s interface{ Scan(...any) error }) (swfd.TypeRecord, error) {
	var t swfd.TypeRecord
	var kind string
	var created int64
	var deprecated sql.NullInt64
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
	var t swfd.TypeRecord
	err := db.read(ctx, func(q querier) error {
		var err error
		t, err = scanType(q.QueryRowContext(ctx, "SELECT "+typeCols+
			" FROM types WHERE kind = ? AND domain = ? AND name = ? AND version = ?",
			string(kind), domain, name, version))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("sqlite: %s type %s/%s:%s: %w", kind, domain, name, version, swfd.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: get %s type: %w", kind, err)
	}
	return t, nil
}

// SetTypeStatus changes a type's status and deprecation date; a type is
// undeprecated only while its domain is registered.
func (db *DB) SetTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string, deprecated time.Time) error {
	return db.write(ctx, func(x *wtx) error {
		if status == swfd.StatusRegistered {
			if err := x.checkDomainFor(domain, status); err != nil && !errors.Is(err, swfd.ErrNotFound) {
				return fmt.Errorf("sqlite: set %s type status: %w", kind, err)
			}
		}
		n, err := x.execN("UPDATE types SET status = ?, deprecated = ? WHERE kind = ? AND domain = ? AND name = ? AND version = ?",
			status, nullMillis(deprecated), string(kind), domain, name, version)
		if err != nil {
			return fmt.Errorf("sqlite: set %s type status: %w", kind, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: %s type %s/%s:%s: %w", kind, domain, name, version, swfd.ErrNotFound)
		}
		return nil
	})
}

// DeleteType removes a type.
func (db *DB) DeleteType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) error {
	return db.write(ctx, func(x *wtx) error {
		n, err := x.execN("DELETE FROM types WHERE kind = ? AND domain = ? AND name = ? AND version = ?",
			string(kind), domain, name, version)
		if err != nil {
			return fmt.Errorf("sqlite: delete %s type: %w", kind, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: %s type %s/%s:%s: %w", kind, domain, name, version, swfd.ErrNotFound)
		}
		return nil
	})
}

// ListTypes returns types of a kind and domain ordered by name then version.
func (db *DB) ListTypes(ctx context.Context, kind swfd.TypeKind, domain string, q swfd.ListQuery) ([]swfd.TypeRecord, error) {
	var sb strings.Builder
	args := []any{string(kind), domain}
	sb.WriteString("SELECT " + typeCols + " FROM types WHERE kind = ? AND domain = ?")
	if q.Status != "" {
		sb.WriteString(" AND status = ?")
		args = append(args, q.Status)
	}
	if q.Name != "" {
		sb.WriteString(" AND name = ?")
		args = append(args, q.Name)
	}
	if q.After != "" {
		name, version, _ := strings.Cut(q.After, "\x00")
		if q.Reverse {
			sb.WriteString(" AND (name, version) < (?, ?)")
		} else {
			sb.WriteString(" AND (name, version) > (?, ?)")
		}
		args = append(args, name, version)
	}
	if q.Reverse {
		sb.WriteString(" ORDER BY name DESC, version DESC")
	} else {
		sb.WriteString(" ORDER BY name, version")
	}
	sb.WriteString(" LIMIT ?")
	args = append(args, sqlLimit(q.Limit))
	var out []swfd.TypeRecord
	err := db.read(ctx, func(qr querier) error {
		rows, err := qr.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanType(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s types: %w", kind, err)
	}
	return out, nil
}

// Meta reads a server-wide value.
func (db *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := db.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: meta %q: %w", key, swfd.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: meta %q: %w", key, err)
	}
	return v, nil
}

// SetMetaIfAbsent writes a server-wide value unless it is set, and returns
// the value in force.
func (db *DB) SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error) {
	if value == nil {
		value = []byte{}
	}
	var v []byte
	err := db.write(ctx, func(x *wtx) error {
		if _, err := x.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, value); err != nil {
			return err
		}
		return x.queryRow("SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: set meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta writes a server-wide value, replacing the one set.
func (db *DB) SetMeta(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	err := db.write(ctx, func(x *wtx) error {
		_, err := x.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set meta %q: %w", key, err)
	}
	return nil
}

// SetMetaMax writes a server-wide value unless the value set is greater,
// compared byte by byte (SQLite compares BLOBs with memcmp, and every value
// is written as one).
func (db *DB) SetMetaMax(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	err := db.write(ctx, func(x *wtx) error {
		_, err := x.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE excluded.value > meta.value", key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set meta %q to at least %q: %w", key, value, err)
	}
	return nil
}

// sqlLimit turns a Go limit (0 or less: none) into SQLite's (-1: none).
func sqlLimit(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMillis(v.Int64)
}

// nullMillis stores a zero time as NULL.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}
