// Package service implements the SWF operations (api.Service) on top of a
// swfd.Store: the registry of domains and types directly, and executions
// through the history state machine, with the matching engine handing tasks
// to long polls, durable timers firing timeouts, and transfers carrying
// messages between runs. Each call on a run takes that run's lock, runs one
// history step, and commits the step's events, state, tasks, timers and
// messages in one store batch before it answers.
package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/matching"
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
	Broadcaster Broadcaster
	// VisibilityQueries is how many List/Count*WorkflowExecutions queries
	// run at once (more wait their turn); default half the CPUs, at least
	// one. A count over a large domain keeps a CPU busy for milliseconds;
	// the bound keeps a burst of them from starving the calls that move
	// workflows.
	VisibilityQueries int
}

// Service implements api.Service.
type Service struct {
	store     swfd.Store
	clock     swfd.Clock
	log       *slog.Logger
	accountID string
	region    string
	pollWait  time.Duration
	limits    Limits
	tokenKey  []byte

	matcher *matching.Matcher
	locks   [256]sync.Mutex
	runs    *runCache

	// openMu guards open: executions open per domain, counted from the
	// store on first use and kept current by commits, so the per-domain
	// limit costs no query per start.
	openMu sync.Mutex
	open   map[string]int

	timerWake    chan struct{}
	transferWake chan struct{}
	// nextTimer is when the sleeping timer loop wakes (Unix ns); 0 while
	// it is awake. Commits poke it only for timers due before then.
	nextTimer atomic.Int64

	bcast  Broadcaster
	nodeID string
	// ownNews is how this node's published news begins.
	ownNews []byte
	// afterFunc is time.AfterFunc, or a test's stand-in.
	afterFunc func(time.Duration, func()) *time.Timer
	newsq     chan news // to publishLoop
	peers     peers     // the other nodes, as their news shows them
	// registry is the registry cache of a cluster node, which other
	// nodes' news clears; nil on a single node.
	registry *registryCache

	visibilitySlots chan struct{} // one token per visibility query running

	// stopping ends every long poll (with an empty answer) when the
	// server shuts down.
	stopping context.Context
	stop     context.CancelFunc
}

var _ api.Service = (*Service)(nil)

// New returns a Service over opts.Store, with its task lists loaded from the
// store. Call Run to start its background work (timers, transfers,
// retention).
func New(ctx context.Context, opts Options) (*Service, error) {
	s := &Service{
		store:        opts.Store,
		clock:        opts.Clock,
		log:          opts.Logger,
		accountID:    opts.AccountID,
		region:       opts.Region,
		pollWait:     opts.PollTimeout,
		limits:       opts.Limits,
		timerWake:    make(chan struct{}, 1),
		open:         map[string]int{},
		bcast:        opts.Broadcaster,
		nodeID:       newRunID(),
		afterFunc:    time.AfterFunc,
		transferWake: make(chan struct{}, 1),
	}
	id, _ := json.Marshal(s.nodeID)
	s.ownNews = append([]byte(`{"n":`), id...)
	s.stopping, s.stop = context.WithCancel(context.Background())
	if s.clock == nil {
		s.clock = swfd.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pollWait <= 0 {
		s.pollWait = 60 * time.Second
	}
	if s.limits == (Limits{}) {
		s.limits = DefaultLimits
	}
	if s.accountID == "" {
		s.accountID = "123456789012"
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if opts.VisibilityQueries <= 0 {
		opts.VisibilityQueries = max(1, runtime.GOMAXPROCS(0)/2)
	}
	s.visibilitySlots = make(chan struct{}, opts.VisibilityQueries)
	s.matcher = matching.New(s.limits.MaxPollersPerList)
	if s.bcast == nil {
		// A single node sees every write: caches stay exact.
		s.store = &cachingStore{Store: s.store, cache: newRegistryCache(0)}
		s.runs = newRunCache(runCacheSize)
	} else {
		// In a cluster registry writes are news and cached entries
		// expire (see registryCache); cached runs are guarded by their
		// version (see runCache).
		s.runs = newRunCache(runCacheSize)
		s.runs.guarded = true
		cs := &cachingStore{Store: s.store, cache: newRegistryCache(clusterRegistryTTL)}
		cs.written = func() { s.publish(context.Background(), news{Registry: true}) }
		s.registry, s.store = cs.cache, cs
		s.newsq = make(chan news, 1024)
	}
	key := make([]byte, 32)
	rand.Read(key)
	key, err := s.store.SetMetaIfAbsent(ctx, "token-key", key)
	if err != nil {
		return nil, fmt.Errorf("service: token key: %w", err)
	}
	s.tokenKey = key
	tasks, err := s.store.PendingTasks(ctx)
	if err != nil {
		return nil, fmt.Errorf("service: load pending tasks: %w", err)
	}
	for _, t := range tasks {
		s.matcher.Add(t)
	}
	s.log.Info("task lists loaded", "tasks", len(tasks))
	return s, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// lock serializes calls on one run.
func (s *Service) lock(runID string) func() {
	h := fnv.New32a()
	h.Write([]byte(runID))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

func (s *Service) domainARN(name string) string {
	return fmt.Sprintf("arn:aws:swf:%s:%s:/domain/%s", s.region, s.accountID, name)
}

// newRunID returns a run id shaped like the real service's (44 characters
// of the base64 alphabet, starting "22"). Characters 3 to 10 are the
// current millisecond in an alphabet that sorts like the numbers it spells,
// so that ids of runs started close together sort close together: every
// index keyed by run id (the runs, their events, tasks and timers) then
// takes a commit's new rows into a few adjacent pages instead of one random
// page each, which is most of what a commit writes. The rest is random.
func newRunID() string {
	const sortable = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var id [44]byte
	id[0], id[1] = '2', '2'
	ms := uint64(time.Now().UnixMilli())
	for i := 9; i >= 2; i-- {
		id[i] = sortable[ms%62]
		ms /= 62
	}
	b := make([]byte, 33)
	rand.Read(b)
	copy(id[10:], base64.StdEncoding.EncodeToString(b)[:34])
	return string(id[:])
}

func unknownDomain(name string) *api.Fault {
	return api.ErrUnknownResource("Unknown domain: %s", name)
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// StopPolls ends every waiting long poll with an empty answer and makes new
// polls return at once; used for graceful shutdown.
func (s *Service) StopPolls() { s.stop() }

// openExecutions returns how many executions are open in a domain.
func (s *Service) openExecutions(ctx context.Context, domain string) (int, error) {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if n, ok := s.open[domain]; ok {
		return n, nil
	}
	n, err := s.store.CountOpen(ctx, domain)
	if err != nil {
		return 0, err
	}
	s.open[domain] = n
	return n, nil
}

// countOpenDelta applies a committed change of open executions.
func (s *Service) countOpenDelta(domain string, delta int) {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if n, ok := s.open[domain]; ok {
		s.open[domain] = n + delta
	}
}

// runCacheSize bounds the runs whose state is kept in memory.
const runCacheSize = 20000
