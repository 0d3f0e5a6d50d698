package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/pgtest"
)

func probe(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// /healthz and /readyz say ok or not, and nothing about the database:
// the reason goes to the log (with no password).
func TestHealthAnswersTellNoInternals(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	dsn = strings.Replace(dsn, "@", ":pw-not-for-logs@", 1)
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: dsn, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// Before Start nothing listens for the other nodes' news: not ready,
	// though healthy.
	if code, body := probe(t, s, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body := probe(t, s, "/readyz"); code != 503 || body != "not ready\n" {
		t.Fatalf("readyz before start: %d %q", code, body)
	}
	s.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := probe(t, s, "/readyz")
		if code == 200 && body == "ready\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %d %q", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store goes away.
	s.Close()
	for _, path := range []string{"/healthz", "/readyz"} {
		code, body := probe(t, s, path)
		if code != 503 || (body != "unavailable\n" && body != "not ready\n") {
			t.Fatalf("%s with the store closed: %d %q", path, code, body)
		}
	}
	if !strings.Contains(logBuf.String(), "not listening for the other nodes' news yet") || strings.Contains(logBuf.String(), "pw-not-for-logs") {
		t.Fatalf("log: %s", logBuf.String())
	}
}

// A database dropped and created again under its name holds no swfd
// schema: every call would fail, so neither probe says ok (the probe found
// both answering 200 here).
func TestHealthSeesTheSchemaGone(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: dsn, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	waitFor := func(path string, code int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, body := probe(t, s, path)
			if got == code {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d %q, want %d", path, got, body, code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("/readyz", 200)
	waitFor("/healthz", 200)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(name, "swfd_test_") {
		t.Fatalf("database %q is not the test's own", name)
	}
	u.Path = "/postgres" // only connected to, to drop and create the test's database
	conn, err := pgx.Connect(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{"DROP DATABASE " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The pool reconnects to the empty database: the probes must stay 503.
	waitFor("/readyz", 503)
	waitFor("/healthz", 503)
	for range 5 {
		for _, path := range []string{"/readyz", "/healthz"} {
			if code, body := probe(t, s, path); code != 503 {
				t.Fatalf("%s with no schema: %d %q", path, code, body)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logBuf.String(), "no swfd schema here") {
		t.Errorf("log does not say the schema is gone: %s", logBuf.String())
	}
}

// SQLite is ready at once; a server shutting down is not.
func TestReadyUntilShutdown(t *testing.T) {
	s, err := Open(context.Background(), Config{DB: "sqlite::memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	if code, body := probe(t, s, "/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("readyz: %d %q", code, body)
	}
	s.stopping.Store(true)
	if code, _ := probe(t, s, "/readyz"); code != 503 {
		t.Fatalf("readyz while stopping: %d", code)
	}
	if code, _ := probe(t, s, "/healthz"); code != 200 {
		t.Fatalf("healthz while stopping: %d", code)
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:./swfd-data/swfd.db":                          "sqlite:./swfd-data/swfd.db",
		"postgres://swfd:secret@db:5432/swfd?sslmode=require": "postgres://swfd:xxxxx@db:5432/swfd?sslmode=require",
		"postgresql://swfd@db/swfd?password=secret":           "postgresql://swfd@db/swfd?password=xxxxx",
		"postgres://swfd@db/swfd":                             "postgres://swfd@db/swfd",
		"postgres://swfd:secret@db:notaport/swfd":             "postgres://(not a valid URL; not shown)",
		// Every spelling of a password parameter a driver would read.
		"postgres://swfd@db/swfd?sslmode=disable&PassWord=secret&x=1": "postgres://swfd@db/swfd?sslmode=disable&PassWord=xxxxx&x=1",
		"postgres://swfd@db/swfd?sslpassword=secret":                  "postgres://swfd@db/swfd?sslpassword=xxxxx",
		"postgres://swfd@db/swfd?pass%77ord=secret":                   "postgres://swfd@db/swfd?pass%77ord=xxxxx",
		"postgres://swfd@db/swfd?password=secret%zz":                  "postgres://swfd@db/swfd?password=xxxxx",
		"postgres://swfd@db/swfd?x=1;password=secret":                 "postgres://swfd@db/swfd?x=xxxxx",
		"postgres://swfd@db/swfd?%zz=secret":                          "postgres://swfd@db/swfd?%zz=xxxxx",
		"postgres://swfd@db/swfd#secret":                              "postgres://swfd@db/swfd#xxxxx",
		// A password with characters a URL must encode: the URL's parts
		// cannot be told apart, so only its scheme is shown.
		"postgres://swfd:se/cret@db/swfd":   "postgres://(not a valid URL; not shown)",
		"postgres://swfd:12?secret@db/swfd": "postgres://(not a valid URL; not shown)",
		"postgres://swfd:12#secret@db/swfd": "postgres://(not a valid URL; not shown)",
		"postgres://swfd:sec@ret@db/swfd":   "postgres://swfd:xxxxx@db/swfd",
		"mysql://swfd:secret@db/swfd":       "mysql://swfd:xxxxx@db/swfd",
		// Not a URL: where the password is is not known.
		"host=db user=swfd password=secret dbname=swfd": "(not shown: not a URL)",
		"host=db password='se cret'":                    "(not shown: not a URL)",
		"swfd:secret@db/swfd":                           "(not shown: not a URL)",
		"1x://swfd:secret@db":                           "(not shown: not a URL)",
		"":                                              "(not shown: not a URL)",
	} {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// No error of OpenStore holds a password, whatever form the DSN takes.
func TestOpenStoreNeverPrintsPassword(t *testing.T) {
	for _, dsn := range []string{
		"host=127.0.0.1 user=postgres password=topsecret dbname=test",
		"host=x password=topsecret",
		"user:topsecret@127.0.0.1/db",
		"mysql://u:topsecret@127.0.0.1/db",
		"mysql://u@127.0.0.1/db?password=topsecret",
		"postgres://u:topsecret@127.0.0.1:notaport/db",
		"postgres://u:top/secret@127.0.0.1:1/db?connect_timeout=1",
		"postgres://u@127.0.0.1:1/db?connect_timeout=1&password=topsecret",
	} {
		st, err := OpenStore(context.Background(), dsn, nil)
		if err == nil {
			st.Close()
			t.Fatalf("OpenStore(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), "secret@") {
			t.Errorf("OpenStore(%q): the error shows the password: %v", dsn, err)
		}
	}
	_, err := OpenStore(context.Background(), "host=x password=topsecret", nil)
	if err == nil || !strings.Contains(err.Error(), "key=value connection string must be written as a URL") {
		t.Errorf("a key=value string: %v, want a hint to write it as a URL", err)
	}
}

// waitUntil waits until cond holds, for at most 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		<-tick.C
	}
}

// After a database outage (here a proxy between swfd and PostgreSQL that
// the test cuts and restores) /readyz answers ready as soon as the
// database answers again, though the listener for the other nodes' news
// was then waiting out a backoff of 1.6 s: the check that finds the
// database answering has it reconnect at once. (Before, /readyz stayed 503
// until the backoff ended, up to 5 s.) The failing checks during the
// outage do not make the listener try the database any more often.
func TestReadyAsSoonAsTheDatabaseAnswers(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: proxy.DSN(dsn), Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), MetricsOff: true, NoConsole: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	ready := func() bool { code, _ := probe(t, s, "/readyz"); return code == 200 }
	waitUntil(t, "/readyz to answer ready", ready)

	proxy.Cut()
	waitUntil(t, "/readyz to answer not ready", func() bool { return !ready() })
	// The listener has tried five times, and now waits 1.6 s.
	waitUntil(t, "the listener to back off for 1.6 s", func() bool { return strings.Contains(logBuf.String(), "retry_in=1.6s") })
	tries := func() int { return strings.Count(logBuf.String(), "listener disconnected; reconnecting") }
	before := tries()
	for range 10 {
		if ready() {
			t.Fatal("/readyz answered ready while the database is cut off")
		}
	}
	if after := tries(); after > before+1 {
		t.Errorf("the listener tried the database %d times during 10 failing readiness checks", after-before)
	}

	proxy.Restore()
	if code, body := probe(t, s, "/readyz"); code != 200 {
		t.Fatalf("the first /readyz once the database answers again: %d %q; log:\n%s", code, body, logBuf.String())
	}
}

// A node whose database takes no writes (a standby it still reaches after
// a failover) is not ready, so that a load balancer sends its calls to the
// nodes that can serve them, while /healthz, which a liveness probe may
// restart swfd on, stays ok: the database answers, and reads go on. Once
// the database takes writes again the node is ready, with no restart.
func TestNotReadyOnAReadOnlyDatabase(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: dsn, Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), MetricsOff: true, NoConsole: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	ready := func() bool { code, _ := probe(t, s, "/readyz"); return code == 200 }
	waitUntil(t, "/readyz to answer ready", ready)

	pgtest.SetReadOnly(t, dsn, true)
	defer pgtest.SetReadOnly(t, dsn, false) // so that the database can be dropped
	waitUntil(t, "/readyz to answer not ready on a read-only database", func() bool { return !ready() })
	if code, body := probe(t, s, "/healthz"); code != 200 {
		t.Errorf("/healthz on a read-only database: %d %q, want 200", code, body)
	}
	if !strings.Contains(logBuf.String(), "takes no writes") {
		t.Errorf("the log does not say why the node is not ready:\n%s", logBuf.String())
	}

	pgtest.SetReadOnly(t, dsn, false)
	waitUntil(t, "/readyz to answer ready once the database takes writes", ready)
}
