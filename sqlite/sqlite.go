// Package sqlite is swfd's embedded storage driver: a swfd.Store kept in one
// SQLite database file (or in memory, for tests and throwaway servers).
//
// It owns the database file and everything in it: the schema and its
// numbered migrations (embedded in the binary and applied at Open), the
// single writer connection through which every change is made, and a pool of
// read connections. One store at a time has a file open: Open takes an
// flock of it and fails with ErrInUse while another store, in this process
// or another, holds it, and with ErrOpenElsewhere while another program
// holds SQLite's own locks on it (an swfd of a release before the flock,
// which would otherwise serve the file alongside this one).
//
// Writes are group-committed. Every write (a Commit, a registry change, a
// purge) is queued to one writer goroutine, which applies it in an open
// SQLite transaction together with every write that arrives until the disk
// is free, then commits. A second goroutine, the syncer, fdatasyncs the
// write-ahead log and only then answers the group's writers, while the
// writer already gathers the next group: an acknowledged write survives a
// crash of the process or of the machine (as with synchronous=FULL), one
// fsync serves every write that arrived while the previous one ran, and the
// writer never idles waiting for the disk. With GOMAXPROCS=1 the syncer
// flushes through Linux's asynchronous I/O (package flush), parked while the
// disk works instead of holding a thread and the Go scheduler's only share,
// which a plain fdatasync held, stalling every other goroutine for each
// flush. Elsewhere, or where the kernel refuses that, it calls fdatasync. A write that fails (say, on a
// version conflict) leaves no trace and does not disturb the others. A
// write waits for the writer no longer than its caller's context allows:
// one the writer has not begun to apply when the context ends (held behind
// a checkpoint, or another program's write lock) fails with the context's
// error and is never applied; one it has begun to apply is seen to its
// end, and its caller told the outcome. Reads run on their own connections
// and, thanks to WAL, do not wait for the writer, but for a moment when it
// truncates the write-ahead log (below).
//
// One consequence of syncing after the commit: for the moment of one fsync
// a reader may see a group that is committed but not yet durable, so a
// crash of the machine (not of the process) in that moment loses writes that
// someone may have read, though never one that was acknowledged.
//
// The write-ahead log stays bounded under a steady load of reads and
// writes. SQLite copies it back into the database file every 8,000 pages
// and starts it again from its beginning, but only at a moment no reader is
// using it, which a steady stream of reads never leaves. So once the log
// passes 64 MB the writer truncates it itself: it copies what the readers
// allow, then holds the store's new reads back until those in progress have
// ended (0.1 s at most), copies the rest, empties the log and lets the
// reads go on. Reads wait for that moment once per truncation, milliseconds
// as a rule. A reader outside the store (swfd backup, which keeps one
// snapshot for its whole copy) is not held back: while it reads, the
// truncation gives up at once and is tried again further and further
// apart, and the log grows until that reader is done.
//
// The store checks every second, and at each Ping, that the database file
// and its write-ahead log at its path are still the files it has open.
// Once one is not (removed, alone or with its directory, renamed,
// replaced), what the store acknowledges goes into a file that has no name
// and vanishes when the server stops or crashes: the store refuses every
// write from then on (swfd.ErrStorageUnavailable), Ping fails, and the
// store copies its write-ahead log into the database file it has open and
// logs once, at error level, what to do. With only the log gone, that puts
// everything acknowledged in the database file at the path, and a restart
// carries on from it; with the database file gone, the log line says how
// to copy it out of the running server. The log's index (the -shm file) is
// watched too: with it gone, nothing acknowledged is lost, but another
// program that opens the database (swfd backup) would use an index of its
// own that the store does not see, so the store refuses writes as well
// and logs that swfd must be restarted.
//
// In memory (":memory:"), one connection serves writer and readers, and the
// database lives in SQLite's memdb VFS without its 1 GiB cap (package
// internal/memvfs) rather than in SQLite's ":memory:", whose commits cost
// more the larger the database grows.
//
// The driver is modernc.org/sqlite, SQLite translated to pure Go: it needs no
// cgo and no C toolchain, so `go run ./cmd/swfd` and cross-compilation work
// everywhere Go does.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/cfgfile"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/sqlite/internal/diskio"
	"github.com/swfd/swfd/sqlite/internal/flush"
	"github.com/swfd/swfd/sqlite/internal/memvfs"
)

