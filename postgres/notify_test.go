package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyUntil sends payload on channel every 20ms until got receives it (a
// listener that has not yet run LISTEN misses earlier notifications).
func notifyUntil(t *testing.T, n *Notifier, channel, payload string, got <-chan string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := n.Notify(context.Background(), channel, payload); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p == payload {
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatalf("payload %q on %q not received", payload, channel)
		}
	}
}

func TestListenNotify(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil) // two nodes
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 100)
	done := make(chan error, 1)
	const channel = "swfd wake-ups" // needs quoting
	go func() { done <- a.Listen(ctx, channel, func(p string) { got <- p }) }()

	// From the other node, then from the listener's own.
	notifyUntil(t, b.Notifier(), channel, "hello", got)
	notifyUntil(t, a.Notifier(), channel, "from self", got)
	// Notifications on other channels are not delivered.
	if err := b.Notify(context.Background(), "other", "nope"); err != nil {
		t.Fatal(err)
	}
	// In order, each once.
	for i := range 20 {
		if err := b.Notify(context.Background(), channel, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; {
		select {
		case p := <-got:
			if p == "hello" || p == "from self" {
				continue // repeats of the first round
			}
			if p != fmt.Sprint(i) {
				t.Fatalf("payload %d: got %q", i, p)
			}
			i++
		case <-time.After(10 * time.Second):
			t.Fatalf("payload %d not received", i)
		}
	}

	// The listener's connection dies: it reconnects and listens again.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	notifyUntil(t, b.Notifier(), channel, "after reconnect", got)

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Listen returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after its context was canceled")
	}
}

// TestListenClose: closing the store ends its listeners, and Close waits for
// them.
func TestListenClose(t *testing.T) {
	t.Parallel()
	db := open(t, newDatabase(t), nil)
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- db.Listen(context.Background(), "c", func(p string) { got <- p }) }()
	notifyUntil(t, db.Notifier(), "c", "up", got)
	if err := db.Listen(context.Background(), "", func(string) {}); err == nil {
		t.Fatal("Listen on an empty channel name succeeded")
	}
	db.Close()
	// Close waits for the listener to stop; Listen's return then reaches
	// this goroutine through the channel, which may take a moment.
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Listen returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Listen still running 2s after Close returned")
	}
}

// Listening counts the listeners under way and those connected now: one
// whose connection is ended by the server counts as not connected until
// it has reconnected.
func TestListeningCounts(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	n := db.Notifier()
	if l, c := n.Listening(); l != 0 || c != 0 {
		t.Fatalf("before: %d listening, %d connected", l, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- db.Listen(ctx, "c", func(p string) { got <- p }) }()
	notifyUntil(t, n, "c", "up", got)
	if l, c := n.Listening(); l != 1 || c != 1 {
		t.Fatalf("listening: %d listening, %d connected", l, c)
	}
	// End the listener's connection from another session.
	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	notifyUntil(t, n, "c", "again", got) // heard again: it reconnected
	if l, c := n.Listening(); l != 1 || c != 1 {
		t.Fatalf("reconnected: %d listening, %d connected", l, c)
	}
	cancel()
	<-done
	if l, c := n.Listening(); l != 0 || c != 0 {
		t.Fatalf("after: %d listening, %d connected", l, c)
	}
}
