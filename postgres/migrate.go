package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
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
	ms := db.migrations
	if ms == nil {
		var err error
		if ms, err = migrations(); err != nil {
			return 0, 0, err
		}
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
// for, as does a migration ctx ends. Once the migration lock is held, each
// wait for a table's lock is bounded by migrateLockWait and logged, naming
// the table and the session that holds it (watchLocks).
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
	// The migration's lock waits, though, are bounded: a table it reads
	// or changes that another session keeps locked (an operator's BEGIN;
	// LOCK TABLE … left open in psql, a client stuck in its transaction)
	// would otherwise hold the start up without end and without a word.
	// swfd's own transactions hold their locks for seconds at most, so
	// a wait past migrateLockWait is such a session: the migration fails,
	// nothing applied, naming the table and the session (watchLocks).
	if db.migrateLockWait > 0 {
		if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)",
			strconv.FormatInt(db.migrateLockWait.Milliseconds(), 10)); err != nil {
			return 0, 0, fmt.Errorf("migrate: %w", err)
		}
	}
	pid := tx.Conn().PgConn().PID()
	if err := db.watchLocks(ctx, pid, func() error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL PRIMARY KEY,
		applied BIGINT NOT NULL
	)`)
		return err
	}); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := db.watchLocks(ctx, pid, func() error {
		return tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&from)
	}); err != nil {
		return 0, 0, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if err := schema.Check(from, latest, false); err != nil {
		return from, from, err
	}
	for _, m := range ms[from:] {
		// No arguments: the simple protocol, which runs a file of
		// several statements.
		if err := db.watchLocks(ctx, pid, func() error {
			_, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol)
			return err
		}); err != nil {
			if ctx.Err() != nil {
				return from, 0, fmt.Errorf("migrate: interrupted while applying %s (the schema stays at version %d: the migration's transaction is rolled back): %w", m.name, from, ctx.Err())
			}
			return from, 0, fmt.Errorf("migrate: apply %s: %w", m.name, err)
		}
		if err := db.watchLocks(ctx, pid, func() error {
			_, err := tx.Exec(ctx, "INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
				m.version, time.Now().UnixMilli())
			return err
		}); err != nil {
			return from, 0, fmt.Errorf("migrate: record %s: %w", m.name, err)
		}
		db.logger.Info("postgres schema migration applied", "migration", m.name, "version", m.version)
	}
	if err := tx.Commit(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return from, latest, nil
}

// defaultMigrateLockWait bounds each wait of Open's migration for a lock
// another session holds on a table it reads or changes: far longer than
// any of swfd's own transactions holds one (a commit's 10 s), so that a
// migration during a rolling upgrade waits for the running nodes' writes,
// and short enough that a start held up by a forgotten session fails
// saying so. defaultMigrateReportEvery paces the log lines of such a wait.
const (
	defaultMigrateLockWait    = 30 * time.Second
	defaultMigrateReportEvery = 5 * time.Second
)

// lockHolder is what the migration found of a lock wait: the table (or
// kind of lock) its statement waits for, in which mode, and the session
// that holds it.
type lockHolder struct {
	what, mode                string
	pid                       int32
	user, app, from, state, q string
	inTx                      int64 // seconds since the holder's transaction began
}

func (h *lockHolder) String() string {
	return fmt.Sprintf("%s (%s wanted), held by the session of pid %d (user %q, application %q, from %s, %s, in its transaction for %ds, last statement %q)",
		h.what, h.mode, h.pid, h.user, h.app, h.from, h.state, h.inTx, h.q)
}

// watchLocks runs fn, a statement of the migration's transaction on the
// backend of pid, and looks from another connection at what that backend
// waits for: after a second, then every migrateReportEvery while it waits
// for a lock, it logs the table and the session holding it. When fn fails
// for the migration's lock_timeout (lock_not_available), the error says
// which table, which session, and what to do.
func (db *DB) watchLocks(ctx context.Context, pid uint32, fn func() error) error {
	every := db.migrateReportEvery
	first := min(time.Second, every)
	stop := make(chan struct{})
	watched := make(chan *lockHolder, 1)
	go func() {
		var last *lockHolder
		defer func() { watched <- last }()
		t := time.NewTimer(first)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if h := db.lockHolder(ctx, pid); h != nil {
				last = h
				db.logger.Warn("migrate: waiting for a lock another session holds; end that session's transaction, or swfd stops after the lock wait",
					"database", db.where, "lock", h.String(), "lock_wait", db.migrateLockWait)
			}
			t.Reset(every)
		}
	}()
	err := fn()
	close(stop)
	h := <-watched
	if err == nil || !isLockTimeout(err) {
		return err
	}
	if h == nil {
		return fmt.Errorf("waited %s (the migration's lock wait) for a lock another session holds on a table swfd's schema uses; find it with SELECT pid, state, query FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids(PID)) while swfd starts, end its transaction, and start swfd again (nothing was migrated): %w",
			db.migrateLockWait, err)
	}
	return fmt.Errorf("waited %s (the migration's lock wait) for a lock on %s; end that session's transaction (COMMIT or ROLLBACK in it, or SELECT pg_terminate_backend(%d)) and start swfd again (nothing was migrated): %w",
		db.migrateLockWait, h, h.pid, err)
}

// lockHolder says what the backend of pid waits for and who holds it, or
// nil when it waits for no lock (or the look fails: it is only a report).
func (db *DB) lockHolder(ctx context.Context, pid uint32) *lockHolder {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var h lockHolder
	err := db.pool.QueryRow(ctx, `SELECT coalesce(quote_ident(n.nspname) || '.' || quote_ident(c.relname), l.locktype), l.mode,
		b.pid, coalesce(b.usename, ''), coalesce(b.application_name, ''), coalesce(host(b.client_addr), 'a local socket'),
		coalesce(b.state, 'state unknown'), coalesce(extract(epoch FROM now() - b.xact_start)::bigint, 0), coalesce(left(b.query, 200), '')
		FROM pg_locks l
		LEFT JOIN pg_class c ON c.oid = l.relation
		LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL unnest(pg_blocking_pids(l.pid)) AS bp(pid)
		JOIN pg_stat_activity b ON b.pid = bp.pid
		WHERE l.pid = $1 AND NOT l.granted
		LIMIT 1`, int32(pid)).Scan(&h.what, &h.mode, &h.pid, &h.user, &h.app, &h.from, &h.state, &h.inTx, &h.q)
	if err != nil {
		return nil
	}
	if strings.Contains(h.what, ".") {
		h.what = "table " + h.what
	}
	return &h
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