// busyTimeoutMS is how long a connection waits for a lock held by another
// process (e.g. a backup tool) before failing with SQLITE_BUSY. (A
// variable so that a test can wait less.)
var busyTimeoutMS = 10000

// connPragmas sets the page cache and memory map of every read connection.
// Pages come from the operating system's page cache through the memory map,
// so a private cache larger than SQLite's default (2 MB) only saves copies;
// 16 MB holds the upper levels and hot leaves of the indexes that
// visibility queries read.
const connPragmas = "&_pragma=cache_size(-16384)&_pragma=mmap_size(4294967296)"

// writerPragmas sets the writer connection's page cache and memory map.
//
// The writer's cache is kept small because SQLite walks all of it at the end
// of most write transactions. When a b-tree split hands out its new pages
// in a different order, SQLite renumbers them through a spare page number
// past any real page (the lock-byte page's, 262,145 with 4 KiB pages), and
// the cache remembers that number as its highest; at the commit, dropping
// the pages past the end of the database then has to look in every slot of
// the cache's hash table instead of the few past the end. A step's splits
// (the last leaf of an index, a run's events) do that in about half of the
// commits. With a 16 MB cache (4,096 pages) the walk cost 3% of the server's
// CPU; with 2 MB, a fourth of that, and the writer's working set (the
// upper levels and last leaves of the indexes it appends to, the leaves of
// the runs in progress: a few hundred pages) still fits. A page it does not
// hold comes from the memory map, or from the WAL when its newest copy is
// there (see BENCHMARKS.md).
const writerPragmas = writerCache + "&_pragma=mmap_size(4294967296)"

// writerCache is the writer's page cache (see writerPragmas).
const writerCache = "&_pragma=cache_size(-2048)"

// memoryPragmas sets the page cache of the in-memory store's one
// connection: the writer's, for the writer's reason (see writerPragmas). Its
// database has no memory map (SQLite can move it as it grows), so a page the
// cache does not hold is copied from it.
const memoryPragmas = writerCache

// checkpointPages is how many pages the write-ahead log grows by before the
// writer copies them back into the database file (SQLite's automatic
// checkpoint, run at the end of the commit that crosses it; SQLite's default
// is 1,000). A checkpoint writes each page once however often the log holds
// it, and most of a workflow's pages (the last leaf of each index, the
// events of runs in progress) are written many times over a few seconds: at
// 8,000 pages a checkpoint copies a tenth of the frames the log took where
// at 1,000 it copied a seventh, and the writer stops for a checkpoint's two
// syncs an eighth as often (see BENCHMARKS.md). The log then holds up to 33
// MB (8,000 pages of 4 KiB and their frame headers), about half of
// walLimit, so that trimWAL's truncation stays the exception it is meant to
// be: a log restarted from its beginning is overwritten in place, and the
// sync of a write that does not grow the file need not journal its new size.
const checkpointPages = 8000

// How many lines a second the writer's failures may write to the log, after
// a burst of writeLineBurst (DB.writeLines).
const (
	writeLinesPerSecond = 2
	writeLineBurst      = 10
)

// maxGroup bounds how many queued writes one transaction takes.
const maxGroup = 256

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("sqlite: store is closed")

// errNoOwnerLock is lockOwner's error when the system or the file system
// cannot lock the file: the store then opens without the guard. Its text
// (noOwnerLock, beside each system's lockOwner) names the lock that
// system's lockOwner takes.
var errNoOwnerLock = errors.New(noOwnerLock)

