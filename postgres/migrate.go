package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/internal/schema"
)

// migrationFiles are the schema migrations, named NNNN_description.sql and
// numbered from 1 without gaps. A released migration is never edited; a
// schema change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the first half of the advisory lock taken around
// migrations (the second is a hash of the schema migrated, so that swfd
// stores in different schemas of one database do not wait for each other).
const migrationLockKey = 0x73776664 // "swfd"

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

// migrate brings the schema up to date and returns the versions it found
// and left.
func (db *DB) migrate(ctx context.Context) (from, to int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, 0, err
	}
	return db.applyMigrations(ctx, ms)
}

// applyMigrations applies the migrations the schema lacks, all in one
// transaction that first takes a transaction-scoped advisory lock: of
// several nodes opening the database at once, one migrates and the others,
// waiting on the lock, then find the schema up to date. PostgreSQL's DDL is
// transactional, so a failed migration leaves the schema as it was. A wait
// for the lock longer than a second is logged (it is otherwise silent), and
// one that ctx ends (swfd stopped while it starts) says what it was waiting
// for, as does a migration ctx ends.
func (db *DB) applyMigrations(ctx context.Context, ms []migration) (from, to int, err error) {
	latest := ms[len(ms)-1].version
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			// Once ctx has ended the driver has closed the connection,
			// and the server rolls the transaction back with it: the
			// rollback's own failure says nothing more.
			if rerr := tx.Rollback(context.Background()); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) && ctx.Err() == nil {
				err = errors.Join(err, fmt.Errorf("migrate: rollback: %w", rerr))
			}
		}
	}()
	// Neither the wait for another node's migration nor a migration's own
	// statements (an index built over a large table) are cut short by a
	// statement_timeout or lock_timeout set on the role or the database:
	// a node would then fail to start, during an upgrade, because another
	// node was migrating, or never apply a slow migration at all.
	if _, err := tx.Exec(ctx, "SELECT set_config(name, '0', true) FROM pg_settings WHERE name = ANY($1)",
		[]string{"statement_timeout", "lock_timeout"}); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	slow := time.AfterFunc(time.Second, func() {
		db.logger.Warn("waiting for another swfd to finish migrating the schema (it holds the migration lock)", "database", db.where)
	})
	_, err = tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", int32(migrationLockKey))
	slow.Stop()
	if err != nil {
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("migrate: interrupted while waiting for another swfd to finish migrating the schema (it holds the migration lock): %w", ctx.Err())
		}
		return 0, 0, fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL PRIMARY KEY,
		applied BIGINT NOT NULL
	)`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&from); err != nil {
		return 0, 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if err := schema.Check(from, latest, false); err != nil {
		return from, from, err
	}
	for _, m := range ms[from:] {
		// No arguments: the simple protocol, which runs a file of
		// several statements.
		if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			if ctx.Err() != nil {
				return from, 0, fmt.Errorf("migrate: interrupted while applying %s (the schema stays at version %d: the migration's transaction is rolled back): %w", m.name, from, ctx.Err())
			}
			return from, 0, fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
			m.version, time.Now().UnixMilli()); err != nil {
			return from, 0, fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
		db.logger.Info("postgres schema migration applied", "migration", m.name, "version", m.version)
	}
	if err := tx.Commit(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return from, latest, nil
}

// checkSchema reads the version of the schema, changing nothing (no lock,
// no table created), and fails unless it is this swfd's: with ErrNoSchema
// when the connection's schema has no schema_version table.
func (db *DB) checkSchema(ctx context.Context) (int, error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	latest := ms[len(ms)-1].version
	var current *string
	var found bool
	if err := db.pool.QueryRow(ctx, `SELECT current_schema(), EXISTS (SELECT 1 FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = 'schema_version')`).Scan(&current, &found); err != nil {
		return 0, fmt.Errorf("read schema: %w", err)
	}
	if current == nil {
		return 0, fmt.Errorf("%w: no schema of the search_path exists", ErrNoSchema)
	}
	if !found {
		return 0, fmt.Errorf("%w: schema %q has no swfd tables (is it the right database, and search_path?)", ErrNoSchema, *current)
	}
	var version int
	if err := db.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return version, schema.Check(version, latest, true)
}
