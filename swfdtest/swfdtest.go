// Package swfdtest runs swfd inside a Go test: the whole server — the SWF
// engine, its HTTP API and an in-memory store — on a free loopback port,
// stopped when the test ends, with a clock the test moves.
//
//	func TestOrder(t *testing.T) {
//		srv := swfdtest.New(t)              // a manual clock, standing still
//		c := srv.Client()                   // an aws-sdk-go-v2 *swf.Client for it
//		srv.RegisterDomain("orders",
//			swfdtest.WorkflowType{Name: "order", Version: "1", TaskList: "deciders"},
//			swfdtest.ActivityType{Name: "ship", Version: "1", TaskList: "workers"})
//		// … start a workflow, drive its decider and worker with c …
//		srv.Advance(24 * time.Hour)         // a one-day timer fires, in milliseconds
//	}
//
// The clock is manual unless WithClock says otherwise: it stands still until
// Advance or AdvanceTo moves it, and a move fires every timer and timeout
// that falls due on the way, in order, each at its own time — exactly as if
// that much time had passed with nobody answering tasks.
//
// A move happens between calls, and the time between a poll that hands out a
// task and the answer to it is not a call: move the clock while a decider or
// worker of the test holds a task and the task's own timeout may pass on the
// way (two moves of 30 s time out a decision task of 60 s). Move it when the
// test's deciders and workers are idle, as the example does.
//
// With the skip clock (WithClock(clock.Skip)) events are dated as time
// passed: a timer's TimerFired is a few milliseconds after it was due, since
// the clock runs on while the timer fires. A test that checks times to the
// millisecond uses the manual clock.
//
// Calls through Client keep the clock from moving while they are served;
// calls made directly on Server.Service (the engine, for tests of swfd
// itself) do not, since they skip the HTTP API where that is done. A test
// that makes such calls while the clock may move (from another goroutine
// than the one that calls Advance, or with the skip clock, which moves on
// its own) makes them between Hold and its release.
//
// Reset empties the server (every domain, execution and task), as swfd
// --dev's reset does, so that subtests can share one server. Tests in other
// languages run the swfd binary with --dev instead: docs/testing.md.
//
// The server logs warnings and errors only, to standard error; set the
// environment variable SWFD_TEST_LOG (to anything, SWFD_TEST_LOG=1 go test
// …) to see everything it logs, down to debug lines.
package swfdtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/sdkhttp"
	"github.com/swfd/swfd/server"
)

// TB is the part of testing.TB that New uses; *testing.T and *testing.B
// are ones.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Option configures a server.
type Option func(*options)

type options struct {
	mode        clock.Mode
	start       time.Time
	pollTimeout time.Duration
	configure   []func(*server.Config)
}

// WithClock sets the clock: clock.Manual (the default), clock.Skip (real
// time that jumps to the next timer whenever nothing else could happen)
// or clock.Real.
func WithClock(m clock.Mode) Option { return func(o *options) { o.mode = m } }

// StartAt sets the time a manual clock starts at (default: the real time
// when the server starts). A fixed start makes every timestamp of a test
// the same on each run. With another clock (WithClock) New fails the test:
// a skip or real clock starts at the real time.
func StartAt(t time.Time) Option { return func(o *options) { o.start = t } }

// WithPollTimeout sets how long a long poll waits for a task, in real time
// whatever the clock (default 5 s). Server.Client's HTTP timeout follows
// it (ClientTimeout).
func WithPollTimeout(d time.Duration) Option { return func(o *options) { o.pollTimeout = d } }