// ErrInUse is Open's error when another store (another swfd, or swfd-seed)
// already has the database file open: a SQLite database serves one server
// at a time, since each server keeps the task lists and timers of the runs
// it writes in its own memory. Several nodes share a PostgreSQL database
// instead.
var ErrInUse = errors.New("the database is in use by another swfd (one server per SQLite file; several nodes share a PostgreSQL database)")

// ErrOpenElsewhere is Open's, OpenExisting's and Restore's error when a
// program other than a store has the database open with SQLite (an swfd of
// a release before the owner's lock, the sqlite3 shell, a backup tool): it
// holds SQLite's own locks on the database file or on its WAL index.
var ErrOpenElsewhere = errors.New("the database is open in another program that uses SQLite")

// ErrNotSwfd is OpenExisting's error for a file that is not an swfd
// database: another program's SQLite database, or an empty file; and
// Ping's when the schema's tables have gone since Open.
var ErrNotSwfd = errors.New("not an swfd database (it has no swfd schema)")

// DB is a swfd.Store kept in SQLite. It is safe for concurrent use.
type DB struct {
	logger *slog.Logger
	// writeLines logs the writer's failures (a commit that found the disk
	// full, say), a few lines a second at most with a count of those left
	// out: on a full disk every commit fails.
	writeLines *lograte.Limiter
	path       string
	mem        bool
	// readOnly: opened by OpenExisting, every connection query-only.
	readOnly bool
	// version is the schema's version when the store was opened (after
	// migrating): Ping finds the database replaced when it is lower.
	version int

	wdb   *sql.DB   // the writer's database handle: one connection
	wconn *sql.Conn // the writer connection, held for the life of DB
	// wmu guards wconn. The writer goroutine holds it for a group; in
	// memory mode readers hold it too, since they share the one connection.
	wmu   sync.Mutex
	stmts map[string]writerStmt // prepared on wconn's driver connection; guarded by wmu
	rows  rowHints              // what the writer knows of open runs' rows (see rowHints); guarded by wmu

	rdb   *sql.DB // read connections (nil in memory mode)
	reads readStmts
	// gate holds the read pool's new reads back while the writer truncates
	// the write-ahead log (trimWAL); every read of the pool passes it.
	gate *readGate

	queue      chan *writeReq
	syncq      chan *committed // from the writer to the syncer
	syncIdle   chan struct{}   // the writer's token to commit: the syncer is free
	stop       chan struct{}
	writerDone chan struct{}
	syncerDone chan struct{}
	// trimDefer and trimFailures space out trimWAL's tries while a reader
	// keeps the WAL from being truncated (see trimWAL); the writer
	// goroutine alone uses them.
	trimDefer, trimFailures int
	failed                  atomic.Pointer[error] // a failed WAL sync: no more writes
	full                    atomic.Bool           // the last write found the disk full
	// writesFail is the error of the last write when it failed for a
	// reason other than a full disk that meets the next writes too
	// (failsTheNextWrites: an I/O error, another program's write lock);
	// nil once one succeeds.
	writesFail atomic.Pointer[error]
	// WriteHealth's writes while writesFail is set (tryWrite).
	probeMu sync.Mutex
	probing bool
	probed  time.Time

	// owner holds the lock that keeps a second store off the file
	// (lockOwner); nil in memory.
	owner *os.File
	// The WAL file, opened at Open for the syncer's fdatasync.
	wal *os.File
	// flusher syncs the WAL where the kernel offers asynchronous
	// fdatasync (see syncWAL); nil where it does not, or once it failed.
	// Only the syncer uses it, and Close closes it after the syncer has
	// stopped.
	flusher *flush.Flusher
	// asyncSyncs counts the syncs made through flusher.
	asyncSyncs atomic.Int64
	// dbFile and walFile are the database file and the write-ahead log
	// the store opened at path: watch compares the paths with them (nil
	// in memory and read-only). shmFile is the log's index (the -shm
	// file), when there was one to watch.
	dbFile, walFile, shmFile os.FileInfo
	// gone is set once the file at path is no longer the store's
	// (checkFiles): writes are refused from then on.
	gone        atomic.Pointer[filesGone]
	kick        chan struct{} // wakes watch
	watcherDone chan struct{} // nil when there is no watch
	closeOnce   sync.Once
	closed      atomic.Bool
	closeErr    error

	// purgeEvents bounds the events one PurgeClosed deletes
	// (purgeEventBudget; tests lower it).
	purgeEvents int64

	// Group commit counters, for tests and benchmarks.
	groups  atomic.Int64
	batches atomic.Int64

	// What metrics are told (ObserveGroups, ObserveSyncs); nil: nothing.
	observeGroup atomic.Pointer[func(writes int)]
	observeSync  atomic.Pointer[func(d time.Duration)]
}

