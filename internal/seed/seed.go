// Package seed fills a swfd SQLite database with a synthetic but realistic
// execution history, directly through the swfd.Store interface: runs are
// built by the history engine (history.Start plus a closing step), so their
// state, history events and visibility rows are exactly what the server
// would have written, and a server opened on the database can describe,
// list, count and read them.
//
// It exists for the visibility benchmark (see Bench and BENCHMARKS.md) and
// for anyone who wants a large domain to try queries against.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// Config says what to seed.
type Config struct {
	Domain string // default "bench"
	// Retention is the domain's retention in days as stored. The default,
	// "365", is beyond what RegisterDomain accepts (90), on purpose: a
	// year of closed history survives the server's retention purge only
	// with it. Use "90" with Span 90 days for an SWF-legal data set.
	Retention string
	Closed    int           // closed executions
	Open      int           // open executions
	Span      time.Duration // start and close times fall in [End-Span, End]; default 365 days
	End       time.Time     // default now
	Batch     int           // updates per Commit; default 2000
	Workers   int           // goroutines building runs; default GOMAXPROCS
	Seed      uint64        // random seed; the same seed gives the same data
	NoEvents  bool          // store no history events (smaller, faster; GetWorkflowExecutionHistory is then empty)
	Progress  io.Writer     // progress lines; nil for none
}

// The vocabulary of the data set, exported so that benchmarks can pick
// filter values that exist.
var (
	// Types are the workflow types: every name with its versions.
	Types = []api.WorkflowType{
		{Name: "order", Version: "1"}, {Name: "order", Version: "2"}, {Name: "order", Version: "3"},
		{Name: "payment", Version: "1"}, {Name: "payment", Version: "2"},
		{Name: "shipment", Version: "1"},
		{Name: "report", Version: "2024-01"}, {Name: "report", Version: "2024-06"},
	}
	// TagVocabulary are the tags runs draw from (up to 5 each). Some
	// differ only in case: tag filters are case-sensitive.
	TagVocabulary = []string{
		"env:prod", "env:staging", "env:dev", "region:us-east-1", "region:eu-west-1", "region:ap-south-1",
		"tenant:acme", "tenant:globex", "tenant:initech", "tenant:umbrella", "priority:high", "Priority:High",
		"batch", "Batch", "retry", "manual", "nightly", "customer-42", "beta", "migration",
	}
	// CloseStatuses are the six close statuses, all produced.
	CloseStatuses = []api.CloseStatus{
		api.CloseStatusCompleted, api.CloseStatusFailed, api.CloseStatusCanceled,
		api.CloseStatusTerminated, api.CloseStatusContinuedAsNew, api.CloseStatusTimedOut,
	}
	// CronWorkflows is how many recurring workflowIds ("cron-0" …) share
	// a fifth of the closed runs between them.
	CronWorkflows = 100
)

// statusWeights are the shares (in percent) of the close statuses, in
// CloseStatuses order.
var statusWeights = []int{70, 10, 5, 5, 5, 5}

// typeWeights favours the first versions.
var typeWeights = []int{30, 15, 5, 15, 10, 15, 5, 5}

const taskList = "seed-deciders"

// Stats says what was written.
type Stats struct {
	Closed, Open int
	Events       int64
	Elapsed      time.Duration
}