// WithConfig changes the server's configuration before it starts: an auth
// file, limits, a logger, another store. With a store that keeps its data
// (Config.DB other than server.MemoryDB), a manual or skip clock needs
// Config.ClockUnsafe set too (moving the clock fires that store's timers
// early), and Reset is refused: it empties the in-memory store only.
func WithConfig(f func(*server.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// DefaultPollTimeout is how long a long poll waits unless WithPollTimeout
// says otherwise.
const DefaultPollTimeout = 5 * time.Second

// Server is a swfd running for one test.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT.
	URL string
	// Server is the running server, for tests of swfd itself. Its
	// Service is the engine without the HTTP API in front of it, and a
	// call made on it directly does not keep the clock from moving as a
	// call through Client does: hold the clock around such calls (Hold)
	// when the clock may move meanwhile.
	Server *server.Server

	t      TB
	db     string // Config.DB: Reset empties only the in-memory store
	cancel context.CancelFunc
	done   chan error
}

// New starts a server for the test and stops it when the test ends. It
// keeps everything in memory and has a manual clock unless options say
// otherwise.
func New(t TB, opts ...Option) *Server {
	t.Helper()
	o := options{mode: clock.Manual, pollTimeout: DefaultPollTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	level := slog.LevelWarn
	if os.Getenv("SWFD_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	cfg := server.Config{
		DB: server.MemoryDB, AccountID: "123456789012", Region: "us-east-1", PollTimeout: o.pollTimeout,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		ClockMode: o.mode,
	}
	if !o.start.IsZero() {
		if o.mode != clock.Manual {
			t.Fatalf("swfdtest: StartAt sets where a manual clock starts; a %s clock starts at the real time (drop StartAt, or use WithClock(clock.Manual))", o.mode)
			return nil
		}
		cfg.Clock = clock.NewManual(o.start)
	}
	for _, f := range o.configure {
		f(&cfg)
	}
	if cfg.ClockMode != clock.Real && cfg.ClockMode != "" && cfg.DB != server.MemoryDB && !cfg.ClockUnsafe {
		// Said in the words of this package, not of swfd's flags.
		t.Fatalf("swfdtest: a %s clock would move time for every timer in Config.DB %s, a store that keeps its data, firing real timers early; "+
			"set Config.ClockUnsafe in WithConfig if that is intended, or keep server.MemoryDB", cfg.ClockMode, server.RedactDSN(cfg.DB))
		return nil
	}
	// An in-memory server is a --dev one: Reset empties it.
	cfg.Dev = cfg.DB == server.MemoryDB
	ctx := context.Background()
	srv, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("swfdtest: start swfd: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatalf("swfdtest: listen: %v", err)
	}
	srv.Start()
	sctx, cancel := context.WithCancel(ctx)
	s := &Server{URL: "http://" + ln.Addr().String(), Server: srv, t: t, db: cfg.DB, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(sctx, ln) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down: waiting polls are answered empty, calls in
// flight finish. New arranges it at the test's end; calling it earlier is
// fine, and so is calling it twice.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.Server.Close()
	s.cancel = nil
}

// Client returns an aws-sdk-go-v2 SWF client for the server, as NewClient
// does, with an HTTP timeout of ClientTimeout(the server's poll timeout),
// so that a poll that finds no task comes back empty, however long
// WithPollTimeout (or WithConfig) makes it wait.
func (s *Server) Client() *swf.Client {
	return newClient(s.URL, "SWFDTEST", "placeholder", ClientTimeout(s.Server.PollTimeout()))
}

// ClientWithKey returns an aws-sdk-go-v2 SWF client for the server that
// signs with the given access key, for a server configured with an auth
// file, with Client's HTTP timeout.
func (s *Server) ClientWithKey(accessKeyID, secretAccessKey string) *swf.Client {
	return newClient(s.URL, accessKeyID, secretAccessKey, ClientTimeout(s.Server.PollTimeout()))
}

// ClientTimeout is the HTTP timeout of a client of a server whose long
// polls wait pollTimeout: the poll timeout and 30 s more (for the answer
// to travel, and for calls held while the clock moves), and never less
// than NewClient's 90 s.
func ClientTimeout(pollTimeout time.Duration) time.Duration {
	return max(DefaultClientTimeout, pollTimeout+30*time.Second)
}

// DefaultClientTimeout is NewClient's HTTP timeout: above swfd's default
// long poll (60 s, or 5 s with --dev).
const DefaultClientTimeout = 90 * time.Second

// NewClient returns an aws-sdk-go-v2 SWF client for a swfd endpoint (a
// swfd --dev, say): region us-east-1, placeholder credentials (swfd checks
// none unless started with an auth file), no retries (a failure shows at
// once), and an HTTP timeout of DefaultClientTimeout, 90 s, above swfd's
// default long poll. Against a swfd started with a --poll-timeout above
// 60 s, a poll that finds no task may fail with that timeout instead of
// coming back empty (and does from 90 s): use Server.Client for a server of
// this package, which allows for its poll timeout.
func NewClient(url string) *swf.Client {
	return NewClientWithKey(url, "SWFDTEST", "placeholder")
}

// NewClientWithKey is NewClient signing with the given access key.
func NewClientWithKey(url, accessKeyID, secretAccessKey string) *swf.Client {
	return newClient(url, accessKeyID, secretAccessKey, DefaultClientTimeout)
}

func newClient(url, accessKeyID, secretAccessKey string, timeout time.Duration) *swf.Client {
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, Source: "swfdtest"}
	return swf.New(swf.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkhttp.Client{Client: &http.Client{Timeout: timeout}},
	})
}

// Reset drops every domain, execution and task at once, as swfd --dev's
// reset does: waiting polls are answered empty, and the server goes on,
// empty, with its clock at the same time. Between the subtests of one
// server it gives each a clean start without a new server. It fails the
// test for a server whose store keeps its data (WithConfig).
func (s *Server) Reset() {
	s.t.Helper()
	if s.db != server.MemoryDB {
		s.t.Fatalf("swfdtest: Reset empties the in-memory store only, and this server's Config.DB is %s, which keeps its data", server.RedactDSN(s.db))
		return
	}
	if err := s.Server.Reset(context.Background()); err != nil {
		s.t.Fatalf("swfdtest: reset: %v", err)
	}
}

// Now returns the server's time.
func (s *Server) Now() time.Time {
	ctl := s.Server.ClockNow()
	if ctl == nil {
		return time.Now().UTC().Truncate(clock.Precision)
	}
	return ctl.Now()
}

// Advance moves a manual clock forward by d, firing every timer
// and timeout that falls due on the way, in order, each at its own time,
// and returns the new time. Calls being served finish first; tasks
// scheduled on the way are handed to pollers after the move, at the new
// time. It fails the test with the real clock, and for a d that is not a
// whole number of milliseconds (the clock counts milliseconds). A task a
// decider or worker holds meanwhile ages by d too (see the package doc).
// A timer that fails to fire (swfd logs why) does not fail the test: the
// move goes on past it and it stays pending, as docs/testing.md tells.
func (s *Server) Advance(d time.Duration) time.Time {
	s.t.Helper()
	return s.move(func(ctx context.Context, c *clock.Controller) (clock.Moved, error) { return c.Advance(ctx, d) })
}

// AdvanceTo moves a manual clock forward to t, as Advance does.
// A t before the server's time fails the test: time never goes backwards;
// so does a t that is not a whole number of milliseconds (the clock counts
// milliseconds, and could not show it).
func (s *Server) AdvanceTo(t time.Time) time.Time {
	s.t.Helper()
	return s.move(func(ctx context.Context, c *clock.Controller) (clock.Moved, error) { return c.Set(ctx, t) })
}

func (s *Server) move(f func(context.Context, *clock.Controller) (clock.Moved, error)) time.Time {
	s.t.Helper()
	m, err := s.Server.MoveClock(func(c *clock.Controller) (clock.Moved, error) { return f(context.Background(), c) })
	if errors.Is(err, clock.ErrReal) {
		s.t.Fatalf("swfdtest: the clock is real and cannot be moved (use WithClock(clock.Manual))")
		return time.Time{}
	}
	if err != nil {
		s.t.Fatalf("swfdtest: move the clock: %v", err)
	}
	return m.Now
}

// Hold keeps the clock from moving (and the server from being reset) until
// the function it returns is called, as a call through Client does while
// it is served: wrap direct calls on Server.Service in it. A move asked for
// meanwhile waits for the release; on the skip clock the release lets the
// clock jump again if nothing is left to do. Do not call Advance, AdvanceTo
// or Reset while holding, nor wait for a long poll to return: a move waits
// for the release, and new calls through Client wait behind the move.
// With the real clock Hold holds nothing.
func (s *Server) Hold() (release func()) {
	return s.Server.HoldClock()
}

// Type is a workflow or activity type RegisterDomain registers.
type Type interface {
	register(ctx context.Context, c *swf.Client, domain string) error
}

// WorkflowType is a workflow type with defaults suited to tests. Durations
// are whole seconds (RegisterDomain fails the test for one that is not);
// zero means the default given.
type WorkflowType struct {
	Name, Version string
	TaskList      string        // default decision task list (default "deciders")
	Execution     time.Duration // start to close (default 30 days)
	Task          time.Duration // decision task start to close (default 60 s)
	ChildPolicy   types.ChildPolicy
}

func (w WorkflowType) register(ctx context.Context, c *swf.Client, domain string) error {
	if err := wholeSeconds(duration{"Execution", w.Execution}, duration{"Task", w.Task}); err != nil {
		return err
	}
	tl := w.TaskList
	if tl == "" {
		tl = "deciders"
	}
	policy := w.ChildPolicy
	if policy == "" {
		policy = types.ChildPolicyTerminate
	}
	_, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{
		Domain: aws.String(domain), Name: aws.String(w.Name), Version: aws.String(w.Version),
		DefaultTaskList:                     &types.TaskList{Name: aws.String(tl)},
		DefaultExecutionStartToCloseTimeout: seconds(w.Execution, 30*24*time.Hour),
		DefaultTaskStartToCloseTimeout:      seconds(w.Task, time.Minute),
		DefaultChildPolicy:                  policy,
	})
	return err
}

