package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/swfd/swfd"
)

// Notifier sends and receives cluster wake-ups over PostgreSQL's
// LISTEN/NOTIFY: a node that commits work another node may be waiting for
// (a task for a task list polled elsewhere, an earlier timer) can tell the
// others at once instead of leaving them to their next poll.
//
// It is not part of swfd.Store, on purpose: notifications are hints that are
// lost while a listener is disconnected (and between nodes of databases
// without LISTEN/NOTIFY, such as CockroachDB), so a service using them must
// still poll, only less often. Get one from DB.Notifier, or use DB.Listen
// and DB.Notify, which are the same.
type Notifier struct {
	db *DB
	// How many Listen calls are under way, and how many of them are
	// connected and listening now.
	listening, connected atomic.Int32

	mu sync.Mutex
	// changed is closed, and replaced, when listening or connected
	// changes.
	changed chan struct{}
	// retry is closed, and replaced, to wake the listeners waiting to
	// reconnect (retryNow).
	retry chan struct{}
}

func newNotifier(db *DB) *Notifier {
	return &Notifier{db: db, changed: make(chan struct{}), retry: make(chan struct{})}
}

// Listening says how many Listen calls are under way and how many of them
// are connected now: news sent while one is not is lost to it.
func (n *Notifier) Listening() (listening, connected int) {
	return int(n.listening.Load()), int(n.connected.Load())
}

// count adds d to c (listening or connected) and wakes WaitConnected.
func (n *Notifier) count(c *atomic.Int32, d int32) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c.Add(d)
	close(n.changed)
	n.changed = make(chan struct{})
}

// ErrNotListening is WaitConnected's error when no Listen call is under
// way.
var ErrNotListening = errors.New("postgres: no listener")

// WaitConnected returns nil once every Listen call under way is connected
// and listening (at once if they are): ErrNotListening if none is under
// way, ctx's error if ctx is done first. A listener that lost its
// connection retries at once when the database is found answering again
// (a Ping that succeeds, a new connection of the pool), so this waits for
// one reconnection, a few milliseconds, rather than for its backoff.
func (n *Notifier) WaitConnected(ctx context.Context) error {
	for {
		n.mu.Lock()
		listening, connected, changed := n.listening.Load(), n.connected.Load(), n.changed
		n.mu.Unlock()
		switch {
		case listening == 0:
			return ErrNotListening
		case connected >= listening:
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// retryNow wakes the listeners waiting to reconnect, so that they try at
// once (though no sooner than listenRetryMin after their last try). It is
// called when the database is seen to answer, never on a failure, so
// listeners never try a database that is down more often than their
// backoff says; while every listener is connected it costs two atomic
// loads.
func (n *Notifier) retryNow() {
	if n.connected.Load() >= n.listening.Load() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.retry)
	n.retry = make(chan struct{})
}

// retrying returns the channel retryNow closes next.
func (n *Notifier) retrying() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.retry
}

// Listen and reconnect pacing.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// Notifier returns the store's Notifier.
func (db *DB) Notifier() *Notifier { return db.notifier }

// Listen is Notifier().Listen.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	return db.notifier.Listen(ctx, channel, fn)
}

// Notify is Notifier().Notify.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	return db.notifier.Notify(ctx, channel, payload)
}

// Listen listens on channel on a connection of its own (not one of the
// pool's) and calls fn with the payload of every notification sent to it,
// one at a time, in order, on Listen's goroutine; fn should return quickly.
// When the connection fails, Listen reconnects (backing off from 100ms to
// 5s, but at once, 100ms after its last try at the soonest, when the store
// finds the database answering again: a Ping that succeeds or a new
// connection of the pool) and listens again; notifications sent meanwhile
// are lost. Listen returns when ctx is done (with ctx's error) or the store
// is closed (with ErrClosed).
func (n *Notifier) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	return n.listen(ctx, channel, fn, false, nil)
}