// Run seeds st according to cfg. The domain and its workflow types are
// created if missing.
func Run(ctx context.Context, st swfd.Store, cfg Config) (Stats, error) {
	cfg = withDefaults(cfg)
	began := time.Now()
	if err := register(ctx, st, cfg); err != nil {
		return Stats{}, err
	}
	type job struct {
		first, n int
		open     bool
	}
	jobs := make(chan job)
	batches := make(chan swfd.Batch, cfg.Workers)
	var stats Stats
	var events int64
	var genErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { genErr = err }) }
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(cfg, uint64(w))
			for j := range jobs {
				b := swfd.Batch{Updates: make([]swfd.Update, 0, j.n)}
				for i := j.first; i < j.first+j.n; i++ {
					u, err := g.run(i, j.open)
					if err != nil {
						fail(err)
						cancel()
						return
					}
					b.Updates = append(b.Updates, u)
				}
				select {
				case batches <- b:
				case <-gctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, part := range []struct {
			total int
			open  bool
		}{{cfg.Closed, false}, {cfg.Open, true}} {
			for first := 0; first < part.total; first += cfg.Batch {
				select {
				case jobs <- job{first, min(cfg.Batch, part.total-first), part.open}:
				case <-gctx.Done():
					return
				}
			}
		}
	}()
	go func() { wg.Wait(); close(batches) }()

	// A few commits in flight at once: the store groups them into one
	// transaction.
	sem := make(chan struct{}, 4)
	var cwg sync.WaitGroup
	var mu sync.Mutex
	lastReport := time.Now()
	for b := range batches {
		sem <- struct{}{}
		cwg.Add(1)
		go func(b swfd.Batch) {
			defer cwg.Done()
			defer func() { <-sem }()
			if err := st.Commit(gctx, b); err != nil {
				fail(fmt.Errorf("seed: commit: %w", err))
				cancel()
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, u := range b.Updates {
				if u.Execution.Open {
					stats.Open++
				} else {
					stats.Closed++
				}
				events += int64(len(u.Events))
			}
			if cfg.Progress != nil && time.Since(lastReport) > 5*time.Second {
				lastReport = time.Now()
				fmt.Fprintf(cfg.Progress, "seed: %d closed, %d open written (%s)\n", stats.Closed, stats.Open, time.Since(began).Round(time.Second))
			}
		}(b)
	}
	cwg.Wait()
	stats.Events = events
	stats.Elapsed = time.Since(began)
	if genErr != nil {
		return stats, genErr
	}
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	return stats, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Domain == "" {
		cfg.Domain = "bench"
	}
	if cfg.Retention == "" {
		cfg.Retention = "365"
	}
	if cfg.Span <= 0 {
		cfg.Span = 365 * 24 * time.Hour
	}
	if cfg.End.IsZero() {
		cfg.End = time.Now()
	}
	cfg.End = cfg.End.UTC().Truncate(time.Millisecond)
	if cfg.Batch <= 0 {
		cfg.Batch = 2000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	return cfg
}

// typeConfig is the registered configuration of every seeded type.
func typeConfig() api.WorkflowTypeConfiguration {
	return api.WorkflowTypeConfiguration{
		DefaultChildPolicy:                  api.ChildPolicyTerminate,
		DefaultExecutionStartToCloseTimeout: "31536000",
		DefaultTaskList:                     &api.TaskList{Name: taskList},
		DefaultTaskStartToCloseTimeout:      "60",
	}
}

func register(ctx context.Context, st swfd.Store, cfg Config) error {
	created := cfg.End.Add(-cfg.Span - time.Hour)
	err := st.CreateDomain(ctx, swfd.Domain{Name: cfg.Domain, Description: api.String("seeded by swfd-seed"), Status: swfd.StatusRegistered,
		RetentionDays: cfg.Retention, Created: created}, 1<<30)
	if err != nil && !errors.Is(err, swfd.ErrAlreadyExists) {
		return fmt.Errorf("seed: create domain: %w", err)
	}
	conf, _ := json.Marshal(typeConfig())
	for _, t := range Types {
		err := st.CreateType(ctx, swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: cfg.Domain, Name: t.Name, Version: t.Version,
			Status: swfd.StatusRegistered, Created: created, Config: conf}, 1<<30)
		if err != nil && !errors.Is(err, swfd.ErrAlreadyExists) {
			return fmt.Errorf("seed: create type %s/%s: %w", t.Name, t.Version, err)
		}
	}
	return nil
}

// lookup answers the engine's type lookups (for continue-as-new) without
// the store.
type lookup struct{ domain string }

func (l lookup) ActivityType(string, string, string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool, error) {
	return swfd.TypeRecord{}, api.ActivityTypeConfiguration{}, false, nil
}

func (l lookup) WorkflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool, error) {
	for _, t := range Types {
		if domain == l.domain && t.Name == name && t.Version == version {
			return swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: domain, Name: name, Version: version, Status: swfd.StatusRegistered}, typeConfig(), true, nil
		}
	}
	return swfd.TypeRecord{}, api.WorkflowTypeConfiguration{}, false, nil
}

// gen builds runs; one per worker.
type gen struct {
	cfg    Config
	r      *rand.Rand
	worker uint64
	// recent are a few runs this generator built, parents for children.
	recent []api.WorkflowExecution
}

func newGen(cfg Config, worker uint64) *gen {
	return &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, worker+1)), worker: worker}
}

// sortable is the base64 alphabet in ASCII order: encoded big-endian
// numbers sort as strings.
const sortable = "+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// runID makes a run id shaped like the server's ("22" and 42 base64
// characters) whose first characters encode seq, so that runs written in
// sequence have increasing ids (like time-ordered UUIDs) and their index
// entries are appended rather than scattered: that makes seeding fast. The
// rest is random.
func (g *gen) runID(seq uint64) string {
	var b [44]byte
	b[0], b[1] = '2', '2'
	for i := 11; i >= 2; i-- { // 10 characters: 60 bits of sequence
		b[i] = sortable[seq&63]
		seq >>= 6
	}
	for i := 12; i < len(b); i += 8 {
		v := g.r.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = sortable[(v>>(6*j))&63]
		}
	}
	return string(b[:])
}

