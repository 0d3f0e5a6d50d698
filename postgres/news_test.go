package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Two installations in two schemas of one database (search_path) are two
// clusters: a node hears the news of its own schema's nodes only. The
// notification channel is the database's, so without this a node counted
// the other installation's nodes alive, sent tasks to them first, and
// tried to start the tasks they scheduled. News from a node of a release
// that does not say its schema is still heard.
func TestNewsStaysInItsSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	dsnA, dsnB := newSchema(t, dsn, "inst_a"), newSchema(t, dsn, "inst_b")
	a1, a2, b := open(t, dsnA, nil), open(t, dsnA, nil), open(t, dsnB, nil)

	listen := func(db *DB) chan string {
		got := make(chan string, 16)
		nctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			db.Broadcaster().Subscribe(nctx, func(p []byte) { got <- string(p) })
		}()
		t.Cleanup(func() { stop(); <-done })
		waitListening(t, db)
		return got
	}
	gotA, gotB := listen(a1), listen(b)
	// next returns the next message got holds, which must name node.
	next := func(who string, got chan string, node string) {
		t.Helper()
		if m := <-got; !strings.Contains(m, `"n":"`+node+`"`) {
			t.Errorf("%s heard %s, want the news of node %s", who, m, node)
		}
	}

	// Notifications reach a listener in the order they were sent: each
	// installation's own news, sent after the other's, comes first.
	if err := b.Broadcaster().Publish(ctx, []byte(`{"n":"node-b"}`)); err != nil {
		t.Fatal(err)
	}
	if err := a2.Broadcaster().Publish(ctx, []byte(`{"n":"node-a","t":[{"domain":"shop"}]}`)); err != nil {
		t.Fatal(err)
	}
	next("inst_a's node", gotA, "node-a")
	next("inst_b's node", gotB, "node-b")
	if err := b.Broadcaster().Publish(ctx, []byte(`{"n":"node-b2"}`)); err != nil {
		t.Fatal(err)
	}
	next("inst_b's node", gotB, "node-b2")

	// An older release's node sends its news as it is.
	conn, err := pgx.Connect(ctx, dsnA)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", newsChannel, `{"n":"old"}`); err != nil {
		t.Fatal(err)
	}
	next("inst_a's node", gotA, "old")

	// A message as large as MaxMessage allows still fits a notification.
	big := `{"n":"node-a-big","x":"` + strings.Repeat("y", a2.Broadcaster().MaxMessage()-len(`{"n":"node-a-big","x":""}`)) + `"}`
	if err := a2.Broadcaster().Publish(ctx, []byte(big)); err != nil {
		t.Fatalf("a message of MaxMessage bytes: %v", err)
	}
	next("inst_a's node", gotA, "node-a-big")
}
