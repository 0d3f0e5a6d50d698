// Package service implements the SWF operations (api.Service) by putting
// swfd's parts together; each part owns one job and lives in the package
// named for it:
//
//   - registry: the domain and type operations, and the registry cache;
//   - runs: the run store — per-run locks, the run cache, loading a run,
//     running a history step on it and committing it, and telling
//     listeners what each commit changed;
//   - matching: the task lists that hand tasks to long polls;
//   - timers, transfers, retention: the background loops that fire due
//     timers, deliver messages between runs, and purge closed executions;
//   - lambda: the loop that invokes the runs' Lambda tasks;
//   - cluster: the news between the nodes that share one store.
//
// This package holds the operations on executions (start, signal, cancel,
// terminate, describe, history), the polls and the answers to tasks, and
// the visibility queries; it feeds the task lists from each commit. Whether
// the node is alone or one of a cluster is decided once, in New, from
// Options.Broadcaster.
package service

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/cluster"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/internal/loop"
	"github.com/swfd/swfd/internal/token"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/registry"
	"github.com/swfd/swfd/retention"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/timers"
	"github.com/swfd/swfd/transfers"
)

// Limits are the account and domain quotas the service enforces.
type Limits struct {
	MaxDomains        int // 100
	MaxTypesPerKind   int // 10,000 per domain
	MaxOpenExecutions int // 100,000 per domain
	MaxPollersPerList int // 1,000
	MaxTagsPerDomain  int // 50
	History           history.Limits
}

// DefaultLimits are the real service's quotas.
var DefaultLimits = Limits{
	MaxDomains:        100,
	MaxTypesPerKind:   10000,
	MaxOpenExecutions: 100000,
	MaxPollersPerList: 1000,
	MaxTagsPerDomain:  50,
	History:           history.DefaultLimits,
}

// DecisionAuthorizer returns, for one RespondDecisionTaskCompleted call in
// domain, the function that allows or denies each of its decisions (see
// history.Env.AuthorizeDecision), or nil to allow every decision. tags
// lists a domain's tags (the service's ListTagsForResource), for policies
// that judge decisions by them. An error (the tags could not be read)
// fails the call: its decisions cannot be judged.
type DecisionAuthorizer func(ctx context.Context, domain string, tags DomainTagLister) (func(d *api.Decision, keys map[string]string) bool, error)

// DomainTagLister lists the tags of a domain named by its ARN; the Service
// is one.
type DomainTagLister interface {
	ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error)
}

// DecisionRates returns, for one attempt at the decisions of a
// RespondDecisionTaskCompleted call in domain, the rates that limit them
// (package quota), or nil when no rate limits decisions. The attempt asks
// the batch about each decision (history.Env.RateLimit), then keeps what it
// took if it committed, or releases it.
type DecisionRates func(ctx context.Context, domain string) RateBatch

// RateBatch is the rates of one attempt at a batch of decisions.
type RateBatch interface {
	// Allow takes a token for a decision about to take effect; false:
	// the decision fails with its *_RATE_EXCEEDED cause.
	Allow(d api.DecisionType, taskList string) bool
	// Keep: the attempt committed; what it took is spent.
	Keep()
	// Release: the attempt did not commit; what it took goes back.
	Release()
}