// ObserveGroups has fn told, for each group the writer commits, how many
// writes it carries (for metrics).
func (db *DB) ObserveGroups(fn func(writes int)) { db.observeGroup.Store(&fn) }

// ObserveSyncs has fn told how long each sync of the write-ahead log to
// the disk took (for metrics). An in-memory store never syncs.
func (db *DB) ObserveSyncs(fn func(d time.Duration)) { db.observeSync.Store(&fn) }

var _ swfd.Store = (*DB)(nil)

// Open opens (creating if needed) the database at dsn, a file path or
// ":memory:", and brings its schema up to date. The logger may be nil. A
// path through symbolic links is resolved once, here: the store opens,
// watches and keeps its -wal beside the file the links name. It fails with
// ErrInUse while another store has the file open, and with ErrOpenElsewhere
// while another program holds SQLite's locks on it.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	return openDB(ctx, dsn, false, logger)
}

// OpenExisting opens the swfd database at path only to read it (swfd
// migrate's source): it neither creates the file nor changes its schema,
// and the store's writes fail. Its error wraps fs.ErrNotExist when there is
// no file at path, ErrNotSwfd when the file is not an swfd database (another
// program's, or an empty file), and says so when its schema is older or
// newer than this swfd's. Like Open, it fails with ErrInUse while another
// store has the file open, and with ErrOpenElsewhere while another program
// holds SQLite's locks on it.
func OpenExisting(ctx context.Context, path string, logger *slog.Logger) (*DB, error) {
	if path == ":memory:" {
		return nil, fmt.Errorf("sqlite: %s: %w (an in-memory database starts empty)", path, ErrNotSwfd)
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	// Before SQLite, which would create it.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return openDB(ctx, path, true, logger)
}

func openDB(ctx context.Context, dsn string, readOnly bool, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dsn == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dsn != ":memory:" {
		real, err := resolvePath(dsn)
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
		}
		// Resolving also cleans the path ("./swfd-data/swfd.db", swfd's
		// default, becomes "swfd-data/swfd.db"): only a path that names
		// another file than its clean self went through a link.
		if real != filepath.Clean(dsn) {
			logger.Info("sqlite: the database path leads through a symbolic link; using the file it names", "path", dsn, "file", real)
		}
		dsn = real
		// Only a regular file is a database. A terminal (a slip such as
		// --db sqlite:/dev/pts/3) opened for reading and writing, as
		// SQLite opens a database, would become the controlling terminal
		// of a swfd that has none (a daemon's): a hang-up there would send
		// it SIGHUP, a ^C typed there SIGINT. A device, a named pipe or a
		// directory is refused before anything opens it, saying what it
		// is; swfd's own opens of the path are O_NOCTTY too, for a path
		// swapped after this look.
		if fi, err := os.Stat(dsn); err == nil {
			if err := cfgfile.Regular("database file", dsn, fi); err != nil {
				return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
			}
		}
	}
	db := &DB{
		logger:     logger,
		writeLines: lograte.New(logger, writeLinesPerSecond, writeLineBurst, nil),
		path:       dsn,
		mem:        dsn == ":memory:",
		readOnly:   readOnly,
		stmts:      make(map[string]writerStmt),
		queue:      make(chan *writeReq),
		syncq:      make(chan *committed, 1),
		syncIdle:   make(chan struct{}, 1),
		stop:       make(chan struct{}),
		writerDone: make(chan struct{}),
		syncerDone: make(chan struct{}),
		kick:       make(chan struct{}, 1),
		gate:       newReadGate(),
	}
	if err := db.open(ctx); err != nil {
		if db.wal != nil {
			db.wal.Close()
		}
		db.closeHandles()
		return nil, err
	}
	db.syncIdle <- struct{}{}
	if db.wal != nil && !db.readOnly {
		db.openFlusher()
	}
	go db.writer()
	go db.syncer()
	if db.dbFile != nil {
		db.watcherDone = make(chan struct{})
		go db.watch()
	}
	return db, nil
}

