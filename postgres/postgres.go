// Package postgres is swfd's PostgreSQL storage driver: a swfd.Store kept in
// a PostgreSQL database that several swfd nodes may share.
//
// It owns the tables in the connection's schema (the first schema of its
// search_path, "public" by default) and everything in them: the schema and
// its numbered migrations (embedded in the binary and applied at Open under
// an advisory lock, so that nodes starting together migrate once), and the
// pool of connections through which every read and write is made.
//
// Every write is one transaction. Commit runs at READ COMMITTED and relies
// on row-level checks rather than on isolation: an update of a run is
// "UPDATE executions ... WHERE run_id = $1 AND version = $2" and fails with
// swfd.ErrConflict when no row matched (a concurrent writer that got there
// first holds the row lock until it commits, after which the version no
// longer matches); a new run that would be the second open run of its
// workflowId violates a unique partial index (swfd.ErrAlreadyExists); a
// delivered transfer that is already gone fails the batch with
// swfd.ErrConflict, so that two nodes cannot both deliver one message. The
// statements of one Commit are sent in one pipeline (one network round trip
// plus the COMMIT), and commits of one update each that arrive together
// share a transaction (group commit, see group.go). A step that has lost
// that race too often holds its run instead (HoldRun, see hold.go): it reads
// the run's row FOR NO KEY UPDATE, decides, and commits in that one
// transaction, while the other writers' updates of the run wait for the row
// lock; the hold waits for the row at most for the step's remaining time
// (lock_timeout). Registry writes order themselves with locks, so that none starves beside a stream of others:
// a domain's row, a type count's row, and for CreateDomain (which also runs
// at SERIALIZABLE, retried on serialization failures) the domains table.
//
// The driver is pgx (github.com/jackc/pgx/v5) with its pgxpool: a pure-Go
// driver that speaks the PostgreSQL protocol natively, so it can pipeline
// statements, encode arrays (the multi-row inserts use unnest), cache
// prepared statements per connection, and LISTEN on a dedicated connection,
// none of which database/sql exposes. Beyond swfd.Store, the package offers a
// Notifier (Listen/Notify) for cluster wake-ups; see notify.go.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/swfd/swfd"
)

// defaultMinConns is the least number of pooled connections when the
// connection string does not set pool_max_conns.
const defaultMinConns = 16

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("postgres: store is closed")

