// Package runs is the run store: it keeps workflow runs for the service and
// is the one place a run changes. A call on a run takes the run's lock
// (Lock), loads it (from the run cache, else the store), runs one step of
// the history engine on it, and commits the step's events, state, tasks,
// timers and messages in one store batch (Commit). After each durable
// commit it keeps its own caches current (runs and their histories, open
// executions per domain) and then tells every Listener what changed: the
// task lists (whose listener also tells the other nodes of a cluster), the
// timer and transfer loops, and whatever else listens (metrics, live
// views).
//
// Runs are read back through it too: history pages and activity inputs are
// served from the cache when it holds them. The cache is bounded by the
// memory its runs hold (Options.CacheBytes, as estimated) and by their
// number; a run it has let go is read from the store, with the same
// outcome.
//
// On a single node every commit goes through this process, so cached runs
// are the stored ones. In a cluster (Options.Shared) other nodes commit to
// the same store: a cached run may be behind, so a step decided on one
// commits only if the stored version still matches (Step), and history is
// served from the cache only up to events it is known to hold. A step that
// loses that race HoldAfter times in a row holds the run in the store for
// its next attempt (swfd.ExecutionStore.HoldRun), so that the other nodes'
// steps of the run wait for it instead of overtaking it again.
package runs

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// Options configure a Store.
type Options struct {
	// Store is where runs are kept. Types are looked up through it too:
	// give it the registry's caching store.
	Store swfd.Store
	// Clock stamps the steps: the workflows' time, which a test may hold
	// still or move by days at once.
	Clock swfd.Clock
	// Wall is the clock of the store's own upkeep, which goes by how
	// much real time has passed whatever time the workflows are at (how
	// old a cluster's count of open executions is); the system clock
	// when nil. Tests set it to move it themselves.
	Wall              swfd.Clock
	Limits            history.Limits
	MaxOpenExecutions int // per domain
	// Shared says that other nodes commit to Store too (a cluster):
	// cached runs may then be behind it.
	Shared bool
	// Lambda says that Lambda functions can be invoked (history.Env.Lambda).
	Lambda bool
	// CacheBytes bounds the memory the run cache holds, as estimated from
	// the states and histories of its runs (DefaultCacheBytes when zero or
	// less). Runs past it are evicted, least recently used first, and read
	// from the store when next used.
	CacheBytes int
	// StoreCommit, if set, is told how long each commit to the store took
	// and how it ended: nil, an error wrapping swfd.ErrConflict (another
	// writer won the race; the step is decided again), or a failure (for
	// metrics).
	StoreCommit func(d time.Duration, err error)
}

// Store is the run store.
type Store struct {
	store  swfd.Store
	clock  swfd.Clock
	wall   swfd.Clock // Options.Wall
	limits history.Limits
	shared bool
	lambda bool

	locks *runLocks
	cache *runCache

	// openMu guards open: executions open per domain, counted from the
	// store on first use and kept current by commits, so the per-domain
	// limit costs no query per start. In a cluster the other nodes'
	// commits change the counts too: there a count is taken again once it
	// is SharedOpenCountKept old, by the wall clock.
	openMu  sync.Mutex
	open    map[string]*openCount
	maxOpen int
	// On a single node a domain's first count must agree with the commits
	// that change it: an execution the store counts (or not) while its
	// commit is under way must be added to the count afterwards (or not)
	// accordingly. openBusy counts, per domain, the commits in flight that
	// open or close its executions; openFirst marks the domains whose
	// first count waits for them, and holds new ones back until it is
	// taken. openWait (over openMu) wakes the waiters of either.
	openBusy  map[string]int
	openFirst map[string]bool
	openWait  *sync.Cond

	listeners atomic.Pointer[[]Listener]

	storeCommit  func(time.Duration, error)
	hits, misses atomic.Uint64 // loads served from the run cache, and from the store
}

// runCacheSize bounds the runs whose state is kept in memory (besides
// Options.CacheBytes).
const runCacheSize = 20000