func (db *DB) open(ctx context.Context) error {
	var wdsn, rdsn string
	var err error
	if db.mem {
		// One connection serves writer and readers alike: an in-memory
		// database is its connection's own. It is kept through memvfs,
		// not as SQLite's ":memory:", whose commits cost more the larger
		// the database grows (see package memvfs), with its rollback
		// journal in memory and the writer's page cache.
		if err := memvfs.Register(); err != nil {
			return db.openErr(err)
		}
		wdsn = fmt.Sprintf("file:swfd?vfs=%s&_busy_timeout=%d&_pragma=journal_mode(MEMORY)%s",
			memvfs.Name, busyTimeoutMS, memoryPragmas)
	} else {
		if err := diskio.Register(); err != nil {
			return db.openErr(err)
		}
		if !db.readOnly {
			// A new database is created readable by its owner only: it
			// holds the key that signs task tokens. SQLite gives the WAL
			// and its index (-wal, -shm) the database file's mode.
			_, statErr := os.Stat(db.path)
			f, err := os.OpenFile(db.path, os.O_RDWR|os.O_CREATE|syscall.O_NOCTTY, 0o600)
			if err != nil {
				return db.openErr(createCause(db.path, notThere(statErr), err))
			}
			f.Close()
		}
		if db.owner, err = lockOwner(db.path); errors.Is(err, errNoOwnerLock) {
			db.logger.Warn("sqlite: cannot lock the database file; make sure no other swfd uses it", "path", db.path, "err", err)
		} else if err != nil {
			return db.openErr(err)
		}
		// A program that has the file open with SQLite but not the
		// owner's lock holds SQLite's own: an swfd of a release before
		// that lock, which would serve the file alongside this one, or
		// the sqlite3 shell. The locks are released at once: they only
		// tell whether someone else holds them.
		release, err := lockSQLite(db.path)
		if err != nil {
			return db.openErr(fmt.Errorf("%w (an swfd of a release without the owner's lock, the sqlite3 shell, a backup tool): stop it first", err))
		}
		release()
		// A restore killed while it replaced the file may have removed
		// its log: serving it would silently serve an older state.
		if err := interruptedRestore(db.path); err != nil {
			return db.openErr(err)
		}
		if !db.readOnly {
			// The copies of restores that were killed earlier.
			removeStale(stale(filepath.Dir(db.path), filepath.Base(db.path), restoreInfix), db.logger)
		}
		uri := "file:" + escapePath(db.path)
		params := fmt.Sprintf("vfs=%s&_busy_timeout=%d", diskio.Name, busyTimeoutMS)
		wdsn = uri + "?" + params + "&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=0" + writerPragmas
		if db.readOnly {
			// Not even the journal mode: a file that is not swfd's
			// must be left as it was.
			wdsn = uri + "?" + params + "&_query_only=1&_foreign_keys=0" + writerPragmas
		}
		rdsn = uri + "?" + params + "&_query_only=1&_foreign_keys=0" + connPragmas
	}
	db.wdb, err = sql.Open("sqlite", wdsn)
	if err != nil {
		return db.openErr(err)
	}
	db.wdb.SetMaxOpenConns(1)
	db.wdb.SetMaxIdleConns(1)
	db.wdb.SetConnMaxLifetime(0)
	db.wdb.SetConnMaxIdleTime(0)
	db.wconn, err = db.wdb.Conn(ctx)
	if err != nil {
		return db.openErr(err)
	}
	var version int // the schema's, when read-only
	if db.readOnly {
		if version, err = checkSchema(ctx, db.wconn); err != nil {
			if isFull(err) {
				return db.openErr(err)
			}
			return fmt.Errorf("sqlite: %s: %w", db.path, err)
		}
	}
	if !db.mem {
		var mode string
		if err := db.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return db.openErr(err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("sqlite: open %s: journal_mode is %q, want wal", db.path, mode)
		}
	}
	if !db.mem {
		// Only the writer commits, so only it checkpoints.
		if _, err := db.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", checkpointPages)); err != nil {
			return db.openErr(err)
		}
	}
	from, to := version, version // read-only: checkSchema found it current
	if !db.readOnly {
		if from, to, err = migrate(ctx, db.wconn, db.logger); err != nil {
			return db.openErr(err)
		}
	}
	db.version = to
	if !db.mem {
		db.rdb, err = sql.Open("sqlite", rdsn)
		if err != nil {
			return db.openErr(err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		db.reads.db = db.rdb
		db.rdb.SetMaxOpenConns(n)
		db.rdb.SetMaxIdleConns(n)
		if err := db.rdb.PingContext(ctx); err != nil {
			return db.openErr(err)
		}
		if !db.readOnly {
			if err := db.noteFiles(); err != nil {
				return db.openErr(err)
			}
		}
	}
	db.logger.Info("sqlite store open", "path", db.path, "schema_version", to, "migrated_from", from)
	return nil
}

// escapePath makes a file path safe inside a "file:" URI.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Ping reports whether the store is usable: the database file and its
// write-ahead log at its path are still the ones it opened (an error wrapping
// swfd.ErrStorageUnavailable once it is not), the database answers and
// still holds swfd's schema, at the version the store opened or a later
// one; an error wrapping ErrNotSwfd when its schema_version table is gone.
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if db.dbFile != nil {
		if g := db.checkFiles(); g != nil {
			return g.err
		}
	}
	return db.read(ctx, func(q querier) error {
		var tables int
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").Scan(&tables); err != nil {
			return fmt.Errorf("sqlite: ping: %w", err)
		}
		if tables == 0 {
			return fmt.Errorf("sqlite: ping: %s: %w", db.path, ErrNotSwfd)
		}
		var version int
		if err := q.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
			return fmt.Errorf("sqlite: ping: %w", err)
		}
		if version < db.version {
			return fmt.Errorf("sqlite: ping: %s: the schema is at version %d, below the %d it had when swfd opened it", db.path, version, db.version)
		}
		return nil
	})
}