// DB is a swfd.Store kept in PostgreSQL. It is safe for concurrent use.
type DB struct {
	logger *slog.Logger
	pool   *pgxpool.Pool
	where  string // host/database, for logs and errors (no password)
	// version is the schema's version when the store was opened (after
	// migrating): Ping finds the database replaced when it is lower.
	version int

	closed    atomic.Bool
	closeOnce sync.Once
	// done is closed by Close; listeners stop when it is. lmu orders
	// listeners.Add before Close's Wait.
	done      chan struct{}
	lmu       sync.Mutex
	listeners sync.WaitGroup

	notifier *Notifier
	commits  *committer
	// newsTag is the member that says the schema in the cluster news this
	// node publishes, {"sc":"SCHEMA" (see broadcaster); set by Open.
	newsTag string
	// holdSlots bounds the runs held at once (HoldRun): a hold takes a
	// slot as it takes its connection, and gives both back together.
	holdSlots chan struct{}
	// holdsGranted and holdsRefused count the HoldRuns that held their run
	// and those that found holdSlots full (HoldStat).
	holdsGranted, holdsRefused atomic.Uint64

	// commitTimeout bounds a commit from taking its connection to its
	// answer, and settleTimeout the look at its data when that answer
	// never came (tests shorten them).
	commitTimeout time.Duration
	settleTimeout time.Duration
	// readTimeout bounds a read whose context has no deadline (readCtx).
	readTimeout time.Duration
	// listenQuiet and listenProbeTimeout pace a listener's probes of its
	// connection (waitNews) and bound its waits for the serving nodes'
	// lock (awaitNodeLock).
	listenQuiet, listenProbeTimeout time.Duration
	// migrateLockWait bounds each wait of Open's migration for a lock on
	// a table another session holds, and migrateReportEvery paces the log
	// lines that say what it waits for (migrate.go); migrations, if set,
	// replaces the embedded migrations (tests).
	migrateLockWait, migrateReportEvery time.Duration
	migrations                          []migration

	// fenced, once set (fence), is the error of every call that takes a
	// connection from the pool: the node lost its claim (ClaimNode).
	fenced atomic.Pointer[error]
	// identity is the region and account this node serves as, once
	// AgreeIdentity has accepted them: a claim taken again checks them
	// once more (keepClaim).
	identity atomic.Pointer[Identity]
	// unserved is set while a node's listener waits for the serving
	// nodes' lock, which swfd migrate holds (holdNodeLock): every call
	// that takes a connection from the pool fails then.
	unserved atomic.Bool
	// nodeLocks counts the node listeners' connections that hold the
	// serving nodes' lock now, and nodeLost the node listeners whose
	// connection failed and which have not taken the lock again: while
	// one has lost it and none holds it, swfd migrate may have taken it,
	// and no call reaches the database (lockLost, serveErr).
	nodeLocks, nodeLost atomic.Int32
	// lockCh is closed, and replaced, when the counts above, unserved or
	// fenced change (lockChanged); lockWait bounds a call's wait for the
	// lock, in nanoseconds (tests change it); lockWaiters counts the calls
	// waiting; lastProbe is when a waiting call last had the database
	// looked at (probeForLock).
	lockMu      sync.Mutex
	lockCh      chan struct{}
	lockWait    atomic.Int64
	lockWaiters atomic.Int32
	lastProbe   atomic.Int64
	// beforeReclaim, if set, runs before each try to take a lost claim
	// again, and beforeNodeLock before each try to take the serving
	// nodes' lock (tests).
	beforeReclaim  func()
	beforeNodeLock func()
	// handOutDead, if set, has the pool hand out idle connections
	// without looking whether their session has ended (idle.go), so that
	// tests reach the retries after a statement fails on one.
	handOutDead atomic.Bool
	// pingAll, if set, has the pool ping every connection it hands out,
	// as it pings one idle for more than a second (idle.go), so that tests
	// need not wait that second.
	pingAll atomic.Bool
}

// fence makes every call that takes a connection from the pool fail with
// err from now on (the calls under way finish).
func (db *DB) fence(err error) {
	db.fenced.CompareAndSwap(nil, &err)
	db.lockChanged()
}

// fenceErr is the error fence set, or errUnserved while the node waits for
// the serving nodes' lock, or nil. Each wraps swfd.ErrStorageUnavailable:
// nothing of the call is done, and the API answers a 503, which SDKs
// retry.
func (db *DB) fenceErr() error {
	if p := db.fenced.Load(); p != nil {
		return fmt.Errorf("%w: %w", *p, swfd.ErrStorageUnavailable)
	}
	if db.unserved.Load() {
		return fmt.Errorf("%w: %w", errUnserved, swfd.ErrStorageUnavailable)
	}
	return nil
}

var _ swfd.Store = (*DB)(nil)

// parseError is the error ParseConfig returned, without the connection
// string: pgconn quotes it with the passwords it recognises masked, but it
// cannot recognise every one in a string it could not parse. Only what is
// wrong with the string is kept.
func parseError(err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return fmt.Errorf("postgres: parse connection string: %w", err)
	}
	// The text is "cannot parse `STRING`: WHAT" or "… WHAT (WHY)".
	msg := pe.Error()
	i := strings.LastIndex(msg, "`: ")
	if i < 0 {
		return errors.New("postgres: the connection string does not parse")
	}
	return fmt.Errorf("postgres: parse connection string: %s", msg[i+len("`: "):])
}

