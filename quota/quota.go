// Package quota throttles calls and decisions with token buckets, as
// Amazon SWF does: each bucket holds at most Size tokens, gains Rate tokens
// a second, and each call (or decision) takes one; a call that finds its
// bucket empty is refused with ThrottlingException and does nothing, and a
// decision that finds its bucket empty fails with its *_RATE_EXCEEDED cause.
//
// A Config says which buckets there are: one per API operation for the
// whole account, one per workflow execution for the four operations SWF
// limits per execution, one per rate-limited decision type, and one per
// task list for the activity tasks scheduled on it. AWS returns the real
// service's defaults; a quota file (Load) overrides them per operation,
// per domain or per principal. An override for a domain or a principal
// gives that domain or principal a bucket of its own in place of the
// account's.
//
// A Limiter keeps the buckets in memory and reads the time from the
// injectable clock (swfd.Clock), so a test moves a manual clock instead of
// sleeping. It knows nothing of HTTP, the store or the history: the
// frontend asks it about each call (Allow), and a decision batch about each
// decision through a Batch, whose tokens go back to their buckets if the
// batch is not committed. Buckets are per process: in a cluster each node
// applies them to the calls it serves.
package quota

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Limit is one bucket's setting: Size tokens at most (the burst of calls
// allowed at once), refilled at Rate tokens a second. Unlimited means no
// bucket at all (an override that lifts a default).
type Limit struct {
	Size      float64
	Rate      float64
	Unlimited bool
}

// Set is the limits of one scope (the account, a domain, a principal). A
// missing entry means the next scope's: a principal's, then a domain's,
// then the account's.
type Set struct {
	// Operations: one bucket per operation for the scope.
	Operations map[string]Limit
	// Executions: one bucket per workflow execution and operation, for
	// GetWorkflowExecutionHistory, SignalWorkflowExecution,
	// RecordActivityTaskHeartbeat and RequestCancelWorkflowExecution.
	Executions map[string]Limit
	// Decisions: one bucket per rate-limited decision type.
	Decisions map[api.DecisionType]Limit
	// ActivityTaskList: one bucket per task list for the activity tasks
	// scheduled on it; nil: the next scope's.
	ActivityTaskList *Limit
}

// Config is every quota: the account's (the embedded Set), and the
// overrides of domains and principals. A principal is named as the auth
// file names it, and only a call it signs is its (Call.Principal); without
// authentication no call has a principal, and principals' overrides apply
// to none.
type Config struct {
	Set
	Domains    map[string]*Set
	Principals map[string]*Set
}

// UnknownPrincipals returns, sorted, the principals c gives overrides to
// that known does not know (with authentication on, the auth file's
// principals): no call is ever made by them, so their overrides would
// apply to nothing.
func (c *Config) UnknownPrincipals(known func(name string) bool) []string {
	var unknown []string
	for _, name := range slices.Sorted(maps.Keys(c.Principals)) {
		if !known(name) {
			unknown = append(unknown, name)
		}
	}
	return unknown
}

// RateLimitedDecisions are the decision types a bucket may limit: those
// whose *Failed event has a *_RATE_EXCEEDED cause.
var RateLimitedDecisions = []api.DecisionType{
	api.DecisionTypeScheduleActivityTask,
	api.DecisionTypeStartTimer,
	api.DecisionTypeStartChildWorkflowExecution,
	api.DecisionTypeSignalExternalWorkflowExecution,
	api.DecisionTypeRequestCancelExternalWorkflowExecution,
	api.DecisionTypeContinueAsNewWorkflowExecution,
	api.DecisionTypeScheduleLambdaFunction,
}

// ExecutionOperations are the operations that may have a bucket per
// workflow execution.
var ExecutionOperations = []string{
	"GetWorkflowExecutionHistory", "SignalWorkflowExecution", "RecordActivityTaskHeartbeat", "RequestCancelWorkflowExecution",
}