// Close stops the writer, after it has finished the group in progress, and
// closes every connection. Writes still queued fail with ErrClosed.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closed.Store(true)
		close(db.stop)
		<-db.writerDone
		<-db.syncerDone
		if db.watcherDone != nil {
			<-db.watcherDone
		}
		if db.flusher != nil {
			db.flusher.Close()
		}
		if db.wal != nil {
			db.wal.Close()
		}
		db.wmu.Lock()
		if db.wconn != nil && !db.readOnly && db.gone.Load() == nil {
			// Recommended before closing: refreshes the planner's
			// statistics where they have drifted. Cheap when they have not.
			if _, err := db.wconn.ExecContext(context.Background(), "PRAGMA optimize"); err != nil {
				db.logger.Debug("sqlite: pragma optimize", "err", err)
			}
		}
		db.wmu.Unlock()
		db.closeErr = db.closeHandles()
		db.logger.Info("sqlite store closed", "path", db.path)
	})
	return db.closeErr
}

func (db *DB) closeHandles() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var errs []error
	if db.wconn != nil && len(db.stmts) > 0 {
		// The statements belong to the driver connection: close them
		// where database/sql lets it be used.
		err := db.wconn.Raw(func(any) error {
			for _, st := range db.stmts {
				errs = append(errs, st.Close())
			}
			return nil
		})
		errs = append(errs, err)
	}
	db.stmts = nil
	if db.wconn != nil {
		errs = append(errs, db.wconn.Close())
	}
	if db.wdb != nil {
		errs = append(errs, db.wdb.Close())
	}
	if db.rdb != nil {
		db.reads.close()
		errs = append(errs, db.rdb.Close())
	}
	if db.owner != nil {
		// Last, once SQLite's connections are closed (see lockOwner).
		errs = append(errs, db.owner.Close())
		db.owner = nil
	}
	return errors.Join(errs...)
}