// defaultConnectTimeout bounds each connection attempt (TCP, TLS and
// authentication) when the connection string does not set connect_timeout:
// a server that takes the connection and never answers would otherwise hold
// up start-up for pgxpool's two minutes, and a listener's reconnection for
// ever. A healthy server answers in milliseconds, a busy one in a second or
// two.
const defaultConnectTimeout = 10 * time.Second

// serverKeepalives are the server's TCP keepalive settings on the store's
// connections, each unless the connection string sets it: the server
// probes a connection idle for 30 s every 10 s, and ends its session after
// 3 probes unanswered, or once what it sent has gone unacknowledged for 60
// s (tcp_user_timeout: a listener is sent the other nodes' news, and a
// connection with data unacknowledged is retransmitted to, not probed,
// for some 15 minutes by Linux's defaults). A node whose machine or
// network is gone never closes its sessions; the server's defaults (the
// operating system's: two hours, on Linux) kept them that long: the pool's sessions each
// took a place of max_connections, so that a few nodes lost that way
// could leave no room for the live ones, and the listener's and the
// claim's kept their locks, so that swfd migrate was refused ("a swfd node
// is serving this database") and a node with a clock that moves could not
// start again elsewhere. With these the server ends them about a minute
// after the node is gone. A live node's connections answer probes from
// its operating system, whatever the node is doing.
var serverKeepalives = map[string]string{
	"tcp_keepalives_idle":     "30",
	"tcp_keepalives_interval": "10",
	"tcp_keepalives_count":    "3",
	"tcp_user_timeout":        "60000",
}

// defaultIdleInTransaction is idle_in_transaction_session_timeout on the
// store's connections when the connection string sets none. A session
// idle inside a transaction holds the row locks it took, and every other
// writer of those rows, on every node, waits for it: if swfd stops between
// the statements of a transaction and its COMMIT (SIGSTOP, a paused VM, a
// machine gone, its network silent), the server ends that session after
// this long, rolling the transaction back, instead of keeping the locks
// until TCP keepalives notice, hours later.
//
// No transaction of the store waits on anything between its statements
// but swfd's own code (the results of a pipeline are checked and the
// COMMIT follows; no transaction spans a network call, a client, or a
// lock of the process), so a live node's gaps are microseconds, or a
// scheduling delay on a machine that is overloaded: hundreds of
// milliseconds. Five seconds is far above that, and a timeout that fired
// on a node merely slow would cost a retry, not a wrong answer: the
// server reports it as a connection failure, after which the commit's
// data shows that it did not commit (outcome.go) and it is sent again.
const defaultIdleInTransaction = "5s"

// defaultCommitTimeout bounds one commit, from taking a connection (or its
// group's) to the answer of its COMMIT: a database that stops answering
// (a stalled server, a network that drops packets without closing
// connections) fails the commit rather than holding its call until the
// database answers again. Past the bound before the commit was sent,
// nothing was applied; after, the store closes the connection and learns
// from the data whether it committed, as after any connection failure
// (settle), so the answer is true either way.
const defaultCommitTimeout = 10 * time.Second

// defaultPingTimeout bounds the ping with which the pool checks a
// connection as it hands it out (one idle for more than a second, or one
// with something to read: idle.go), unless the connection string sets
// pool_ping_timeout. A connection whose server has gone silent (a network
// or machine gone, a failover that moved the address) answers nothing,
// and pgxpool, which sets no bound of its own, waited for as long as the
// caller's context allowed: a call's whole --call-timeout, a background
// loop's read timeout, the caller failing when the checkout had used its
// time up, though a new connection would have been answered at once. Past
// the bound the connection is closed and the pool takes or makes another.
// A live server answers a ping in milliseconds, a loaded one within a
// second; one slower than this loses the connection, which the pool makes
// again, and nothing else.
const defaultPingTimeout = 2 * time.Second

