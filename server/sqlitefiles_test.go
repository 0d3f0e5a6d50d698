package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
)

// callAPI sends one SWF call to s and returns its status and body.
func callAPI(t *testing.T, s *Server, op, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// registerDomain registers a domain named name and returns the call's
// status and body.
func registerDomain(t *testing.T, s *Server, name string) (int, string) {
	t.Helper()
	return callAPI(t, s, "RegisterDomain", `{"name":"`+name+`","workflowExecutionRetentionPeriodInDays":"1"}`)
}

// openSQLiteServer opens and starts a server on a SQLite file in dir,
// with its log in a buffer, and waits until it is ready.
func openSQLiteServer(t *testing.T, dir string) (*Server, *logbuf.Buffer) {
	t.Helper()
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: "sqlite:" + filepath.Join(dir, "swfd.db"), Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	if code, body := probe(t, s, "/readyz"); code != 200 {
		t.Fatalf("readyz: %d %q", code, body)
	}
	return s, &logBuf
}

// The SQLite data directory is removed under a running server (the
// probe's rm -rf data/): /healthz and /readyz answer 503, and a call that
// writes is refused with a 503 ServiceUnavailable that names nothing
// internal, where before both probes said ok and the call was answered 200
// with its writes going into files that no longer had a name.
func TestHealthSeesTheSQLiteDirectoryRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, logBuf := openSQLiteServer(t, dir)
	if code, body := registerDomain(t, s, "before"); code != 200 {
		t.Fatalf("RegisterDomain: %d %s", code, body)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := probe(t, s, path); code != 503 || strings.Contains(body, dir) {
			t.Fatalf("%s with the data directory removed: %d %q", path, code, body)
		}
	}
	code, body := registerDomain(t, s, "after")
	if code != 503 || !strings.Contains(body, "ServiceUnavailable") || strings.Contains(body, dir) || strings.Contains(body, "sqlite") {
		t.Fatalf("RegisterDomain with the data directory removed: %d %s", code, body)
	}
	// A read is served from the files the store has open, or, when it
	// needs a read connection opened anew (which finds no database at the
	// path), refused like a write: never an internal error.
	if code, body := callAPI(t, s, "ListDomains", `{"registrationStatus":"REGISTERED"}`); !(code == 200 && strings.Contains(body, `"before"`)) &&
		!(code == 503 && strings.Contains(body, "ServiceUnavailable") && !strings.Contains(body, dir)) {
		t.Fatalf("ListDomains: %d %s", code, body)
	}
	// Other loops (timers, messages) may log their own errors first: wait
	// for the one that tells the operator what happened.
	waitUntil(t, "the error logged", func() bool { return strings.Contains(logBuf.String(), "is gone from where swfd opened it") })
	if out := logBuf.String(); !strings.Contains(out, dir+" of the database file") {
		t.Fatalf("log:\n%s", out)
	}
}

// The SQLite write-ahead log is removed under a running server (the
// probe's rm swfd.db-wal): /healthz and /readyz answer 503 and a call that
// writes is refused with a 503, where before both probes said ok and the
// call was acknowledged into a log that a crash would lose; the log says
// to restart, once what was acknowledged is in the database file.
func TestHealthSeesTheSQLiteWALRemoved(t *testing.T) {
	dir := t.TempDir()
	s, logBuf := openSQLiteServer(t, dir)
	if code, body := registerDomain(t, s, "before"); code != 200 {
		t.Fatalf("RegisterDomain: %d %s", code, body)
	}
	if err := os.Remove(filepath.Join(dir, "swfd.db-wal")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := probe(t, s, path); code != 503 {
			t.Fatalf("%s with the write-ahead log removed: %d %q", path, code, body)
		}
	}
	if code, body := registerDomain(t, s, "after"); code != 503 || !strings.Contains(body, "ServiceUnavailable") {
		t.Fatalf("RegisterDomain with the write-ahead log removed: %d %s", code, body)
	}
	// Other loops (timers, messages) may log their own errors first: wait
	// for the one that tells the operator what happened.
	waitUntil(t, "the error logged", func() bool { return strings.Contains(logBuf.String(), "is gone from where swfd opened it") })
	if out := logBuf.String(); !strings.Contains(out, "swfd.db-wal was removed") || !strings.Contains(out, `do="restart swfd"`) {
		t.Fatalf("log:\n%s", out)
	}
}

// The SQLite write-ahead log's index (the -shm file) is removed under a
// running server: /healthz and /readyz answer 503 and a call that writes
// is refused with a 503, where before both probes said ok and the server
// went on checkpointing under the reads of any other program (swfd backup)
// that opened the database afterwards with an index of its own; the log
// says to restart.
func TestHealthSeesTheSQLiteShmRemoved(t *testing.T) {
	dir := t.TempDir()
	s, logBuf := openSQLiteServer(t, dir)
	if code, body := registerDomain(t, s, "before"); code != 200 {
		t.Fatalf("RegisterDomain: %d %s", code, body)
	}
	if err := os.Remove(filepath.Join(dir, "swfd.db-shm")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := probe(t, s, path); code != 503 {
			t.Fatalf("%s with the -shm file removed: %d %q", path, code, body)
		}
	}
	if code, body := registerDomain(t, s, "after"); code != 503 || !strings.Contains(body, "ServiceUnavailable") {
		t.Fatalf("RegisterDomain with the -shm file removed: %d %s", code, body)
	}
	// A read is served from the files the store has open, or, when it
	// needs a read connection opened anew (which finds no database at the
	// path), refused like a write: never an internal error.
	if code, body := callAPI(t, s, "ListDomains", `{"registrationStatus":"REGISTERED"}`); !(code == 200 && strings.Contains(body, `"before"`)) &&
		!(code == 503 && strings.Contains(body, "ServiceUnavailable") && !strings.Contains(body, dir)) {
		t.Fatalf("ListDomains: %d %s", code, body)
	}
	waitUntil(t, "the error logged", func() bool { return strings.Contains(logBuf.String(), "is gone from where swfd opened it") })
	if out := logBuf.String(); !strings.Contains(out, "swfd.db-shm was removed") || !strings.Contains(out, `do="restart swfd`) {
		t.Fatalf("log:\n%s", out)
	}
}