// querier is what reads need of a connection or pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read runs fn with a read connection: the pool, or in memory mode the one
// shared connection (held for the duration of fn). A read of the pool waits
// while the writer truncates the write-ahead log (see trimWAL), a moment
// bounded by trimWait and one checkpoint, or until ctx is done.
func (db *DB) read(ctx context.Context, fn func(q querier) error) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.mem {
		db.wmu.Lock()
		defer db.wmu.Unlock()
		if db.stmts == nil { // closed meanwhile
			return ErrClosed
		}
		return fn(db.wconn)
	}
	if err := db.gate.enter(ctx); err != nil {
		return err
	}
	err := db.pooled(fn)
	var se *sqlite.Error
	// A store opened read-only (OpenExisting) recorded no files to compare
	// the path with: every file would look replaced.
	if err != nil && errors.As(err, &se) && db.dbFile != nil {
		// A read that fails in SQLite once the files at the path are gone
		// (a read connection opened anew finds no database there) is the
		// storage being unavailable, as it is for writes, not an internal
		// error.
		if g := db.checkFiles(); g != nil {
			return fmt.Errorf("sqlite: a read failed: %s while swfd had it open: %w: %w", g.what, swfd.ErrStorageUnavailable, err)
		}
	}
	return err
}

// pooled runs fn on the read pool, for a read that passed the gate.
func (db *DB) pooled(fn func(q querier) error) error {
	defer db.gate.leave()
	return fn(&db.reads)
}

// readStmts is the querier of the read pool: it prepares each distinct
// query once (database/sql then keeps it prepared on every pool connection
// that runs it), so hot reads are not parsed again on every call. It keeps
// maxReadStmts of them: queries are built from a fixed set of shapes, but
// the visibility queries' filters, time bounds, pages and orders make
// hundreds; a query past the bound runs unprepared, its statement made and
// closed with it.
type readStmts struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxReadStmts bounds the prepared statements readStmts keeps.
const maxReadStmts = 512

// stmt returns query's prepared statement, or nil when maxReadStmts others
// are kept already.
func (r *readStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.stmts[query]; ok {
		return st, nil
	}
	if len(r.stmts) >= maxReadStmts {
		// A statement prepared and not kept would never be closed:
		// database/sql holds every statement until it is, and each
		// connection that ran it keeps its own copy.
		return nil, nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if r.stmts == nil {
		r.stmts = map[string]*sql.Stmt{}
	}
	r.stmts[query] = st
	return st, nil
}

func (r *readStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (r *readStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := r.stmt(ctx, query)
	if err != nil || st == nil {
		// Unprepared; a failed prepare is reported through the Row.
		return r.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (r *readStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.stmts {
		st.Close()
	}
	r.stmts = nil
}

// isUnique reports whether err is a violation of a UNIQUE constraint or
// index or of a PRIMARY KEY: a row with the same key exists. Other
// constraint failures (NOT NULL, CHECK, FOREIGN KEY, a trigger's RAISE) are
// not: they mean swfd wrote a row it should not have, an internal error.
// The driver turns extended result codes on, so Code is one.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code()
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