// listen is Listen. A node's listener (node) holds the nodes' lock on its
// connection as well (holdNodeLock): it says a node serves the database.
// resumed, if not nil, is called each time the listener begins to listen
// on a new connection, before the first notification it delivers there.
func (n *Notifier) listen(ctx context.Context, channel string, fn func(payload string), node bool, resumed func()) error {
	db := n.db
	if channel == "" {
		return errors.New("postgres: listen: empty channel name")
	}
	db.lmu.Lock()
	if db.closed.Load() {
		db.lmu.Unlock()
		return ErrClosed
	}
	db.listeners.Add(1)
	db.lmu.Unlock()
	defer db.listeners.Done()
	n.count(&n.listening, 1)
	defer n.count(&n.listening, -1)

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-db.done:
			cancel()
		case <-lctx.Done():
		}
	}()

	// lost is set while this node listener has lost the serving nodes'
	// lock with its connection and not taken it again (DB.lockLost).
	var lost bool
	defer func() {
		if lost {
			db.nodeLost.Add(-1)
			db.lockChanged()
		}
	}()
	wait := listenRetryMin
	var atOnce time.Time // a node listener's last try made at once
	for {
		// Taken before the try: the database found answering during
		// it cuts the wait after it short.
		retry := n.retrying()
		connected, err := n.listenOnce(lctx, channel, fn, node, &lost, resumed)
		if lctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrClosed
		}
		if connected {
			wait = listenRetryMin
		}
		if connected && node && time.Since(atOnce) >= listenRetryMin {
			// No call of the node reaches the database until its
			// listener holds the serving nodes' lock again: the first try is at
			// once (at most one such try every listenRetryMin, so
			// that connections that fail as soon as they are made
			// are not tried in a loop).
			atOnce = time.Now()
			db.logger.Warn("postgres: listener disconnected; reconnecting", "channel", channel, "err", err, "retry_in", time.Duration(0))
			continue
		}
		db.logger.Warn("postgres: listener disconnected; reconnecting", "channel", channel, "err", err, "retry_in", wait)
		select {
		case <-time.After(listenRetryMin):
		case <-lctx.Done():
			continue // reported at the top of the loop
		}
		if wait > listenRetryMin {
			select {
			case <-time.After(wait - listenRetryMin):
			case <-retry:
				db.logger.Info("postgres: the database answers again; the listener reconnects now", "channel", channel)
			case <-lctx.Done():
				continue
			}
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce connects, listens (with node, takes the nodes' lock) and
// delivers notifications until the connection fails or ctx is done.
// connected reports whether it got as far as listening. With node, *lost
// says whether the listener lost the lock with a connection that failed
// and has not taken it again, and listenOnce keeps it and the store's
// counts (DB.lockLost) up to date. resumed, if not nil, is called once it
// listens (and holds the lock).
func (n *Notifier) listenOnce(ctx context.Context, channel string, fn func(string), node bool, lost *bool, resumed func()) (connected bool, err error) {
	db := n.db
	conn, err := db.connectHeld(ctx)
	if err != nil {
		return false, err
	}
	defer func() {
		pid := conn.PgConn().PID()
		conn.Close(context.Background())
		if node && ctx.Err() != nil {
			// A node that stops lets go of the serving nodes' lock only
			// as its session's process exits: swfd migrate started just
			// after would find it held (see awaitBackendGone).
			db.awaitBackendGone(pid)
		}
	}()
	if err := db.setUp(ctx, func(ctx context.Context) error {
		_, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
		return err
	}); err != nil {
		return false, err
	}
	if node {
		if err := db.holdNodeLock(ctx, conn); err != nil {
			return false, err
		}
		// Counted as holding before it stops counting as lost, so
		// that the store never looks lockless in between.
		db.nodeLocks.Add(1)
		if *lost {
			*lost = false
			db.nodeLost.Add(-1)
			db.lockChanged()
			db.logger.Info("postgres: the serving nodes' lock is taken again; this node serves calls again", "database", db.where)
		}
	}
	n.count(&n.connected, 1)
	defer n.count(&n.connected, -1)
	if resumed != nil {
		// Everything notified from now on reaches this connection:
		// what was notified before it listened is for the caller to
		// read from the data.
		resumed()
	}
	for {
		nt, err := db.waitNews(ctx, conn)
		if err != nil {
			if node {
				// The lock went with the connection. Unless the
				// listener was stopped, counted as lost before it
				// stops counting as holding, and before the
				// reconnection begins.
				if ctx.Err() == nil {
					*lost = true
					db.nodeLost.Add(1)
					db.logger.Warn("postgres: the node's listener lost its connection, and with it the serving nodes' lock: no call reaches the database until the listener has taken the lock again",
						"database", db.where, "err", err)
				}
				db.nodeLocks.Add(-1)
			}
			return true, err
		}
		if nt != nil && nt.Channel == channel {
			fn(nt.Payload)
		}
	}
}

// A listener's connection only receives: nothing tells it that the server
// went silent without closing it (its machine or network gone, a failover
// that moved the address), and its news is missed until the operating
// system's keepalives give up, minutes later (Go's defaults: 15 s idle,
// then 9 probes 15 s apart, 2.5 minutes), while the node still counts
// itself as holding the serving nodes' lock. So once a listener has heard
// nothing for listenQuiet it makes a round trip of its own (an empty
// statement), and a connection that does not answer it within
// listenProbeTimeout is given up as lost: the listener reconnects, as
// after any failure. A dead server is noticed within their sum of its
// last word, at the cost of one round trip per quiet interval. The round
// trips that set a listener's connection up (LISTEN, the serving nodes'
// lock) are bounded by listenProbeTimeout too (setUp), and its wait for
// that lock while swfd migrate holds it by both (awaitNodeLock).
const (
	defaultListenQuiet        = 10 * time.Second
	defaultListenProbeTimeout = 10 * time.Second
)

// errListenerSilent is the error of a listener whose probe of its
// connection went unanswered (waitNews), or a statement that sets its
// connection up (setUp), or its wait for the serving nodes' lock
// (awaitNodeLock).
var errListenerSilent = errors.New("postgres: the listener's connection did not answer its probe in time")

// waitNews waits on conn for the next notification, probing the connection
// whenever it has been quiet for db.listenQuiet. It returns a nil
// notification after a probe answered, and an error once the connection
// failed, a probe went unanswered or ctx is done.
func (db *DB) waitNews(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	if db.listenQuiet <= 0 {
		return conn.WaitForNotification(ctx)
	}
	wctx, cancel := context.WithTimeout(ctx, db.listenQuiet)
	nt, err := conn.WaitForNotification(wctx)
	cancel()
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed() {
		return nt, err
	}
	// Quiet: ask. Notifications arriving meanwhile are kept for the next
	// wait.
	pctx, cancel := context.WithTimeout(ctx, db.listenProbeTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		if pctx.Err() != nil {
			// The pool's idle connections most likely went silent with
			// this one: each would otherwise stay until a caller took it
			// and waited out its whole deadline on it (a call its 15 s,
			// a background loop its 30 s). Pinged now, together, those
			// that do not answer are closed, and the next callers open
			// new connections.
			go db.prune(context.Background())
			return nil, fmt.Errorf("%w (%s): %w", errListenerSilent, db.listenProbeTimeout, err)
		}
		return nil, err
	}
	return nil, nil
}

// setUp runs do, one round trip of a listener's that the server answers at
// once (setting its connection up), bounded as a probe is: a connection
// that does not answer within db.listenProbeTimeout is given up as lost
// (errListenerSilent), its listener reconnecting, where it would have been
// waited on as long as the operating system's keepalives allowed.
func (db *DB) setUp(ctx context.Context, do func(context.Context) error) error {
	if db.listenQuiet <= 0 {
		return do(ctx)
	}
	sctx, cancel := context.WithTimeout(ctx, db.listenProbeTimeout)
	defer cancel()
	err := do(sctx)
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		return fmt.Errorf("%w (%s): %w", errListenerSilent, db.listenProbeTimeout, err)
	}
	return err
}

// Notify sends payload to the listeners of channel, on every node connected
// to the database (the sender's own listeners included). It is delivered
// once Notify returns; a payload must be at most MaxNotifyPayload bytes.
func (n *Notifier) Notify(ctx context.Context, channel, payload string) error {
	if err := n.db.check(ctx); err != nil {
		return err
	}
	// Through the committers: sent with the next group of commits, if one
	// is going out, it costs no transaction of its own (group.go).
	if err := n.db.commits.notify(ctx, channel, payload); err != nil {
		return fmt.Errorf("postgres: notify %q: %w", channel, err)
	}
	return nil
}

// MaxNotifyPayload is the largest payload Notify carries, in bytes:
// PostgreSQL refuses a notification payload of 8000 bytes or more.
const MaxNotifyPayload = 7999

// newsChannel is the notification channel the nodes of a cluster share.
const newsChannel = "swfd_news"

// Broadcaster returns the swfd.Broadcaster that carries cluster news
// between the nodes sharing this database, over LISTEN/NOTIFY.
// It is a swfd.ResumingBroadcaster: its listener reconnects by itself
// after its connection is lost, and says when it listens again.
func (db *DB) Broadcaster() swfd.Broadcaster { return broadcaster{db} }

type broadcaster struct{ db *DB }

var _ swfd.ResumingBroadcaster = broadcaster{}

// The news channel is the database's, and every installation in a schema
// of the database (search_path) hears it: so a node says its schema first
// in each message it publishes that is a JSON object ({"sc":"SCHEMA",…}),
// and drops what a node of another schema said. News without the member
// (a node of an earlier release) is taken as the node's own installation's.
const newsSchemaKey = `{"sc":`

func (b broadcaster) Publish(ctx context.Context, msg []byte) error {
	tag := b.db.newsTag
	switch {
	case tag == "" || len(msg) < 2 || msg[0] != '{':
		return b.db.Notify(ctx, newsChannel, string(msg))
	case msg[1] == '}':
		return b.db.Notify(ctx, newsChannel, tag+string(msg[1:]))
	}
	return b.db.Notify(ctx, newsChannel, tag+","+string(msg[1:]))
}

// Subscribe listens as a node: its connection holds the nodes' lock, which
// tells swfd migrate that a node serves the database (DB.Exclude).
func (b broadcaster) Subscribe(ctx context.Context, fn func([]byte)) error {
	return b.SubscribeResumed(ctx, fn, nil)
}

// SubscribeResumed is Subscribe, and calls resumed each time the listener
// listens on a new connection (the first, and each after its connection
// was lost: the news sent in between was not heard), once it holds the
// nodes' lock again and before it delivers the first news there.
func (b broadcaster) SubscribeResumed(ctx context.Context, fn func([]byte), resumed func()) error {
	tag := b.db.newsTag
	return b.db.notifier.listen(ctx, newsChannel, func(p string) {
		if tag != "" && strings.HasPrefix(p, newsSchemaKey) && !ownSchema(p, tag) {
			return // another installation's node
		}
		fn([]byte(p))
	}, true, resumed)
}

// ownSchema reports whether news p begins with tag, the schema member of
// this node's news, as a whole member.
func ownSchema(p, tag string) bool {
	return strings.HasPrefix(p, tag) && len(p) > len(tag) && (p[len(tag)] == ',' || p[len(tag)] == '}')
}

// MaxMessage is what a notification holds less the schema member Publish
// adds.
func (b broadcaster) MaxMessage() int { return MaxNotifyPayload - len(b.db.newsTag) - 1 }

// newsTag is the member that begins the news of a node of schema, less
// the comma or brace that follows it.
func newsTag(schema string) string {
	b, _ := json.Marshal(schema) // a string always marshals
	return newsSchemaKey + string(b)
}