// Options configure a Service.
type Options struct {
	Store       swfd.Store
	Clock       swfd.Clock // default: the system clock
	Logger      *slog.Logger
	AccountID   string
	Region      string
	PollTimeout time.Duration // how long a poll waits for a task (60s)
	Limits      Limits
	// Broadcaster connects the nodes of a cluster; nil on a single node.
	Broadcaster swfd.Broadcaster
	// AuthorizeDecisions, if set, authorizes each decision of a batch
	// (the server sets it when authentication is on).
	AuthorizeDecisions DecisionAuthorizer
	// DecisionRates, if set, rate-limits decisions (the server sets it
	// with --quotas).
	DecisionRates DecisionRates
	// VisibilityQueries is how many List/Count*WorkflowExecutions queries
	// run at once (more wait their turn); default half the CPUs, at least
	// one. A count over a large domain keeps a CPU busy for milliseconds;
	// the bound keeps a burst of them from starving the calls that move
	// workflows.
	VisibilityQueries int
	// RunCacheBytes bounds the memory of the run cache, the runs (their
	// states and short histories) kept so that a call on a run costs no
	// read; runs.DefaultCacheBytes when zero (see runs.Options.CacheBytes).
	RunCacheBytes int

	// Hooks are told of what the service does, for metrics.
	Hooks Hooks

	// Lambda invokes the Lambda functions that ScheduleLambdaFunction
	// decisions schedule; nil (no Lambda endpoint): every such decision
	// fails with LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION.
	Lambda lambda.Invoker

	// For a clock that tests move (package clock). SkipTime, if set, is
	// asked by the timer loop before it sleeps until the next timer, due
	// at due; true means the clock jumped there (see timers.Options.Skip).
	// HoldTime, if set, is called as the Lambda loop records a start or
	// an outcome, as the transfer loop delivers a message, and as the
	// timer loop fires a round of timers (and as a long poll starts the
	// task it was handed, without HoldPoll), and the function it returns
	// once that has committed or failed: the clock does not move in
	// between. HoldPoll, if set, holds it so as a long poll starts its
	// task, waiting for a move under way only as long as a call of the API
	// would and no longer than ctx (the poll's own time) lasts; false: it
	// gave up, nothing held, and the poll gives the task back unstarted
	// and is answered empty.
	SkipTime func(ctx context.Context, due time.Time) (bool, error)
	HoldTime func() (release func())
	HoldPoll func(ctx context.Context) (release func(), ok bool)
	// PageClock, if set, is the clock a page token's 24 hours are counted
	// on (nil: Clock). The server gives it the wall clock when Clock is
	// one that tests move: a client paging through a list or a history
	// while the clock jumps a day (a manual advance, a skip to the next
	// timer) must still get its next page, as a real client paging for a
	// moment does.
	PageClock swfd.Clock

	// LongWait, if set, is called as a long poll starts to wait for a
	// task, with a function that ends the wait early, and the function it
	// returns when the wait is over; that one reports whether the wait was
	// ended so to free the poll's connection (the server sets it to
	// connlimit.Waiting, which ends the longest waits when every
	// connection it may hold is taken). A poll so ended is answered empty,
	// as a poll may be at any time before its timeout.
	LongWait func(ctx context.Context, end func()) (done func() (ended bool))

	// registryTTL, if set, replaces clusterRegistryTTL (for tests).
	registryTTL time.Duration
	// lambdaRescan, if set, replaces clusterLambdaRescan (for tests).
	lambdaRescan time.Duration
	// wall, if set, replaces the system clock as runs.Options.Wall (for
	// tests).
	wall swfd.Clock
}

// Hooks are told of what the service and its parts do (for metrics). Any
// may be nil. Each is called on the goroutine doing the work, so it must
// be quick and safe for concurrent use. Commits are observed with a
// listener instead (Service.Runs().Listen).
type Hooks struct {
	// Polled: a long poll was answered, with task t, or empty (t nil)
	// when it waited its whole time.
	Polled func(kind swfd.TaskKind, t *swfd.Task)
	// StoreCommit: a commit of a step's changes to the store took d and
	// ended with err (see runs.Options.StoreCommit).
	StoreCommit func(d time.Duration, err error)
	// TimerFired: a durable timer due at due fired.
	TimerFired func(due time.Time)
	// Purged: n closed executions were purged past their retention.
	Purged func(n int)
	// In a cluster: news published to the other nodes, news received from
	// one (sent by its clock), a poller here handed another node's task.
	NewsSent          func()
	NewsReceived      func(sent time.Time)
	RemoteTaskStarted func()
}

// Service implements api.Service.
type Service struct {
	*registry.Registry // the registry operations

	store     swfd.Store // through the registry cache
	log       *slog.Logger
	pollWait  time.Duration
	limits    Limits
	tokens    *token.Keys
	authorize DecisionAuthorizer
	rates     DecisionRates
	hooks     Hooks
	holdTime  func() (release func())
	holdPoll  func(ctx context.Context) (release func(), ok bool)
	longWait  func(ctx context.Context, end func()) (done func() (ended bool))

	// overdueLines logs overdue runs that a start at its domain's limit
	// could not time out but did without, a few lines a second at most.
	overdueLines *lograte.Limiter

	runs      *runs.Store
	matcher   *matching.Matcher
	timers    *timers.Loop
	transfers *transfers.Loop
	lambda    *lambda.Loop
	retention *retention.Purger
	peers     cluster.Peers

	visibilitySlots chan struct{} // one token per visibility query running

	// stopping ends every long poll (with an empty answer) when the
	// server shuts down.
	stopping context.Context
	stop     context.CancelFunc
}

var _ api.Service = (*Service)(nil)

// clusterRegistryTTL bounds how long a node of a cluster trusts a cached
// domain or type, should the news of a change elsewhere be lost.
const clusterRegistryTTL = 2 * time.Second