// Open connects to the database named by dsn (a URL or key=value string as
// libpq takes, plus pgxpool's pool_* settings) and brings its schema up to
// date. The pool keeps up to max(16, 2×GOMAXPROCS) connections unless the
// connection string sets pool_max_conns. Each connection attempt gives up
// after connect_timeout (from the connection string or PGCONNECT_TIMEOUT),
// 10 seconds if it sets none. Unless the connection string sets
// idle_in_transaction_session_timeout, the server ends a session that stays
// idle inside a transaction for 5 seconds (see defaultIdleInTransaction).
// The logger may be nil. It fails with ErrExcluded while swfd migrate
// copies out of or into the database (Exclude).
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	return openWith(ctx, dsn, logger, nil)
}

// openWith is Open, with tweak (if not nil) called on the store before it
// migrates (tests shorten the migration's lock waits).
func openWith(ctx context.Context, dsn string, logger *slog.Logger, tweak func(*DB)) (*DB, error) {
	db, err := connect(ctx, dsn, logger, false)
	if err != nil {
		return nil, err
	}
	if tweak != nil {
		tweak(db)
	}
	if err := db.checkSearchPath(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.where, err)
	}
	if err := db.checkNotExcluded(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.where, err)
	}
	from, to, err := db.migrate(ctx)
	if err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.where, err)
	}
	db.version = to
	var schema string
	if err := db.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: read the schema: %w", db.where, err)
	}
	db.newsTag = newsTag(schema)
	db.commits = newCommitter(db)
	db.logger.Info("postgres store open", "database", db.where, "schema_version", to, "migrated_from", from)
	return db, nil
}

// checkSearchPath fails when the connection's search_path names no schema
// that exists in the database: the store's tables and its locks (keyed by
// the schema's name) need one. Without the check Open failed as it took
// the nodes' lock, with "cannot scan NULL into *bool", which said nothing
// of the cause.
func (db *DB) checkSearchPath(ctx context.Context) error {
	var schema *string
	var path string
	if err := db.scanRow(ctx, []any{&schema, &path}, "SELECT current_schema(), current_setting('search_path')"); err != nil {
		return fmt.Errorf("read the schema: %w", err)
	}
	if schema == nil {
		return fmt.Errorf("%w (search_path is %s): create the schema, or set search_path in the connection string to one that exists", ErrNoSearchSchema, path)
	}
	return nil
}

// ErrNoSearchSchema is Open's error when the connection's search_path names
// no schema that exists in the database.
var ErrNoSearchSchema = errors.New("the connection's search_path names no schema that exists in the database")

// ErrNoSchema is OpenExisting's error for a database (or schema) without
// swfd's tables, and Ping's when they have gone since Open.
var ErrNoSchema = errors.New("no swfd schema here")

// OpenExisting opens an swfd database only to read it (swfd migrate's
// source): unlike Open it creates and migrates nothing, and its connections
// are read-only. It fails with an error wrapping ErrNoSchema when the
// connection's schema has no swfd tables, and says so when the schema is
// older or newer than this swfd's. The store's writes fail.
func OpenExisting(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	db, err := connect(ctx, dsn, logger, true)
	if err != nil {
		return nil, err
	}
	version, err := db.checkSchema(ctx)
	if err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.where, err)
	}
	db.version = version
	// swfd migrate reads its whole source, some of it in one read (every
	// timer, every pending task and message): unbounded, as the copy is
	// the operator's to interrupt, not a loop that must go on.
	db.readTimeout = 0
	db.commits = newCommitter(db)
	db.logger.Info("postgres store open to read", "database", db.where, "schema_version", version)
	return db, nil
}