// ActivityType is an activity type with defaults suited to tests.
// Durations are whole seconds (RegisterDomain fails the test for one that
// is not); zero means no limit ("NONE").
type ActivityType struct {
	Name, Version   string
	TaskList        string // default task list (default "workers")
	ScheduleToStart time.Duration
	StartToClose    time.Duration
	ScheduleToClose time.Duration
	Heartbeat       time.Duration
}

func (a ActivityType) register(ctx context.Context, c *swf.Client, domain string) error {
	if err := wholeSeconds(duration{"ScheduleToStart", a.ScheduleToStart}, duration{"StartToClose", a.StartToClose},
		duration{"ScheduleToClose", a.ScheduleToClose}, duration{"Heartbeat", a.Heartbeat}); err != nil {
		return err
	}
	tl := a.TaskList
	if tl == "" {
		tl = "workers"
	}
	_, err := c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{
		Domain: aws.String(domain), Name: aws.String(a.Name), Version: aws.String(a.Version),
		DefaultTaskList:                   &types.TaskList{Name: aws.String(tl)},
		DefaultTaskScheduleToStartTimeout: seconds(a.ScheduleToStart, 0),
		DefaultTaskStartToCloseTimeout:    seconds(a.StartToClose, 0),
		DefaultTaskScheduleToCloseTimeout: seconds(a.ScheduleToClose, 0),
		DefaultTaskHeartbeatTimeout:       seconds(a.Heartbeat, 0),
	})
	return err
}

