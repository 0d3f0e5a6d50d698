package postgres

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// silentServer listens on a loopback port and accepts connections but never
// says anything on them, as a hung server (or a proxy in front of a dead
// one) does. It returns the address.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// A server that takes the connection and never answers: Open gives up once
// connect_timeout has passed, after logging that it is waiting, and its
// error names the server and the timeout. The password shows nowhere.
func TestOpenSilentServer(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)
	var logs logbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		db, err := Open(ctx, "postgres://postgres:s3cret@"+addr+"/x?connect_timeout=2", logger)
		if err == nil {
			db.Close()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Open still waiting for a silent server 30s after a connect_timeout of 2s")
	}
	if err == nil {
		t.Fatal("Open of a silent server succeeded")
	}
	for _, want := range []string{addr, "no answer", "within 2s", "connect_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "waiting for PostgreSQL") || !strings.Contains(out, addr) {
		t.Errorf("no warning that Open waits for %s; log:\n%s", addr, out)
	}
	if strings.Contains(err.Error()+out, "s3cret") {
		t.Errorf("the password shows: %v\n%s", err, out)
	}
}

// Every connection attempt is bounded, by 10 seconds when the connection
// string does not say (pgxpool alone would wait two minutes, and a
// listener's own connection for ever), by its connect_timeout when it does.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	for _, tc := range []struct {
		dsn  string
		want time.Duration
	}{
		{dsn, 10 * time.Second},
		{withParam(t, dsn, "connect_timeout", "3"), 3 * time.Second},
	} {
		db := open(t, tc.dsn, nil)
		if got := db.pool.Config().ConnConfig.ConnectTimeout; got != tc.want {
			t.Errorf("connect timeout %v, want %v", got, tc.want)
		}
		db.Close()
	}
}