// connect makes the pool and its first connection, so that a server that
// cannot be reached fails Open here, with an error that says so. With
// readOnly, every transaction of the pool's connections is read-only.
func connect(ctx context.Context, dsn string, logger *slog.Logger, readOnly bool) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dsn == "" {
		return nil, errors.New("postgres: empty connection string")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, parseError(err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// Commits spend most of their time waiting for the WAL flush,
		// which PostgreSQL shares among the transactions committing at
		// once: more connections than CPUs (pgxpool's default) let more
		// commits share each flush.
		cfg.MaxConns = int32(max(defaultMinConns, 2*runtime.GOMAXPROCS(0)))
	}
	if !strings.Contains(dsn, "pool_ping_timeout") {
		cfg.PingTimeout = defaultPingTimeout
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		// Every connection the pool or a listener makes, at start-up
		// or when reconnecting after the server came back.
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	// A commit that runs out of time has the server cancel its statement
	// and reads the answer (cancel.go).
	cfg.ConnConfig.BuildContextWatcherHandler = newCancelHandler
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = defaultIdleInTransaction
	}
	for k, v := range serverKeepalives {
		if _, ok := cfg.ConnConfig.RuntimeParams[k]; !ok {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	db := &DB{
		logger:        logger,
		where:         fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database),
		done:          make(chan struct{}),
		lockCh:        make(chan struct{}),
		commitTimeout: defaultCommitTimeout,
		settleTimeout: defaultSettleTimeout,
		readTimeout:   defaultReadTimeout,

		listenQuiet:        defaultListenQuiet,
		listenProbeTimeout: defaultListenProbeTimeout,
		migrateLockWait:    defaultMigrateLockWait,
		migrateReportEvery: defaultMigrateReportEvery,
	}
	db.lockWait.Store(int64(defaultLockWait))
	db.notifier = newNotifier(db)
	// A new connection of the pool is the database answering: listeners
	// waiting to reconnect (after an outage) try now, not at the end of
	// their backoff.
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		db.notifier.retryNow()
		return learnGroupLockWait(ctx, conn)
	}
	// A connection whose session the server ended while it sat idle is
	// not handed out (idle.go).
	cfg.ShouldPing = db.shouldPing
	// A node that lost its claim on the database serves no more calls
	// (ClaimNode): each fails as it takes its connection.
	// So does a node while it does not hold the serving nodes' lock
	// (serveErr).
	cfg.PrepareConn = func(ctx context.Context, _ *pgx.Conn) (bool, error) {
		return true, db.serveErr(ctx)
	}
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", db.where, err)
	}
	db.holdSlots = make(chan struct{}, maxHolds(int(cfg.MaxConns)))
	if err := db.firstConnection(ctx, cfg.ConnConfig); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db.where, err)
	}
	return db, nil
}

// firstConnection connects once. Should the server be slow to answer, it
// logs that it is waiting (a hung server is otherwise silent until the
// timeout); if the attempt times out, the error names the server and the
// timeout, and how to change it; if ctx ends first (swfd stopped while it
// starts), the error says what it was waiting for.
func (db *DB) firstConnection(ctx context.Context, cc *pgx.ConnConfig) error {
	addr := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	timeout := cc.ConnectTimeout
	slow := time.AfterFunc(min(time.Second, timeout/2), func() {
		db.logger.Warn("waiting for PostgreSQL to answer", "address", addr, "database", cc.Database, "connect_timeout", timeout)
	})
	defer slow.Stop()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() == nil && pgconn.Timeout(err) {
			return fmt.Errorf("no answer from PostgreSQL at %s within %s (connect_timeout=N in the connection string changes the timeout): %w", addr, timeout, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while waiting for PostgreSQL at %s to answer: %w", addr, ctx.Err())
		}
		return err
	}
	conn.Release()
	return nil
}

// PoolStat returns the connection pool's counts (for metrics).
func (db *DB) PoolStat() *pgxpool.Stat { return db.pool.Stat() }

// HoldStat are the counts of runs held (HoldRun) for metrics.
type HoldStat struct {
	Held, Max        int    // runs held now, and the most held at once (maxHolds)
	Granted, Refused uint64 // since Open: holds taken, and HoldRuns that found Max held and held nothing
}