// New returns a Store over opts.Store.
func New(opts Options) *Store {
	s := &Store{
		store:   opts.Store,
		clock:   opts.Clock,
		wall:    opts.Wall,
		limits:  opts.Limits,
		shared:  opts.Shared,
		lambda:  opts.Lambda,
		locks:   newRunLocks(),
		cache:   newRunCache(runCacheSize, cmp.Or(max(opts.CacheBytes, 0), DefaultCacheBytes)),
		open:    map[string]*openCount{},
		maxOpen: opts.MaxOpenExecutions,

		openBusy:  map[string]int{},
		openFirst: map[string]bool{},

		storeCommit: opts.StoreCommit,
	}
	s.cache.guarded = opts.Shared
	s.openWait = sync.NewCond(&s.openMu)
	if s.clock == nil {
		s.clock = swfd.SystemClock{}
	}
	if s.wall == nil {
		s.wall = swfd.SystemClock{}
	}
	return s
}

// Shared reports whether other nodes commit to the store too.
func (s *Store) Shared() bool { return s.shared }

// Now is the time steps are stamped with: the clock's, to the millisecond.
func (s *Store) Now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// Lock takes a run's lock, which serializes the calls on one run, and
// returns its release. Each run has a lock of its own: calls on other runs
// never wait for it.
func (s *Store) Lock(runID string) (unlock func()) {
	return s.locks.lock(runID)
}

// LockWithin is Lock that gives up waiting when ctx ends: ok is false then,
// and unlock nil.
func (s *Store) LockWithin(ctx context.Context, runID string) (unlock func(), ok bool) {
	return s.locks.lockWithin(ctx, runID)
}

// Run is one loaded execution: its stored row and the engine's state. The
// caller owns it: it is a private copy.
type Run struct {
	Row   swfd.Execution
	State *history.State
	// cached: the run came from the run cache, which in a cluster may be
	// behind the store. committed: a step on it has committed.
	cached, committed bool
	// memo encodes the run's states for its commits (see
	// history.JSONMemo): the cache entry's, shared by every step of the
	// run that loads it from there; nil until a state of the run is worth
	// one.
	memo *history.JSONMemo
	// detailsInline: the stored state held heartbeat details itself (as
	// swfd before 0005 kept them, or a node of it still does in a cluster
	// being upgraded); the run's next commit stores them all apart.
	detailsInline bool
	// hold, when set, holds the run in the store for this step (see
	// Step): the step's commit goes through it.
	hold swfd.RunHold
	// history, when set, is the run's whole history as stored, read
	// during the step (ActivityInput): the cache keeps it, with the
	// step's events, once the step commits.
	history []api.HistoryEvent
}

// inlineKey starts the heartbeat details of an activity in a state that
// holds them: a key can only appear unescaped, so it does not match inside
// a string of the state.
var inlineKey = []byte(`"HeartbeatDetails":`)

// decodeRun decodes a stored run and gives its activities the heartbeat
// details stored apart (Heartbeats). Details a state still holds itself
// were written after any stored apart (swfd writes them apart only, and
// drops those of the state with its next commit), so they win.
func (s *Store) decodeRun(ctx context.Context, row swfd.Execution, heartbeats func(context.Context) ([]swfd.Heartbeat, error)) (*Run, error) {
	st := new(history.State)
	if err := json.Unmarshal(row.State, st); err != nil {
		return nil, fmt.Errorf("decode state of run %s: %w", row.RunID, err)
	}
	r := &Run{Row: row, State: st}
	if len(st.Activities) == 0 {
		return r, nil
	}
	hbs, err := heartbeats(ctx)
	if err != nil {
		return nil, fmt.Errorf("heartbeat details of run %s: %w", row.RunID, err)
	}
	if len(hbs) > 0 {
		bySched := make(map[int64]*string, len(hbs))
		for _, hb := range hbs {
			bySched[hb.ScheduledEventID] = hb.Details
		}
		for _, a := range st.Activities {
			if d, ok := bySched[a.ScheduledID]; ok {
				a.HeartbeatDetails = d
			}
		}
	}
	if bytes.Contains(row.State, inlineKey) {
		var inline struct {
			Activities map[string]struct{ HeartbeatDetails *string }
		}
		if err := json.Unmarshal(row.State, &inline); err != nil {
			return nil, fmt.Errorf("decode heartbeat details of run %s: %w", row.RunID, err)
		}
		for id, in := range inline.Activities {
			if a := st.Activities[id]; a != nil && in.HeartbeatDetails != nil {
				a.HeartbeatDetails = in.HeartbeatDetails
				r.detailsInline = true
			}
		}
	}
	return r, nil
}

