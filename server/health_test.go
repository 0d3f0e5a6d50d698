package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	var logBuf syncBuffer
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
	} {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) lock() {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.String()
}