func pick(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func (g *gen) tags() []string {
	n := g.r.IntN(6) // 0..5
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for len(out) < n {
		t := TagVocabulary[g.r.IntN(len(TagVocabulary))]
		dup := false
		for _, o := range out {
			dup = dup || o == t
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

// spread is the offset of item i of n evenly spread over d.
func spread(d time.Duration, i, n int) time.Duration {
	return time.Duration(float64(d) * float64(i) / float64(max(n, 1)))
}

// jitter is a small random offset (up to a minute either way).
func (g *gen) jitter() time.Duration {
	return time.Duration(g.r.Int64N(int64(2*time.Minute))) - time.Minute
}

// duration draws a run's length: mostly seconds to minutes, some hours,
// a few days.
func (g *gen) duration() time.Duration {
	switch x := g.r.IntN(100); {
	case x < 60:
		return time.Duration(1+g.r.IntN(300)) * time.Second
	case x < 90:
		return time.Duration(5+g.r.IntN(180)) * time.Minute
	default:
		return time.Duration(3+g.r.IntN(7*24)) * time.Hour
	}
}

// run builds run number i (of the closed or the open set) as one Create
// update.
func (g *gen) run(i int, open bool) (swfd.Update, error) {
	cfg := g.cfg
	span := cfg.Span
	wt := Types[pick(g.r, typeWeights)]
	var wfID string
	switch {
	case open && i < CronWorkflows:
		wfID = "cron-" + strconv.Itoa(i) // the open run of each recurring workflow
	case open:
		wfID = fmt.Sprintf("open-%07d", i)
	case i%5 == 0:
		wfID = "cron-" + strconv.Itoa((i/5)%CronWorkflows)
	default:
		wfID = fmt.Sprintf("wf-%07d", i)
	}
	// Runs are made in time order (close time for closed runs, start time
	// for open ones), as a real domain accumulates them, with jitter.
	var start, closeAt time.Time
	var timeout string
	var seq uint64
	status := CloseStatuses[pick(g.r, statusWeights)]
	if open {
		// Open runs started within the span (less a day, so that their
		// one-year timeouts do not fire during a benchmark).
		s := span - 24*time.Hour
		start = cfg.End.Add(-s + spread(s, i, cfg.Open) + g.jitter())
		timeout = "31536000"
		seq = uint64(cfg.Closed + i)
	} else {
		d := g.duration()
		closeAt = cfg.End.Add(-span + spread(span, i, cfg.Closed) + g.jitter())
		if closeAt.After(cfg.End) {
			closeAt = cfg.End
		}
		start = closeAt.Add(-d)
		if status == api.CloseStatusTimedOut {
			d = d.Truncate(time.Second) + time.Second
			start = closeAt.Add(-d)
			timeout = strconv.Itoa(int(d / time.Second))
		} else {
			timeout = "31536000"
		}
		seq = uint64(i)
	}
	start = start.Truncate(time.Millisecond)
	closeAt = closeAt.Truncate(time.Millisecond)
	p := history.StartParams{
		Domain: cfg.Domain, WorkflowID: wfID, RunID: g.runID(seq), WorkflowType: wt,
		Config: history.Config{TaskList: taskList, ExecutionStartToCloseTimeout: timeout, TaskStartToCloseTimeout: "60",
			ChildPolicy: api.ChildPolicyTerminate},
		Input:   api.String(`{"seq":` + strconv.Itoa(i) + `,"source":"swfd-seed"}`),
		TagList: g.tags(),
	}
	if len(g.recent) > 0 && g.r.IntN(20) == 0 {
		parent := g.recent[g.r.IntN(len(g.recent))]
		p.Parent = &parent
		p.ParentInitiatedEventID = 5
	}
	env := history.Env{Now: start, Types: lookup{cfg.Domain}, NewRunID: func() string { return g.runID(seq | 1<<59) },
		Limits: history.DefaultLimits}
	st, res := history.Start(env, p)
	events := res.Events
	if !open {
		more, err := g.close(st, env, status, closeAt)
		if err != nil {
			return swfd.Update{}, fmt.Errorf("seed: close run %d as %s: %w", i, status, err)
		}
		events = append(events, more...)
		if len(g.recent) < 64 {
			g.recent = append(g.recent, api.WorkflowExecution{WorkflowID: wfID, RunID: st.RunID})
		} else {
			g.recent[g.r.IntN(len(g.recent))] = api.WorkflowExecution{WorkflowID: wfID, RunID: st.RunID}
		}
	}
	return update(st, &res, events, cfg.NoEvents)
}

// close runs the closing steps of a run and returns their events.
func (g *gen) close(st *history.State, env history.Env, status api.CloseStatus, at time.Time) ([]api.HistoryEvent, error) {
	var out []api.HistoryEvent
	step := func(res history.Result, err error) error {
		out = append(out, res.Events...)
		return err
	}
	decide := func(d api.Decision) error {
		// The decider takes its task shortly before it answers, within
		// the task's timeout (60 s): an answer past it would be refused,
		// the task timed out.
		env.Now = at.Add(-min(time.Second, at.Sub(st.StartTime)/2)).Truncate(time.Millisecond)
		if err := step(st.StartDecisionTask(env, st.Decision.ScheduledID, api.String("seed-decider"))); err != nil {
			return err
		}
		env.Now = at
		return step(st.CompleteDecisionTask(env, st.Decision.StartedID, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{d}}))
	}
	var err error
	switch status {
	case api.CloseStatusCompleted:
		err = decide(api.Decision{DecisionType: api.DecisionTypeCompleteWorkflowExecution,
			CompleteWorkflowExecutionDecisionAttributes: &api.CompleteWorkflowExecutionDecisionAttributes{Result: api.String(`{"ok":true}`)}})
	case api.CloseStatusFailed:
		err = decide(api.Decision{DecisionType: api.DecisionTypeFailWorkflowExecution,
			FailWorkflowExecutionDecisionAttributes: &api.FailWorkflowExecutionDecisionAttributes{Reason: api.String("seeded failure"), Details: api.String("details")}})
	case api.CloseStatusCanceled:
		env.Now = st.StartTime
		if err = step(st.RequestCancel(env)); err == nil {
			err = decide(api.Decision{DecisionType: api.DecisionTypeCancelWorkflowExecution,
				CancelWorkflowExecutionDecisionAttributes: &api.CancelWorkflowExecutionDecisionAttributes{Details: api.String("canceled")}})
		}
	case api.CloseStatusContinuedAsNew:
		// The new run is not written: the data set counts closed and
		// open runs exactly as asked.
		err = decide(api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution,
			ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{Input: api.String("next")}})
	case api.CloseStatusTerminated:
		env.Now = at
		err = step(st.Terminate(env, api.String("seeded termination"), nil, "", ""))
	case api.CloseStatusTimedOut:
		env.Now = at
		err = step(st.FireTimer(env, history.WorkflowTimerKey))
	}
	if err != nil {
		return nil, err
	}
	if st.Open || st.CloseStatus != status {
		return nil, fmt.Errorf("run did not close as %s (open %v, status %s)", status, st.Open, st.CloseStatus)
	}
	return out, nil
}

// update is the Create update of a run in its final state, as the service
// would store it.
func update(st *history.State, start *history.Result, events []api.HistoryEvent, noEvents bool) (swfd.Update, error) {
	state, err := json.Marshal(st)
	if err != nil {
		return swfd.Update{}, fmt.Errorf("seed: encode state: %w", err)
	}
	e := swfd.Execution{
		Domain: st.Domain, WorkflowID: st.WorkflowID, RunID: st.RunID,
		TypeName: st.WorkflowType.Name, TypeVersion: st.WorkflowType.Version,
		StartTime: st.StartTime, CloseTime: st.CloseTime, Open: st.Open, CloseStatus: string(st.CloseStatus),
		Tags: st.TagList, CancelRequested: st.CancelRequested, Version: 1, State: state,
	}
	if st.Parent != nil {
		e.ParentWorkflowID, e.ParentRunID = st.Parent.WorkflowID, st.Parent.RunID
	}
	u := swfd.Update{Execution: e, Create: true, Closed: !st.Open}
	if !noEvents {
		u.Events = make([]swfd.Event, len(events))
		for i, ev := range events {
			b, err := json.Marshal(ev)
			if err != nil {
				return swfd.Update{}, fmt.Errorf("seed: encode event: %w", err)
			}
			u.Events[i] = swfd.Event{ID: ev.EventID, JSON: b}
		}
	}
	if st.Open && start != nil {
		// The open run's pending decision task and timeout timer, as
		// history.Start made them, so that a server can work on it.
		u.AddTasks, u.AddTimers = start.AddTasks, start.AddTimers
	}
	return u, nil
}