// Load loads a run by id, from the cache if it holds it; the run must
// belong to domain (any domain when domain is empty). The caller holds the
// run's lock.
func (s *Store) Load(ctx context.Context, domain, runID string) (*Run, error) {
	if r, ok := s.cache.get(runID); ok && (domain == "" || r.Row.Domain == domain) {
		s.hits.Add(1)
		return r, nil
	}
	s.misses.Add(1)
	return s.LoadStored(ctx, domain, runID)
}

// CacheStats reports how many loads the run cache has served (hits) and
// how many went to the store (misses) since the store was made, and how
// many runs it holds now, with their estimated bytes.
func (s *Store) CacheStats() (hits, misses uint64, runs, bytes int) {
	runs, bytes = s.cache.len()
	return s.hits.Load(), s.misses.Load(), runs, bytes
}

// LoadStored reads a run from the store, bypassing the cache.
func (s *Store) LoadStored(ctx context.Context, domain, runID string) (*Run, error) {
	row, err := s.store.GetExecution(ctx, domain, runID)
	if err != nil {
		return nil, err
	}
	return s.decodeRun(ctx, row, func(ctx context.Context) ([]swfd.Heartbeat, error) {
		return s.store.Heartbeats(ctx, runID)
	})
}

// loadHeld reads a run from the store and holds it there for one step
// (swfd.ExecutionStore.HoldRun), for at most ctx's time: the step's commit
// goes through the hold, and release ends the hold if it did not.
func (s *Store) loadHeld(ctx context.Context, domain, runID string) (r *Run, release func(), err error) {
	row, h, err := s.store.HoldRun(ctx, domain, runID)
	if err != nil {
		return nil, func() {}, err
	}
	r, err = s.decodeRun(ctx, row, h.Heartbeats)
	if err != nil {
		h.Release()
		return nil, func() {}, err
	}
	r.hold = h
	return r, h.Release, nil
}

// RunDomain returns the domain of a run: from the cache if it holds the
// run, else from the store (an error wrapping swfd.ErrNotFound when there
// is no such run). A run's domain never changes, so it needs neither the
// run's lock nor, in a cluster, the stored version. It tells the domains of
// the task tokens that do not carry them (token.Runs).
func (s *Store) RunDomain(ctx context.Context, runID string) (string, error) {
	if cr, ok := s.cache.lookup(runID, false); ok {
		return cr.row.Domain, nil
	}
	row, err := s.store.GetExecution(ctx, "", runID)
	if err != nil {
		return "", err
	}
	return row.Domain, nil
}

// LoadCurrent loads a run for a step that may end without a commit and yet
// must be decided on the stored state (delivering a message, which fails
// without updating the target): from the cache on a single node, whose
// cache is the store, from the store in a cluster.
func (s *Store) LoadCurrent(ctx context.Context, domain, runID string) (*Run, error) {
	if s.shared {
		return s.LoadStored(ctx, domain, runID)
	}
	return s.Load(ctx, domain, runID)
}

// Evict drops a run from the cache (another node changed it).
func (s *Store) Evict(runID string) { s.cache.evict(runID) }

// ForgetClosed drops from the cache every closed run of the domains in
// cutoffs that closed before its domain's cutoff: the runs the retention
// loop purges (this node's or another's). A purged run left in the cache
// would still be found by its id, and a call on it answered as for a run
// that is there.
func (s *Store) ForgetClosed(cutoffs map[string]time.Time) { s.cache.forgetClosed(cutoffs) }