// duration is a type's duration field, by name.
type duration struct {
	name string
	d    time.Duration
}

// wholeSeconds checks that each of ds is a whole number of seconds, as SWF
// writes durations: one that is not would be cut to the second below
// (500 ms to "0"), and the type's timeouts would fire at times the test
// never asked for.
func wholeSeconds(ds ...duration) error {
	for _, f := range ds {
		if f.d%time.Second != 0 {
			return fmt.Errorf("%s is %v; durations are whole seconds (SWF counts its timeouts in seconds)", f.name, f.d)
		}
	}
	return nil
}

// seconds writes d as SWF writes durations; zero is def, and a zero def
// is "NONE".
func seconds(d, def time.Duration) *string {
	if d == 0 {
		d = def
	}
	if d == 0 {
		return aws.String("NONE")
	}
	return aws.String(strconv.FormatInt(int64(d/time.Second), 10))
}

// RegisterDomain registers a domain (retention 90 days, so that no
// test's clock outruns it by accident) and the given types in it.
func (s *Server) RegisterDomain(name string, types ...Type) {
	s.t.Helper()
	ctx := context.Background()
	c := s.Client()
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(name), WorkflowExecutionRetentionPeriodInDays: aws.String("90")}); err != nil {
		s.t.Fatalf("swfdtest: register domain %s: %v", name, err)
	}
	for _, typ := range types {
		if err := typ.register(ctx, c, name); err != nil {
			s.t.Fatalf("swfdtest: register %s in %s: %v", describe(typ), name, err)
		}
	}
}

func describe(t Type) string {
	switch t := t.(type) {
	case WorkflowType:
		return fmt.Sprintf("workflow type %s/%s", t.Name, t.Version)
	case ActivityType:
		return fmt.Sprintf("activity type %s/%s", t.Name, t.Version)
	}
	return fmt.Sprintf("%T", t)
}
