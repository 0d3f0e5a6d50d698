package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/swfd/swfd/internal/schema"
)

// migrationFiles are the schema migrations, named NNNN_description.sql and
// numbered from 1 without gaps. A released migration is never edited; a
// schema change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	return loadMigrations(migrationFiles, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	loaded, err := schema.Load(fsys, dir)
	if err != nil {
		return nil, err
	}
	ms := make([]migration, len(loaded))
	for i, m := range loaded {
		ms[i] = migration{version: m.Version, name: m.Name, sql: m.SQL}
	}
	return ms, nil
}

// migrate brings the schema up to date in one transaction and returns the
// versions it found and left.
func migrate(ctx context.Context, conn *sql.Conn, logger *slog.Logger) (from, to int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, 0, err
	}
	return applyMigrations(ctx, conn, logger, ms)
}

func applyMigrations(ctx context.Context, conn *sql.Conn, logger *slog.Logger, ms []migration) (from, to int, err error) {
	latest := ms[len(ms)-1].version
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, 0, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			if _, rerr := conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("migrate: rollback: %w", rerr))
			}
		}
	}()
	if err := refuseOthersDatabase(ctx, conn); err != nil {
		return 0, 0, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL PRIMARY KEY,
		applied INTEGER NOT NULL
	)`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&from); err != nil {
		return 0, 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if err := schema.Check(from, latest, false); err != nil {
		return from, from, err
	}
	for _, m := range ms[from:] {
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return from, 0, fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
			m.version, time.Now().UnixMilli()); err != nil {
			return from, 0, fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
		logger.Info("sqlite schema migration applied", "migration", m.name, "version", m.version)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return from, 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return from, latest, nil
}

// refuseOthersDatabase fails with ErrNotSwfd, naming one of its tables (or
// other objects), if the database has no swfd schema but holds something
// else: another program's database, which a --db naming the wrong file
// would have swfd add its tables to and serve. swfd makes its schema only
// in an empty database.
func refuseOthersDatabase(ctx context.Context, conn *sql.Conn) error {
	var versioned int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").Scan(&versioned); err != nil {
		return fmt.Errorf("migrate: read schema: %w", err)
	}
	if versioned > 0 {
		return nil
	}
	var kind, name string
	err := conn.QueryRowContext(ctx, `SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY type <> 'table', name LIMIT 1`).Scan(&kind, &name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("migrate: read schema: %w", err)
	}
	return fmt.Errorf("%w, but it is not empty: it holds another program's data (%s %q): swfd makes its schema only in a new or empty database; is that the right file?", ErrNotSwfd, kind, name)
}

// checkSchema reads the version of an existing database's schema, changing
// nothing, and fails unless it is this swfd's: with ErrNotSwfd when the
// database has no schema_version table, and with an error that says what to
// do when the schema is older or newer.
func checkSchema(ctx context.Context, conn *sql.Conn) (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	latest := ms[len(ms)-1].version
	var tables int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").Scan(&tables); err != nil {
		return 0, fmt.Errorf("read schema: %w", err)
	}
	if tables == 0 {
		return 0, ErrNotSwfd
	}
	var version int
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, schema.Check(version, latest, true)
}