// Purging tells the cache that the retention loop is about to purge the
// closed runs of domain that closed before cutoff: from then on the cache
// answers none of them (it drops each as it is looked up), so that none is
// answered as there once the store has deleted it. ForgetClosed, after the
// loop's pass, drops the rest at once.
func (s *Store) Purging(domain string, cutoff time.Time) {
	s.cache.purging(map[string]time.Time{domain: cutoff})
}

// Step runs a step on a run: fn gets the loaded run (or the error loading
// it), decides, and commits. The caller holds the run's lock. A step whose
// commit lost a race is run again on the state that won (RetryConflicts).
//
// A step that has lost HoldAfter races in a row holds the run in the store
// for each attempt after (swfd.ExecutionStore.HoldRun): it reads the run
// there, and until its commit other nodes' commits of the run wait for it,
// so that however slowly it decides, and however busy the run, it is not
// overtaken again. The first attempts go without: a hold costs a
// transaction for the whole step and makes the run's other writers wait,
// and most steps never lose a race. A store may bound the runs it holds at
// once (the PostgreSQL store leaves part of its pool to other reads): an
// attempt past that bound reads the run and commits optimistically, and
// the next attempt tries for a hold again. A hold waits for the run at most for
// the call's remaining time (as RetryConflicts bounds it), and failing
// that the step fails with swfd.ErrLocked.
//
// In a cluster the run may come from this node's cache while another node
// has changed it since. A commit made from such a state fails its version
// check, and so is never wrong; but a step that ends otherwise — with a
// fault, or with nothing to commit — may have been decided on old news, so
// it is decided again on the stored run, whose answer stands. A step whose
// commit failed otherwise (the database went away mid-commit) is not: the
// commit may have been applied all the same, and the stored run would then
// answer as if the call had never been made (an UnknownResourceFault for a
// task it has just completed). Its error stands, and says the outcome is
// unknown. (A commit that found the run gone, ErrNotFound, applied
// nothing: that step is decided again.) A step that committed and then
// answered a fault (a call refused at the history limit, whose
// termination of the run committed) was decided on the stored run, since
// its commit passed the version check: its answer stands too.
func (s *Store) Step(ctx context.Context, domain, runID string, fn func(r *Run, loadErr error) error) error {
	return s.step(ctx, domain, runID, false, fn)
}

// StepStored is Step on the stored run: each attempt reads it from the
// store, never from the cache (the timer loop's steps, which other nodes
// may have made first).
func (s *Store) StepStored(ctx context.Context, domain, runID string, fn func(r *Run, loadErr error) error) error {
	return s.step(ctx, domain, runID, true, fn)
}

func (s *Store) step(ctx context.Context, domain, runID string, stored bool, fn func(r *Run, loadErr error) error) error {
	return retryConflicts(ctx, cmp.Or(swfd.LockWait(ctx), ConflictWait), func(bounded context.Context, attempt int) error {
		if attempt >= HoldAfter {
			r, release, err := s.loadHeld(bounded, domain, runID)
			defer release()
			return fn(r, err)
		}
		if stored {
			return fn(s.LoadStored(ctx, domain, runID))
		}
		r, err := s.Load(ctx, domain, runID)
		err = fn(r, err)
		_, isFault := api.AsFault(err)
		if r != nil && r.cached && s.shared && !r.committed && (isFault || errors.Is(err, swfd.ErrNotFound) || err == nil) {
			s.cache.evict(runID)
			r, err = s.LoadStored(ctx, domain, runID)
			err = fn(r, err)
		}
		return err
	})
}

// HoldAfter is how many races in a row a step of Step loses before it
// holds its run for the next attempt.
const HoldAfter = 3