// Call is one API call as the limiter sees it.
type Call struct {
	Operation string
	Domain    string // the domain it acts on; "" if none (ListDomains) or unknown
	Principal string // the auth-file principal that signed it; "" without auth
	// Execution names the workflow execution it acts on, for the
	// per-execution buckets; "" if none.
	Execution string
}

// Limiter applies a Config. Its methods are safe for concurrent use.
type Limiter struct {
	clock swfd.Clock

	mu      sync.Mutex
	cfg     *Config
	buckets map[bucketKey]*bucket
	// sweepAt is the number of buckets past which full ones (which are as
	// good as none) are dropped, so buckets per execution and task list do
	// not pile up.
	sweepAt int
}

// minSweep is the least number of buckets kept before full ones are
// dropped.
const minSweep = 1024

// New returns a Limiter applying cfg, reading the time from clock (the
// system clock if nil).
func New(cfg *Config, clock swfd.Clock) *Limiter {
	if clock == nil {
		clock = swfd.SystemClock{}
	}
	return &Limiter{clock: clock, cfg: cfg, buckets: map[bucketKey]*bucket{}, sweepAt: minSweep}
}

// SetConfig puts cfg in force (a reloaded quota file). Buckets keep the
// tokens they hold, within their new size; a bucket whose limit is lifted
// is no longer consulted.
func (l *Limiter) SetConfig(cfg *Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
}

// Refill fills every bucket again, as a new Limiter's are, keeping the
// Config in force: a --dev reset starts the next test with none of the
// tokens the last one spent missing.
func (l *Limiter) Refill() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buckets)
	l.sweepAt = minSweep
}

// Config returns the Config in force.
func (l *Limiter) Config() *Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Allow takes a token for c from each bucket that limits it (its
// operation's, and its execution's) and reports true; or, if any of them
// is empty, takes none and reports false: the call must then be refused
// with ThrottlingException. A long poll takes one token per call, however
// long it waits.
func (l *Limiter) Allow(c Call) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	var bs [2]*bucket
	n := 0
	if b := l.bucket(now, kindOperation, c.Operation, c.Domain, c.Principal, ""); b != nil {
		bs[n] = b
		n++
	}
	if c.Execution != "" {
		if b := l.bucket(now, kindExecution, c.Operation, c.Domain, c.Principal, c.Execution); b != nil {
			bs[n] = b
			n++
		}
	}
	return takeAll(now, bs[:n])
}

// Batch is the decisions of one RespondDecisionTaskCompleted attempt: it
// takes their tokens as the history step asks (Allow), and gives them back
// (Release) if the attempt is not committed, so a call that fails, or a
// step decided again, consumes nothing. Keep makes the tokens spent. A
// Batch is used by one goroutine.
type Batch struct {
	l                 *Limiter
	domain, principal string
	taken             []*bucket
}

// Batch opens the decisions of one attempt in domain by principal ("":
// authentication is off).
func (l *Limiter) Batch(domain, principal string) *Batch {
	return &Batch{l: l, domain: domain, principal: principal}
}

// Allow takes a token for one decision of type d that would otherwise take
// effect, from its type's bucket and, for ScheduleActivityTask, from the
// bucket of taskList (the activity's resolved task list); false (nothing
// taken) means the decision fails with its *_RATE_EXCEEDED cause.
func (b *Batch) Allow(d api.DecisionType, taskList string) bool {
	l := b.l
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	var bs [2]*bucket
	n := 0
	if bk := l.bucket(now, kindDecision, string(d), b.domain, b.principal, ""); bk != nil {
		bs[n] = bk
		n++
	}
	if d == api.DecisionTypeScheduleActivityTask {
		if bk := l.bucket(now, kindTaskList, "", b.domain, b.principal, taskList); bk != nil {
			bs[n] = bk
			n++
		}
	}
	if !takeAll(now, bs[:n]) {
		return false
	}
	b.taken = append(b.taken, bs[:n]...)
	return true
}

// Keep makes the tokens taken so far spent: the batch was committed.
func (b *Batch) Keep() { b.taken = nil }

