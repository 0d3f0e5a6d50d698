package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockHolders returns the server processes holding the advisory locks of
// the store's schema under key (the serving nodes' lock, a node's claim).
func lockHolders(t *testing.T, admin *pgx.Conn, key int32) []uint32 {
	t.Helper()
	var pids []uint32
	rows, err := admin.Query(context.Background(), `SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid::bigint = $1 AND objsubid = 2 ORDER BY pid`, int64(uint32(key)))
	if err != nil {
		t.Fatal(err)
	}
	if pids, err = pgx.CollectRows(rows, pgx.RowTo[uint32]); err != nil {
		t.Fatal(err)
	}
	return pids
}

// The sessions the store holds open while idle (a node's listener, which
// holds the serving nodes' lock, its claim, swfd migrate's exclusion)
// outlive an idle_session_timeout set on the database: the server ended
// them each time they sat idle that long, so an idle node lost its lock
// and its news over and over, its calls held up each time until the lock
// was taken again. A session opened after them with the database's
// setting is ended by it: once it is gone, they have been idle longer,
// and must still be the same sessions.
func TestHeldSessionsOutliveIdleSessionTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var version int
	if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skip("PostgreSQL before 14 has no idle_session_timeout")
	}
	if _, err := admin.Exec(ctx, `DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET idle_session_timeout = 300', current_database()); END$$`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SET idle_session_timeout = 0"); err != nil {
		t.Fatal(err)
	}

	db := open(t, dsn, nil)
	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	waitListening(t, db)
	release, err := db.ClaimNode(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	other := open(t, newSchema(t, dsn, "other"), nil)
	_, unexclude, err := other.Exclude(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unexclude()
	serving, claims := lockHolders(t, admin, servingLockKey), lockHolders(t, admin, nodeLockKey)
	if len(serving) != 2 || len(claims) != 1 {
		t.Fatalf("serving nodes' lock held by %v (want the listener and the exclusion), claims by %v (want one)", serving, claims)
	}

	idle, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close(ctx)
	pid := idle.PgConn().PID()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a session idle with idle_session_timeout 300ms still there after 30 s")
		}
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
	if got := lockHolders(t, admin, servingLockKey); !equalPIDs(got, serving) {
		t.Errorf("serving nodes' lock held by %v after an idle session timed out, want %v: the sessions holding it were ended", got, serving)
	}
	if got := lockHolders(t, admin, nodeLockKey); !equalPIDs(got, claims) {
		t.Errorf("claim held by %v after an idle session timed out, want %v: the session holding it was ended", got, claims)
	}
}