// ConflictWait is how long RetryConflicts goes on deciding a step again
// when its context has neither a deadline (a call's) nor a lock wait
// (swfd.WithLockWait, the timer loop's): a poll's start of a task, a
// Lambda task's steps.
const ConflictWait = 10 * time.Second

// RetryConflicts runs a load-apply-commit step again when its commit lost
// an optimistic-concurrency race (another writer — another node, or a
// concurrent step of this one — updated the run first). Each attempt
// reloads the run, so the step is decided on the state that won.
//
// A lost race means that another writer's step committed, so the writers
// of a run as a whole always progress; but one step may lose many races in
// a row while other nodes keep writing its run (a decision task's
// completion, or a termination, on a run that a storm of signals from
// several nodes keeps changing). The number of attempts is therefore not
// bounded, only the time: RetryConflicts goes on until ctx is done; when
// ctx has no deadline, for its lock wait (background work that leaves a
// busy run for later and goes on with the others), else for ConflictWait.
// (Step and StepStored, through which runs are stepped, end such a run of
// losses by holding the run after HoldAfter of them; a step given to
// RetryConflicts itself does not.) A step that runs out of time
// applied nothing, and its error wraps swfd.ErrLocked (the API answers
// ServiceUnavailable, which SDKs retry; the background loops leave the run
// for a moment), not swfd.ErrConflict: it must not pass for a stale
// request (IsStale), which callers drop — a poll would drop the task it
// was starting, and no poller would be given it again. A ctx canceled (the
// client gone) ends it with ctx.Err().
func RetryConflicts(ctx context.Context, step func() error) error {
	return retryConflicts(ctx, cmp.Or(swfd.LockWait(ctx), ConflictWait), func(context.Context, int) error { return step() })
}

// retryConflicts is RetryConflicts, with the time to go on for when ctx
// has no deadline; step is given ctx with that deadline, and how many
// attempts lost before it.
func retryConflicts(ctx context.Context, wait time.Duration, step func(ctx context.Context, attempt int) error) error {
	began := time.Now()
	var cancel context.CancelFunc
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		err := step(ctx, attempt)
		if !errors.Is(err, swfd.ErrConflict) {
			return err
		}
		// The loser waits a little, at random (up to 8 ms), so that two
		// nodes' steps that keep overtaking each other fall out of step;
		// the first retry goes at once, on the state that has just won.
		var pause time.Duration
		if attempt > 0 {
			pause = mrand.N(time.Duration(min(attempt, 8)) * time.Millisecond)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.Canceled) {
				return ctx.Err()
			}
			// %v, not %w: the conflict must not be taken for a stale
			// request.
			return fmt.Errorf("gave up after %d attempts in %s, each overtaken by another writer of the run (last: %v): %w",
				attempt+1, time.Since(began).Round(time.Millisecond), err, swfd.ErrLocked)
		case <-t.C:
		}
	}
}

// IsStale reports whether err means that what a step acted on no longer
// exists: the run is gone, another writer changed it first, or the engine
// does not know the task or run (UnknownResourceFault).
func IsStale(err error) bool {
	if errors.Is(err, swfd.ErrNotFound) || errors.Is(err, swfd.ErrConflict) {
		return true
	}
	f, ok := api.AsFault(err)
	return ok && f.Code == api.UnknownResourceFault
}

// SharedOpenCountKept is how long a node of a cluster goes on with a
// domain's count of open executions, kept current by its own commits only,
// before it counts them in the store again: the executions other nodes
// started or closed meanwhile are not in it until then. It is real time
// (Options.Wall), not the workflows' clock: how long the other nodes'
// commits go unseen does not depend on the time the workflows are at,
// and a clock a test holds still would keep the count for ever.
const SharedOpenCountKept = time.Second

// openCount is a domain's count of open executions.
type openCount struct {
	n  int
	at time.Time // when it was counted in the store, by the wall clock
	// counting is set while a call counts it again in the store (in a
	// cluster): the other calls go on with n meanwhile.
	counting bool
}