// HoldStat returns the counts of runs held.
func (db *DB) HoldStat() HoldStat {
	return HoldStat{Held: len(db.holdSlots), Max: cap(db.holdSlots), Granted: db.holdsGranted.Load(), Refused: db.holdsRefused.Load()}
}

// ObserveGroups has fn told, for each transaction the group committer
// sends (a retry too), how many calls' updates it carries (for metrics).
func (db *DB) ObserveGroups(fn func(updates int)) { db.commits.observe.Store(&fn) }

// Ping reports whether the store is usable: the server answers, and the
// database still holds swfd's schema, at the version the store opened or a
// later one (another node may migrate it during a rolling upgrade). A
// database dropped and created again under the same name answers every
// call with "relation ... does not exist": Ping then fails with an error
// wrapping ErrNoSchema. A Ping that succeeds has the store's listeners
// that are waiting to reconnect try at once (see Listen). While a node's
// listener is taking the serving nodes' lock again after its connection
// failed, the store refuses every call but Ping, which only looks at the
// database (Notifier.WaitConnected says when the node serves again).
func (db *DB) Ping(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	var version int
	// While a node's listener takes the serving nodes' lock again, no
	// call reaches the database (serveErr), but Ping does: its success is
	// what tells the listener the database answers again.
	if err := db.scanRow(probe(ctx), []any{&version}, "SELECT coalesce(max(version), 0) FROM schema_version"); err != nil {
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == undefinedTable {
			return fmt.Errorf("postgres: ping: %w: %s has no schema_version table (was the database dropped and created again?)", ErrNoSchema, db.where)
		}
		return fmt.Errorf("postgres: ping: %w", err)
	}
	if version < db.version {
		return fmt.Errorf("postgres: ping: the schema of %s is at version %d, below the %d it had when swfd opened it (was the database replaced?)", db.where, version, db.version)
	}
	// The database answers: listeners that lost their connection try
	// again now (Notifier.WaitConnected).
	db.notifier.retryNow()
	return nil
}

// ErrReadOnly is WriteHealth's error for a database that takes no writes.
var ErrReadOnly = errors.New("the database takes no writes (a standby, or default_transaction_read_only is on)")

// WriteHealth reports whether writes can be expected to succeed: not while
// the server the pool's connections reach takes no writes. A hot standby
// (the connection string still naming a server that was demoted in a
// failover, or a host list that led to a replica) runs every transaction
// read-only, as does a session whose default_transaction_read_only is on;
// every write then fails (refused, ServiceUnavailable) while reads go on,
// and Ping alone would call the node ready. One read of the setting on a
// pooled connection, as Ping's.
func (db *DB) WriteHealth(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	var ro string
	if err := db.scanRow(probe(ctx), []any{&ro}, "SELECT current_setting('transaction_read_only')"); err != nil {
		return fmt.Errorf("postgres: write health: %w", err)
	}
	if ro == "on" {
		return fmt.Errorf("postgres: %s: %w", db.where, ErrReadOnly)
	}
	return nil
}

// undefinedTable is PostgreSQL's SQLSTATE for a table that does not exist.
const undefinedTable = "42P01"

// Close stops every listener and closes the pool, after the operations in
// progress have returned their connections.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.lmu.Lock()
		db.closed.Store(true)
		close(db.done)
		db.lmu.Unlock()
		db.listeners.Wait()
		db.commits.close()
		db.pool.Close()
		db.logger.Info("postgres store closed", "database", db.where)
	})
	return nil
}