func equalPIDs(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A node started while swfd migrate holds the serving nodes' lock waits
// for it on its listener's session; a statement_timeout, lock_timeout or
// transaction_timeout set on the database does not cut that wait short.
// Before, it did: the listener reconnected and waited again, logging each
// time. A statement on another session with the database's settings, begun
// once the listener waits, is cancelled: by then the listener has waited
// longer, and must still be the same session, waiting; once the migrate
// lets go, it takes the lock.
func TestHeldWaitOutlivesStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		`DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET statement_timeout = 300', current_database()); END$$`,
		`DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET lock_timeout = 300', current_database()); END$$`,
		"SET statement_timeout = 0", "SET lock_timeout = 0",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db := open(t, dsn, nil)
	_, release, err := db.Exclude(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	waiting := func() []uint32 {
		t.Helper()
		rows, err := admin.Query(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid::bigint = $1`, int64(uint32(servingLockKey)))
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	deadline := time.Now().Add(30 * time.Second)
	var listener []uint32
	for listener = waiting(); len(listener) != 1; listener = waiting() {
		if time.Now().After(deadline) {
			t.Fatalf("the node's listener does not wait for the lock swfd migrate holds: waiting %v", listener)
		}
		time.Sleep(5 * time.Millisecond) // polling the condition
	}
	control, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close(ctx)
	if _, err := control.Exec(ctx, "SELECT pg_sleep(30)"); err == nil {
		t.Fatal("a statement with the database's statement_timeout (300ms) ran 30 s")
	}
	if got := waiting(); !equalPIDs(got, listener) {
		t.Fatalf("waiting for the serving nodes' lock: %v once a statement timed out, want the listener %v still waiting", got, listener)
	}
	release()
	if err := db.Notifier().WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
}

// A node that opens the database while another node migrates it waits for
// that migration, however long, whatever statement_timeout or lock_timeout
// the database sets; before, the wait was cancelled at the timeout and the
// node failed to start ("migrate: lock: canceling statement due to lock
// timeout"). Here the test holds the migration's lock, as a node applying
// a slow migration does, until a statement with the database's settings
// has timed out, then lets go.
func TestOpenWaitsForAMigrationPastStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	open(t, dsn, nil).Close() // migrated
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		`DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET statement_timeout = 300', current_database()); END$$`,
		`DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET lock_timeout = 300', current_database()); END$$`,
		"SET statement_timeout = 0", "SET lock_timeout = 0",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext(current_schema()))", int32(migrationLockKey)); err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		db, err := Open(ctx, dsn, nil)
		if err == nil {
			db.Close()
		}
		opened <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid::bigint = $1`,
			int64(uint32(migrationLockKey))).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		select {
		case err := <-opened:
			t.Fatalf("Open while another node migrates: %v, want it to wait", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("Open does not wait for the migration lock")
		}
		time.Sleep(5 * time.Millisecond) // polling the condition
	}
	control, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer control.Close(ctx)
	if _, err := control.Exec(ctx, "SELECT pg_sleep(30)"); err == nil {
		t.Fatal("a statement with the database's statement_timeout (300ms) ran 30 s")
	}
	select {
	case err := <-opened:
		t.Fatalf("Open while another node migrates, once a statement timed out: %v, want it still waiting", err)
	default:
	}
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_unlock($1, hashtext(current_schema()))", int32(migrationLockKey)); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("Open once the migration is over: %v", err)
	}
}

// The server probes the store's connections with TCP keepalives every few
// seconds once idle, and gives up on one whose data goes unacknowledged
// for a minute, pooled or held (listener, claim, exclusion), so that it
// ends the sessions of a node whose machine or network is gone within
// about a minute or two, where its defaults (two hours idle, some 15
// minutes of retransmissions, on Linux) kept them, with their places of
// max_connections and the locks of the held ones; a setting the
// connection string makes is kept. (Seen with a node in a network
// namespace whose link was taken down: its sessions were gone within 100
// s, an older node's all still there.)
func TestServerProbesTheStoresConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	settings := func(t *testing.T, q func(dest ...any) error) (idle, interval, count string) {
		t.Helper()
		if err := q(&idle, &interval, &count); err != nil {
			t.Fatal(err)
		}
		return idle, interval, count
	}
	const show = "SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count') || '/' || current_setting('tcp_user_timeout')"
	db := open(t, dsn, nil)
	if idle, interval, count := settings(t, func(dest ...any) error { return db.scanRow(ctx, dest, show) }); idle != "30" || interval != "10" || count != "3/60000" {
		t.Errorf("a pooled connection's keepalives: idle %s, interval %s, count/user timeout %s; want 30, 10, 3/60000", idle, interval, count)
	}
	held, err := db.connectHeld(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close(ctx)
	if idle, interval, count := settings(t, func(dest ...any) error { return held.QueryRow(ctx, show).Scan(dest...) }); idle != "30" || interval != "10" || count != "3/60000" {
		t.Errorf("a held connection's keepalives: idle %s, interval %s, count/user timeout %s; want 30, 10, 3/60000", idle, interval, count)
	}
	own := open(t, withParam(t, dsn, "tcp_keepalives_idle", "45"), nil)
	if idle, _, _ := settings(t, func(dest ...any) error { return own.scanRow(ctx, dest, show) }); idle != "45" {
		t.Errorf("keepalive idle set to 45 by the connection string: %s", idle)
	}
}