// OpenExecutions returns how many executions are open in a domain. On a
// single node the count is taken from the store once, whatever commits are
// under way meanwhile, and kept current by every commit; in a cluster it
// misses what the other nodes started or closed in the last
// SharedOpenCountKept of real time.
func (s *Store) OpenExecutions(ctx context.Context, domain string) (int, error) {
	s.openMu.Lock()
	now := s.wall.Now()
	c := s.open[domain]
	if c != nil && (!s.shared || c.counting || now.Sub(c.at) < SharedOpenCountKept && !now.Before(c.at)) {
		n := c.n
		s.openMu.Unlock()
		return n, nil
	}
	if !s.shared {
		return s.firstOpenCount(ctx, domain, now)
	}
	// In a cluster, counted without the lock: a count takes a query over
	// the domain's open executions, and the starts of every domain would
	// wait for it. A call that finds it being counted goes on with the
	// last count meanwhile.
	if c != nil {
		c.counting = true
	}
	s.openMu.Unlock()
	n, err := s.store.CountOpen(ctx, domain)
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if c != nil {
		c.counting = false
	}
	if err != nil {
		return 0, err
	}
	s.open[domain] = &openCount{n: n, at: now}
	return n, nil
}

// firstOpenCount counts a domain's open executions in the store, on a
// single node, where from then on this node's commits, the only ones, keep
// the count current. The caller holds openMu; it is released on return.
//
// A commit that opens or closes one of the domain's executions while it is
// counted could be in the count and then added to it again, or in neither:
// the count is taken once no such commit is in flight, new ones held back
// until it is (openBusy, openFirst). They are held back for one query, once
// per domain; the starts of the other domains wait for it too, as the lock
// is held.
func (s *Store) firstOpenCount(ctx context.Context, domain string, now time.Time) (int, error) {
	defer s.openMu.Unlock()
	for s.openBusy[domain] > 0 {
		s.openFirst[domain] = true
		s.openWait.Wait()
		if c := s.open[domain]; c != nil {
			// Another call counted it meanwhile.
			return c.n, nil
		}
	}
	defer func() {
		if s.openFirst[domain] {
			delete(s.openFirst, domain)
			s.openWait.Broadcast()
		}
	}()
	n, err := s.store.CountOpen(ctx, domain)
	if err != nil {
		return 0, err
	}
	s.open[domain] = &openCount{n: n, at: now}
	return n, nil
}

// openDeltas returns how a batch, once committed, changes the open
// executions of each domain (only the domains it changes).
func (b *Batch) openDeltas() map[string]int {
	var d map[string]int
	for i, u := range b.batch.Updates {
		delta := 0
		if u.Create && u.Execution.Open {
			delta++
		}
		if b.results[i].Closed {
			delta--
		}
		if delta != 0 {
			if d == nil {
				d = map[string]int{}
			}
			d[u.Execution.Domain] += delta
		}
	}
	for dom, n := range d {
		if n == 0 {
			delete(d, dom)
		}
	}
	return d
}

// beginOpenCommit is called before a commit that changes the open
// executions of the domains in deltas: on a single node it waits while a
// domain's first count waits for the commits in flight, then counts this
// one among them.
func (s *Store) beginOpenCommit(deltas map[string]int) {
	if len(deltas) == 0 || s.shared {
		return
	}
	s.openMu.Lock()
	defer s.openMu.Unlock()
	for s.anyFirst(deltas) {
		s.openWait.Wait()
	}
	for dom := range deltas {
		s.openBusy[dom]++
	}
}

func (s *Store) anyFirst(deltas map[string]int) bool {
	for dom := range deltas {
		if s.openFirst[dom] {
			return true
		}
	}
	return false
}