// clusterTimerCheck bounds how long a node of a cluster sleeps between
// looks at the store's earliest timer: another node may add an earlier
// timer and die before it fires.
const clusterTimerCheck = 2 * time.Second

// clusterLambdaRescan is how often a node of a cluster looks for Lambda
// tasks another node scheduled and did not start (it may have died), and
// how old such a task must be before it is taken.
const clusterLambdaRescan = 5 * time.Second

// New returns a Service over opts.Store, with its task lists loaded from the
// store. Call Run to start its background work (timers, transfers,
// retention, and the news of a cluster).
func New(ctx context.Context, opts Options) (*Service, error) {
	s := &Service{
		log:       opts.Logger,
		pollWait:  opts.PollTimeout,
		limits:    opts.Limits,
		authorize: opts.AuthorizeDecisions,
		rates:     opts.DecisionRates,
		hooks:     opts.Hooks,
		holdTime:  opts.HoldTime,
		holdPoll:  opts.HoldPoll,
		longWait:  opts.LongWait,
	}
	s.stopping, s.stop = context.WithCancel(context.Background())
	clock := opts.Clock
	if clock == nil {
		clock = swfd.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.overdueLines = lograte.New(s.log, 2, 10, nil)
	if s.pollWait <= 0 {
		s.pollWait = 60 * time.Second
	}
	if s.limits == (Limits{}) {
		s.limits = DefaultLimits
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.VisibilityQueries <= 0 {
		opts.VisibilityQueries = max(1, runtime.GOMAXPROCS(0)/2)
	}
	s.visibilitySlots = make(chan struct{}, opts.VisibilityQueries)

	// The one choice between a single node and a node of a cluster. A
	// single node sees every write: its caches stay exact and its timer
	// loop may sleep until the next timer it knows of (a minute at most,
	// timers.WallCheck).
	shared := opts.Broadcaster != nil
	registryTTL, timerCheck := time.Duration(0), time.Duration(0)
	if shared {
		registryTTL, timerCheck = clusterRegistryTTL, clusterTimerCheck
		if opts.registryTTL > 0 {
			registryTTL = opts.registryTTL
		}
	}

	cache := registry.NewCache(opts.Store, registryTTL, func() { s.peers.RegistryChanged() })
	s.store = cache
	key := make([]byte, 32)
	rand.Read(key)
	key, err := s.store.SetMetaIfAbsent(ctx, "token-key", key)
	if err != nil {
		return nil, fmt.Errorf("service: token key: %w", err)
	}
	s.runs = runs.New(runs.Options{Store: cache, Clock: clock, Wall: opts.wall, Limits: s.limits.History, MaxOpenExecutions: s.limits.MaxOpenExecutions, Shared: shared,
		Lambda: opts.Lambda != nil, StoreCommit: opts.Hooks.StoreCommit, CacheBytes: opts.RunCacheBytes})
	// The run store tells the domains of the task tokens that leave them
	// out (those of the longest non-ASCII names).
	pageClock := opts.PageClock
	if pageClock == nil {
		pageClock = clock
	}
	s.tokens = token.New(key, pageClock, s.runs)
	s.Registry = registry.New(registry.Options{
		Store: cache, Clock: clock, AccountID: opts.AccountID, Region: opts.Region, Tokens: s.tokens,
		Limits: registry.Limits{MaxDomains: s.limits.MaxDomains, MaxTypesPerKind: s.limits.MaxTypesPerKind, MaxTagsPerDomain: s.limits.MaxTagsPerDomain},
	})
	s.matcher = matching.New(s.limits.MaxPollersPerList)
	s.matcher.RemoteTaken = opts.Hooks.RemoteTaskStarted
	s.timers = timers.New(timers.Options{Store: cache, Runs: s.runs, Clock: clock, Log: s.log, MaxSleep: timerCheck, Fired: opts.Hooks.TimerFired, Skip: opts.SkipTime, Hold: opts.HoldTime})
	s.transfers = transfers.New(transfers.Options{Store: cache, Runs: s.runs, Log: s.log, Hold: opts.HoldTime})
	// In a cluster a node may die between scheduling a Lambda task and
	// invoking it: the others look for such tasks now and then.
	lambdaRescan := time.Duration(0)
	if shared {
		lambdaRescan = cmp.Or(opts.lambdaRescan, clusterLambdaRescan)
	}
	s.lambda = lambda.New(lambda.Options{Runs: s.runs, Store: cache, Invoker: opts.Lambda, Clock: clock, Log: s.log, Rescan: lambdaRescan, Hold: opts.HoldTime})
	s.retention = retention.New(cache, clock, s.log)
	s.retention.Purged = opts.Hooks.Purged
	s.retention.Forget = s.runs.ForgetClosed
	s.retention.Purging = s.runs.Purging
	s.peers = cluster.Alone{}
	if shared {
		s.peers = cluster.New(cluster.Options{
			Broadcaster: opts.Broadcaster, Store: cache, Tasks: s.matcher, Runs: s.runs,
			Timers: s.timers, Transfers: s.transfers, Registry: cache, Log: s.log,
			NewsSent: opts.Hooks.NewsSent, NewsReceived: opts.Hooks.NewsReceived,
		})
	}
	// After each commit: the task lists (which tell the peers), then the
	// loops.
	s.runs.Listen(s.feedTaskLists)
	s.runs.Listen(s.timers.Committed)
	s.runs.Listen(s.transfers.Committed)
	s.runs.Listen(s.lambda.Committed)

	tasks, err := s.store.PendingTasks(ctx)
	if err != nil {
		return nil, fmt.Errorf("service: load pending tasks: %w", err)
	}
	for _, t := range tasks {
		s.matcher.Add(t)
	}
	// The Lambda loop takes its tasks from the same read.
	s.lambda.Pending(tasks)
	s.log.Info("task lists loaded", "tasks", len(tasks))
	return s, nil
}

// Run does the service's background work until ctx ends: it fires timers
// as they come due, delivers messages between runs, invokes Lambda tasks,
// purges closed
// executions past their domain's retention, and in a cluster exchanges
// news with the other nodes. A loop that panics is logged with its stack
// and started again.
func (s *Service) Run(ctx context.Context) error {
	loops := map[string]func(context.Context){
		"timer loop":     s.timers.Run,
		"transfer loop":  s.transfers.Run,
		"lambda loop":    s.lambda.Run,
		"retention loop": s.retention.Run,
		"cluster":        s.peers.Run,
	}
	var wg sync.WaitGroup
	for name, fn := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop.Keep(ctx, s.log, name, fn)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// StopPolls ends every waiting long poll with an empty answer and makes new
// polls return at once; used for graceful shutdown.
func (s *Service) StopPolls() { s.stop() }

// Runs returns the run store: Listen on it to be told of every commit.
func (s *Service) Runs() *runs.Store { return s.runs }

// Matcher returns the task lists.
func (s *Service) Matcher() *matching.Matcher { return s.matcher }

// Timers returns the timer loop.
func (s *Service) Timers() *timers.Loop { return s.timers }

// Transfers returns the loop that delivers messages between runs.
func (s *Service) Transfers() *transfers.Loop { return s.transfers }

// Lambda returns the loop that invokes Lambda tasks.
func (s *Service) Lambda() *lambda.Loop { return s.lambda }

// Retention returns the purger of closed executions.
func (s *Service) Retention() *retention.Purger { return s.retention }

// Peers returns what the node knows of the cluster: a *cluster.Node, or
// cluster.Alone on a single node.
func (s *Service) Peers() cluster.Peers { return s.peers }

// TaskTokenDomain returns the domain of the task a task token names, for
// authorizing the task-token operations (auth.TaskTokens). ok is false for
// a token this service did not issue: the operations answer it
// UnknownResourceFault. A token of a domain whose name is too long for it
// names the domain by its run, which may cost a read of the store (an
// error says that read failed); once that run is gone (purged), the token
// is ok with domain "": it was issued, but its domain can no longer be
// told.
func (s *Service) TaskTokenDomain(ctx context.Context, token string) (domain string, ok bool, err error) {
	return s.tokens.TaskDomain(ctx, token)
}

// TaskTokenRun returns the run of the task a task token names (for the
// buckets per execution, package quota). ok is false for a token this
// service did not issue.
func (s *Service) TaskTokenRun(token string) (runID string, ok bool) {
	return s.tokens.TaskRun(token)
}

// decisionEnv is the history environment of a decision batch in domain:
// with an authorizer, each decision is authorized. An error says the
// authorizer could not be made (the domain's tags could not be read).
func (s *Service) decisionEnv(ctx context.Context, domain string) (history.Env, error) {
	env := s.runs.Env(ctx)
	if s.authorize != nil {
		hook, err := s.authorize(ctx, domain, s)
		if err != nil {
			return history.Env{}, err
		}
		env.AuthorizeDecision = hook
	}
	return env, nil
}