// Release gives back the tokens taken so far: the batch was not committed.
func (b *Batch) Release() {
	if len(b.taken) == 0 {
		return
	}
	l := b.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, bk := range b.taken {
		bk.tokens = min(bk.tokens+1, bk.limit.Size)
	}
	b.taken = nil
}

// What a bucket limits.
type kind uint8

const (
	kindOperation kind = iota // an operation, per scope
	kindExecution             // an operation, per workflow execution
	kindDecision              // a decision type, per scope
	kindTaskList              // activity tasks scheduled, per task list
)

// bucketKey names one bucket: what it limits, the scope whose limit it
// follows ("" for the account, "d:"+domain, "p:"+principal) and, for
// buckets per execution or task list, which one ("domain\x00name").
type bucketKey struct {
	kind  kind
	name  string
	scope string
	of    string
}

type bucket struct {
	limit  Limit
	tokens float64
	last   time.Time
}

// refill adds the tokens earned since the bucket was last looked at.
func (b *bucket) refill(now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.limit.Size, b.tokens+d.Seconds()*b.limit.Rate)
		b.last = now
	}
}

// takeAll takes one token from each of bs, or none if one is empty.
func takeAll(now time.Time, bs []*bucket) bool {
	for _, b := range bs {
		b.refill(now)
		if b.tokens < 1 {
			return false
		}
	}
	for _, b := range bs {
		b.tokens--
	}
	return true
}

// bucket returns the bucket that limits what is named, in the scope whose
// limit applies (the principal's, else the domain's, else the account's),
// made full if new; nil when nothing limits it. of, for the buckets per
// execution and task list, names which one.
func (l *Limiter) bucket(now time.Time, k kind, name, domain, principal, of string) *bucket {
	if l.cfg == nil {
		return nil
	}
	var lim Limit
	var scope string
	found := false
	if p := l.cfg.Principals[principal]; p != nil && principal != "" {
		lim, found = p.lookup(k, name)
		scope = "p:" + principal
	}
	if d := l.cfg.Domains[domain]; !found && d != nil && domain != "" {
		lim, found = d.lookup(k, name)
		scope = "d:" + domain
	}
	if !found {
		lim, found = l.cfg.Set.lookup(k, name)
		scope = ""
	}
	if !found || lim.Unlimited {
		return nil
	}
	key := bucketKey{kind: k, name: name, scope: scope}
	if of != "" {
		key.of = domain + "\x00" + of
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{limit: lim, tokens: lim.Size, last: now}
		l.buckets[key] = b
		return b
	}
	if b.limit != lim {
		// A reload changed the limit: the tokens held so far count, within
		// the new size.
		b.refill(now)
		b.limit = lim
		b.tokens = min(b.tokens, lim.Size)
	}
	return b
}

// sweep drops the buckets that are full by now (a full bucket is as good
// as none) and sets the next sweep at twice the buckets left.
func (l *Limiter) sweep(now time.Time) {
	maps.DeleteFunc(l.buckets, func(_ bucketKey, b *bucket) bool {
		b.refill(now)
		return b.tokens >= b.limit.Size
	})
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}

// lookup returns the scope's limit of what is named, if it sets one.
func (s *Set) lookup(k kind, name string) (Limit, bool) {
	if s == nil {
		return Limit{}, false
	}
	var lim Limit
	var ok bool
	switch k {
	case kindOperation:
		lim, ok = s.Operations[name]
	case kindExecution:
		lim, ok = s.Executions[name]
	case kindDecision:
		lim, ok = s.Decisions[api.DecisionType(name)]
	case kindTaskList:
		if s.ActivityTaskList != nil {
			lim, ok = *s.ActivityTaskList, true
		}
	}
	return lim, ok
}

// Buckets returns how many buckets the limiter holds (for tests).
func (l *Limiter) Buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// String describes a limit as the quota file writes it.
func (lim Limit) String() string {
	if lim.Unlimited {
		return "unlimited"
	}
	return fmt.Sprintf("%g tokens, %g a second", lim.Size, lim.Rate)
}