// endOpenCommit is called after a commit that changes the open executions
// of the domains in deltas (and after beginOpenCommit), with its error: one
// that committed changes their counts by deltas. One that failed may have
// been applied all the same (the database went away mid-commit): their
// counts are dropped, to be taken again when next needed. (One that lost a
// race, or found its run gone, applied nothing.)
func (s *Store) endOpenCommit(deltas map[string]int, err error) {
	if len(deltas) == 0 {
		return
	}
	unknown := err != nil && !errors.Is(err, swfd.ErrConflict) && !errors.Is(err, swfd.ErrNotFound)
	s.openMu.Lock()
	defer s.openMu.Unlock()
	for dom, n := range deltas {
		if c := s.open[dom]; c != nil && err == nil {
			c.n += n
		} else if c != nil && unknown && !c.counting {
			delete(s.open, dom)
		}
		if !s.shared {
			if s.openBusy[dom]--; s.openBusy[dom] <= 0 {
				delete(s.openBusy, dom)
				s.openWait.Broadcast()
			}
		}
	}
}

// Env returns the history environment of one call: the time now, types
// looked up through the store, the domain's open executions, and the
// limits. Lookups made with it use ctx, the call's context.
func (s *Store) Env(ctx context.Context) history.Env {
	return history.Env{
		Now:      s.Now(),
		Types:    typeLookup{ctx, s.store},
		NewRunID: NewRunID,
		Limits:   s.limits,
		Lambda:   s.lambda,
		OpenExecutions: func(domain string) (int, int, error) {
			n, err := s.OpenExecutions(ctx, domain)
			if err != nil {
				return 0, 0, fmt.Errorf("count open executions of domain %s: %w", domain, err)
			}
			return n, s.maxOpen, nil
		},
	}
}

// typeLookup reads types from the store for the engine. A store error (or
// the call's context ending first) is returned, not taken for "no such
// type": the engine then fails the step, and the call with it, instead of
// recording that the type does not exist. The lookup lives for one call:
// ctx is that call's.
type typeLookup struct {
	ctx   context.Context
	store swfd.Store
}

func (l typeLookup) ActivityType(domain, name, version string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool, error) {
	var cfg api.ActivityTypeConfiguration
	t, found, err := l.get(swfd.ActivityKind, domain, name, version, &cfg)
	return t, cfg, found, err
}

func (l typeLookup) WorkflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool, error) {
	var cfg api.WorkflowTypeConfiguration
	t, found, err := l.get(swfd.WorkflowKind, domain, name, version, &cfg)
	return t, cfg, found, err
}

// get reads a type and decodes its configuration into cfg. A type of a
// deprecated domain is answered deprecated whatever its own status, so that
// no decision starts new work in such a domain (deprecating the domain
// deprecated its types, and none can be registered or undeprecated in it
// since; one left registered by a version of swfd that allowed it is
// refused all the same).
func (l typeLookup) get(kind swfd.TypeKind, domain, name, version string, cfg any) (swfd.TypeRecord, bool, error) {
	t, err := l.store.GetType(l.ctx, kind, domain, name, version)
	if errors.Is(err, swfd.ErrNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("look up %s type %s/%s: %w", kind, name, version, err)
	}
	if t.Status == swfd.StatusRegistered {
		d, err := l.store.GetDomain(l.ctx, domain)
		if err != nil && !errors.Is(err, swfd.ErrNotFound) {
			return t, false, fmt.Errorf("look up domain %s: %w", domain, err)
		}
		if err == nil && d.Status != swfd.StatusRegistered {
			t.Status = swfd.StatusDeprecated
		}
	}
	if err := Decode(t.Config, cfg); err != nil {
		return t, false, err
	}
	return t, true, nil
}

// Decode decodes a stored JSON value (a type's configuration, an event)
// into v, saying what it failed to decode.
func Decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode stored %T: %w", v, err)
	}
	return nil
}

// NewRunID returns a run id shaped like the real service's (44 characters
// of the base64 alphabet, starting "22"). Characters 3 to 10 are the
// current millisecond in an alphabet that sorts like the numbers it spells,
// so that ids of runs started close together sort close together: every
// index keyed by run id (the runs, their events, tasks and timers) then
// takes a commit's new rows into a few adjacent pages instead of one random
// page each, which is most of what a commit writes. The rest is random.
func NewRunID() string {
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