func (db *DB) check(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if err := db.serveErr(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// SQLSTATE codes the driver maps.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"
	codeQueryCanceled        = "57014"
	codeReadOnlyTransaction  = "25006"
	codeDiskFull             = "53100"
	codeIOError              = "58030"
	// classInsufficientResources: disk_full, out_of_memory,
	// too_many_connections, configuration_limit_exceeded.
	classInsufficientResources = "53"
)

func pgCode(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

func isUnique(err error) bool {
	code, _ := pgCode(err)
	return code == codeUniqueViolation
}

// isLockTimeout reports whether err is a statement's lock_timeout: it
// waited too long for a lock another transaction holds.
func isLockTimeout(err error) bool {
	code, _ := pgCode(err)
	return code == codeLockNotAvailable
}

// isRetryable reports whether err aborted a transaction that may simply be
// tried again: a serialization failure (SERIALIZABLE transactions, and every
// transaction on CockroachDB) or a deadlock.
func isRetryable(err error) bool {
	code, _ := pgCode(err)
	return code == codeSerializationFailure || code == codeDeadlockDetected
}

// serializable runs fn in a SERIALIZABLE transaction (inTx), retrying it a
// few times when the database aborts it for a serialization failure. It is
// used for the registry's check-then-write operations (limits, existence),
// which must hold between nodes too.
func (db *DB) serializable(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, fn)
		if err == nil || !isRetryable(err) || attempt == 9 {
			return err
		}
		// Back off a little, with jitter from the clock, so that the
		// contenders do not meet again at once.
		d := time.Duration(attempt+1)*time.Millisecond + time.Duration(time.Now().UnixNano()%1000)*time.Microsecond
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
}

// locked runs fn in a READ COMMITTED transaction (inTx), for the registry
// writes that order themselves with row locks (SELECT … FOR UPDATE / FOR NO
// KEY UPDATE, or an UPDATE of the row first) rather than by SERIALIZABLE's
// checks: they wait for each other instead of failing, so they need no
// retry. A deadlock, which their lock order should rule out, is retried as
// serializable retries.
func (db *DB) locked(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
		if err == nil || !isRetryable(err) || attempt == 9 {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt+1) * time.Millisecond):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
}

// inTx runs fn in a transaction on a connection of the pool and commits
// it. The transaction's statements are fn's, which must change nothing
// outside the database.
//
// A connection failure before the COMMIT was sent (at BEGIN or at any of
// fn's statements) has applied nothing: the server rolls back a
// transaction whose session ends before it commits. The pool's idle
// connections are then pinged, the dead ones closed (prune), and the
// transaction is run once more, on another connection; should that fail
// too, the error wraps swfd.ErrStorageUnavailable. A connection failure,
// or the end of ctx, once the COMMIT may have reached the server is not
// retried (the write could apply twice): its error wraps
// errOutcomeUnknown.
func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err, committing := db.txOnce(ctx, opts, fn)
		switch {
		case err == nil:
			return nil
		case committing && (connFailed(err) || ctx.Err() != nil):
			// %v: the context's error must not read as "not applied".
			return fmt.Errorf("postgres: %w: the connection failed or the call ended once COMMIT was sent: %v", errOutcomeUnknown, err)
		case !connFailed(err):
			return unavailable(err)
		case attempt == 0 && ctx.Err() == nil && !db.closed.Load():
			db.logger.Info("postgres: a transaction's connection failed before its COMMIT was sent; trying once more", "err", err)
			db.prune(ctx)
			continue
		}
		return unavailable(err)
	}
}

// txOnce is one try of inTx. committing is true when the error came from
// the COMMIT.
func (db *DB) txOnce(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) (err error, committing bool) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err, false
	}
	// Release destroys a connection left inside a transaction or broken.
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, opts)
	if err != nil {
		return err, false
	}
	if err := fn(tx); err != nil {
		tx.Rollback(ctx)
		return err, false
	}
	if err := ctx.Err(); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err, false
	}
	// Whatever the COMMIT's error, it may have reached the server: pgconn
	// reports a simple query whose answer could not be read, sent or
	// not, as "conn closed", which it calls safe to retry.
	err = tx.Commit(ctx)
	return err, err != nil
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMillis(*v)
}

// nullMillis stores a zero time as NULL.
func nullMillis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
