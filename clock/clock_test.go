package clock

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// A negative zero ("-0", "-0s", or -0.0 as a JSON number, which Python's
// json writes for a float delta that came out -0.0) is zero: the clock
// stays where it is. It used to be refused as negative.
func TestParseDurationNegativeZero(t *testing.T) {
	for _, in := range []string{"-0", "-0s", "-0.0s", "-0h0m", "-0ms"} {
		if d, err := ParseDuration(in); err != nil || d != 0 {
			t.Errorf("ParseDuration(%q) = %v, %v; want 0", in, d, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"86400": 24 * time.Hour, "0": 0, "90s": 90 * time.Second, "1.5h": 90 * time.Minute,
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "250ms": 250 * time.Millisecond, " 2m ": 2 * time.Minute,
		"1h30m15s": time.Hour + 30*time.Minute + 15*time.Second, "0.5d": 12 * time.Hour,
		// Seconds with a fraction, as `swf clock advance` and the admin
		// API's JSON number take them; they used to be refused.
		"1.5": 1500 * time.Millisecond, "0.001": time.Millisecond, "86400.250": 24*time.Hour + 250*time.Millisecond,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1h", "-86400", "-7d"} {
		if _, err := ParseDuration(in); !errors.Is(err, ErrNegative) {
			t.Errorf("ParseDuration(%q) = %v; want ErrNegative", in, err)
		}
	}
	for _, in := range []string{"", "h", "1x", "abc", "1h-", "--1h", "--0", "--0s", "1..2h", "1e3s", "NONE", "1.", ".5", "1.5.2", "1,5"} {
		if d, err := ParseDuration(in); err == nil || errors.Is(err, ErrNegative) || errors.Is(err, ErrTooLong) || errors.Is(err, ErrPrecision) {
			t.Errorf("ParseDuration(%q) = %v, %v; want a syntax error", in, d, err)
		}
	}
	// Readable, but longer than a move can take: said so, not taken for
	// something unreadable.
	for _, in := range []string{"9999999999999999999", "400000d", "99999999h", "106752d"} {
		if d, err := ParseDuration(in); !errors.Is(err, ErrTooLong) {
			t.Errorf("ParseDuration(%q) = %v, %v; want ErrTooLong", in, d, err)
		}
	}
	if d, err := ParseDuration("106751d"); err != nil || d != 106751*24*time.Hour {
		t.Errorf("ParseDuration(106751d) = %v, %v", d, err)
	}
	// The clock counts milliseconds: a part below one is refused, not
	// dropped (1ns would have moved nothing and said it had).
	for _, in := range []string{"1ns", "1500us", "1500µs", "0.0005s", "1.0001ms", "1h0.5ms", "1.0005"} {
		if d, err := ParseDuration(in); !errors.Is(err, ErrPrecision) {
			t.Errorf("ParseDuration(%q) = %v, %v; want ErrPrecision", in, d, err)
		}
	}
	for in, want := range map[string]time.Duration{"1000us": time.Millisecond, "0.001s": time.Millisecond, "1.001s": 1001 * time.Millisecond,
		"100000.001d": 100000*24*time.Hour + 86400*time.Millisecond, "0.1s": 100 * time.Millisecond} {
		if d, err := ParseDuration(in); err != nil || d != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
}

func TestManualClockNeverGoesBack(t *testing.T) {
	c := NewManual(t0.Add(1500 * time.Microsecond))
	if got := c.Now(); !got.Equal(t0.Add(time.Millisecond)) {
		t.Fatalf("start = %v; want it to the millisecond", got)
	}
	c.MoveTo(t0.Add(time.Hour))
	c.MoveTo(t0)
	if got := c.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after moving back: %v; want %v", got, t0.Add(time.Hour))
	}
}

func TestSkipClockRunsFromWhereItWasMoved(t *testing.T) {
	var real time.Duration
	c := &SkipClock{base: time.Now(), start: t0, since: func(time.Time) time.Duration { return real }}
	real = time.Second
	if got := c.Now(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("Now = %v", got)
	}
	c.MoveTo(t0.Add(time.Hour))
	real = 2 * time.Second
	if got := c.Now(); !got.Equal(t0.Add(time.Hour + time.Second)) {
		t.Fatalf("after the jump and a second: %v", got)
	}
	c.MoveTo(t0)
	if got := c.Now(); !got.Equal(t0.Add(time.Hour + time.Second)) {
		t.Fatalf("moved back to %v", got)
	}
}

// fakeEngine keeps timers; firing one may add more (what a timeout's
// consequences do).
type fakeEngine struct {
	mu      sync.Mutex
	clock   Movable
	timers  []fakeTimer
	fired   []firing
	pending bool
	settles int
}

type fakeTimer struct {
	name string
	due  time.Time
	then func(e *fakeEngine)
	// stuck: the timer fails to fire (its run cannot be read) until
	// stuck is cleared; tries counts the attempts.
	stuck bool
	tries *int
}

type firing struct {
	name    string
	due, at time.Time
}

func (e *fakeEngine) add(name string, due time.Time, then func(*fakeEngine)) {
	e.timers = append(e.timers, fakeTimer{name: name, due: due, then: then})
}

func (e *fakeEngine) NextTimer(_ context.Context, after time.Time) (time.Time, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sort.SliceStable(e.timers, func(i, j int) bool { return e.timers[i].due.Before(e.timers[j].due) })
	for _, tm := range e.timers {
		if tm.due.After(after) {
			return tm.due, true, nil
		}
	}
	return time.Time{}, false, nil
}

func (e *fakeEngine) Overdue(_ context.Context, by time.Time, limit int) ([]swfd.Timer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []swfd.Timer
	for _, tm := range e.timers {
		if !tm.due.After(by) && len(out) < limit {
			out = append(out, swfd.Timer{RunID: tm.name, Key: tm.name, Due: tm.due})
		}
	}
	return out, nil
}

func (e *fakeEngine) Settle(context.Context) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.settles++
	n := 0
	for {
		sort.SliceStable(e.timers, func(i, j int) bool { return e.timers[i].due.Before(e.timers[j].due) })
		i := 0
		for i < len(e.timers) && e.timers[i].stuck && !e.timers[i].due.After(e.clock.Now()) {
			*e.timers[i].tries++ // tried, and failed again
			i++
		}
		if i == len(e.timers) || e.timers[i].due.After(e.clock.Now()) {
			return n, nil
		}
		tm := e.timers[i]
		e.timers = append(e.timers[:i:i], e.timers[i+1:]...)
		e.fired = append(e.fired, firing{tm.name, tm.due, e.clock.Now()})
		n++
		if tm.then != nil {
			tm.then(e)
		}
	}
}

func (e *fakeEngine) PurgeExpired(context.Context) error { return nil }

func (e *fakeEngine) PendingMessages(context.Context) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pending, nil
}

func newManual(t *testing.T) (*Controller, *fakeEngine) {
	t.Helper()
	clk := NewManual(t0)
	c, err := NewController(Manual, clk)
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEngine{clock: clk}
	c.SetEngine(e, func() {})
	return c, e
}

// Advancing past a timer and a timeout fires them in order, each at its
// own instant, including what the first one causes on the way.
func TestAdvanceFiresInOrderEachAtItsTime(t *testing.T) {
	c, e := newManual(t)
	e.add("timeout-2h", t0.Add(2*time.Hour), nil)
	e.add("timer-1h", t0.Add(time.Hour), func(e *fakeEngine) {
		// The timer's decision task has a 30-minute schedule-to-start.
		e.add("decision-timeout", e.clock.Now().Add(30*time.Minute), nil)
	})
	e.add("timer-25h", t0.Add(25*time.Hour), nil)
	m, err := c.Advance(context.Background(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Now.Equal(t0.Add(24*time.Hour)) || m.Fired != 3 {
		t.Fatalf("moved = %+v; want now %v, 3 fired", m, t0.Add(24*time.Hour))
	}
	want := []firing{
		{"timer-1h", t0.Add(time.Hour), t0.Add(time.Hour)},
		{"decision-timeout", t0.Add(90 * time.Minute), t0.Add(90 * time.Minute)},
		{"timeout-2h", t0.Add(2 * time.Hour), t0.Add(2 * time.Hour)},
	}
	if len(e.fired) != len(want) {
		t.Fatalf("fired %v; want %v", e.fired, want)
	}
	for i := range want {
		if e.fired[i].name != want[i].name || !e.fired[i].at.Equal(want[i].at) {
			t.Errorf("firing %d = %v; want %v", i, e.fired[i], want[i])
		}
	}
	// The next advance reaches the timer left over.
	if m, err := c.Advance(context.Background(), time.Hour); err != nil || m.Fired != 1 {
		t.Fatalf("second advance: %+v, %v", m, err)
	}
}

func TestBadMovesChangeNothing(t *testing.T) {
	c, e := newManual(t)
	e.add("t", t0.Add(time.Minute), nil)
	if _, err := c.Advance(context.Background(), -time.Second); !errors.Is(err, ErrNegative) {
		t.Fatalf("negative advance: %v", err)
	}
	if _, err := c.Set(context.Background(), t0.Add(-time.Second)); !errors.Is(err, ErrBackwards) {
		t.Fatalf("set backwards: %v", err)
	}
	// The clock counts milliseconds: an advance by less, or by a part of
	// one more, would move it by less than it says.
	for _, d := range []time.Duration{time.Nanosecond, 1500 * time.Microsecond} {
		if _, err := c.Advance(context.Background(), d); !errors.Is(err, ErrPrecision) {
			t.Fatalf("advance by %v: %v", d, err)
		}
	}
	if !c.Now().Equal(t0) || len(e.fired) != 0 || e.settles != 0 {
		t.Fatalf("a refused move changed something: now %v, fired %v, settles %d", c.Now(), e.fired, e.settles)
	}
	m, err := c.Set(context.Background(), t0.Add(time.Minute))
	if err != nil || m.Fired != 1 || !m.Now.Equal(t0.Add(time.Minute)) {
		t.Fatalf("set to the timer's instant: %+v, %v", m, err)
	}

	real, err := NewController(Real, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := real.Advance(context.Background(), time.Second); !errors.Is(err, ErrReal) {
		t.Fatalf("advancing the real clock: %v", err)
	}
	if _, err := real.Set(context.Background(), time.Now().Add(time.Hour)); !errors.Is(err, ErrReal) {
		t.Fatalf("setting the real clock: %v", err)
	}
	if _, err := NewController(Manual, realClock{}); err == nil {
		t.Fatal("a manual controller over an immovable clock was accepted")
	}
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// A move waits for the calls in flight and happens between calls; long
// polls do not hold it up.
func TestAdvanceWaitsForCallsInFlight(t *testing.T) {
	c, e := newManual(t)
	e.add("t", t0.Add(time.Minute), nil)
	inCall, release := make(chan struct{}), make(chan struct{})
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "SimpleWorkflowService.PollForActivityTask" {
			return
		}
		close(inCall)
		<-release
	}))
	callDone := make(chan struct{})
	go func() {
		defer close(callDone)
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Amz-Target", "SimpleWorkflowService.RespondActivityTaskCompleted")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}()
	<-inCall
	moved := make(chan error)
	go func() { _, err := c.Advance(context.Background(), time.Hour); moved <- err }()
	// Wait until the move waits at the gate (new readers are then refused).
	for c.gate.TryRLock() {
		c.gate.RUnlock()
		runtime.Gosched()
	}
	// A long poll still goes through.
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Amz-Target", "SimpleWorkflowService.PollForActivityTask")
	h.ServeHTTP(httptest.NewRecorder(), r)
	e.mu.Lock()
	settles := e.settles
	e.mu.Unlock()
	if settles != 0 {
		t.Fatal("the clock moved while a call was being served")
	}
	close(release)
	<-callDone
	if err := <-moved; err != nil {
		t.Fatal(err)
	}
	if len(e.fired) != 1 {
		t.Fatalf("fired %v", e.fired)
	}
}

func newSkip(t *testing.T) (*Controller, *fakeEngine, *int) {
	t.Helper()
	clk := NewSkip()
	c, err := NewController(Skip, clk)
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEngine{clock: clk}
	wakes := new(int)
	c.SetEngine(e, func() { *wakes++ })
	return c, e, wakes
}

func ev(id int64, typ api.EventType) api.HistoryEvent {
	return api.HistoryEvent{EventID: id, EventType: typ}
}

// The skip clock jumps only when no task is scheduled or started, no
// message waits and no call is being served.
func TestSkipJumpsOnlyWhenNothingCouldHappen(t *testing.T) {
	ctx := context.Background()
	c, e, wakes := newSkip(t)
	far := c.Now().Add(7 * 24 * time.Hour)
	jump := func() bool {
		t.Helper()
		ok, err := c.SkipTo(ctx, far)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	c.Observe("run1", false, []api.HistoryEvent{ev(1, api.EventTypeWorkflowExecutionStarted), ev(2, api.EventTypeDecisionTaskScheduled)})
	if jump() {
		t.Fatal("jumped with a decision task scheduled")
	}
	c.Observe("run1", false, []api.HistoryEvent{ev(3, api.EventTypeDecisionTaskStarted)})
	if jump() {
		t.Fatal("jumped with a decision task started")
	}
	*wakes = 0
	c.Observe("run1", false, []api.HistoryEvent{ev(4, api.EventTypeDecisionTaskCompleted), ev(5, api.EventTypeActivityTaskScheduled)})
	if jump() || *wakes != 0 {
		t.Fatalf("jumped (or woke %d) with an activity task scheduled", *wakes)
	}
	// The activity's close arrives in its stored form, attributes undecoded.
	raw, _ := api.HistoryEvent{EventID: 7, EventType: api.EventTypeActivityTaskCompleted,
		ActivityTaskCompletedEventAttributes: &api.ActivityTaskCompletedEventAttributes{ScheduledEventID: 5, StartedEventID: 6}}.MarshalJSON()
	stored, err := api.RawHistoryEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	c.Observe("run1", false, []api.HistoryEvent{ev(6, api.EventTypeActivityTaskStarted), stored, ev(8, api.EventTypeDecisionTaskScheduled)})
	if jump() {
		t.Fatal("jumped with a decision task scheduled")
	}
	c.Observe("run1", false, []api.HistoryEvent{ev(9, api.EventTypeDecisionTaskStarted), ev(10, api.EventTypeDecisionTaskCompleted), ev(11, api.EventTypeTimerStarted)})
	if *wakes == 0 {
		t.Fatal("becoming idle did not wake the timer loop")
	}

	e.pending = true
	if jump() {
		t.Fatal("jumped with a message waiting")
	}
	e.pending = false

	release := c.Hold()
	if jump() {
		t.Fatal("jumped while a task was being handed out")
	}
	release()

	if !jump() {
		t.Fatal("idle, but did not jump")
	}
	if now := c.Now(); now.Before(far) || now.After(far.Add(time.Minute)) {
		t.Fatalf("after the jump the clock shows %v; want %v", now, far)
	}
	if jump() {
		t.Fatal("jumped to a time already passed")
	}

	// A Lambda function runs in real time: no jump until it has ended.
	c.Observe("run3", false, []api.HistoryEvent{ev(5, api.EventTypeLambdaFunctionScheduled), ev(6, api.EventTypeLambdaFunctionStarted)})
	far = far.Add(time.Hour)
	if jump() {
		t.Fatal("jumped with a Lambda function running")
	}
	raw, _ = api.HistoryEvent{EventID: 7, EventType: api.EventTypeLambdaFunctionTimedOut,
		LambdaFunctionTimedOutEventAttributes: &api.LambdaFunctionTimedOutEventAttributes{ScheduledEventID: 5, StartedEventID: 6}}.MarshalJSON()
	if stored, err = api.RawHistoryEvent(raw); err != nil {
		t.Fatal(err)
	}
	c.Observe("run3", false, []api.HistoryEvent{stored})
	if !jump() {
		t.Fatal("a Lambda task that timed out kept the clock from jumping")
	}

	// A run that closes with work open is idle.
	c.Observe("run2", false, []api.HistoryEvent{ev(1, api.EventTypeDecisionTaskScheduled)})
	c.Observe("run2", true, []api.HistoryEvent{ev(2, api.EventTypeWorkflowExecutionTerminated)})
	far = far.Add(time.Hour)
	if !jump() {
		t.Fatal("a closed run kept the clock from jumping")
	}
}

// A signal that arrives while a decision task is started schedules the
// next decision task before the started one closes: the close of the
// started one leaves the next one to come, and the skip clock must not
// jump until it has been answered too. It jumped at once, past the next
// task, as if the close had left the run idle.
func TestSkipWaitsForTheDecisionTaskASignalScheduled(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newSkip(t)
	far := c.Now().Add(time.Hour)
	stored := func(e api.HistoryEvent) api.HistoryEvent {
		t.Helper()
		raw, _ := e.MarshalJSON()
		out, err := api.RawHistoryEvent(raw)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	completed := func(id, scheduled int64) api.HistoryEvent {
		return stored(api.HistoryEvent{EventID: id, EventType: api.EventTypeDecisionTaskCompleted,
			DecisionTaskCompletedEventAttributes: &api.DecisionTaskCompletedEventAttributes{ScheduledEventID: scheduled, StartedEventID: scheduled + 1}})
	}
	c.Observe("run1", false, []api.HistoryEvent{ev(1, api.EventTypeWorkflowExecutionStarted), ev(2, api.EventTypeDecisionTaskScheduled)})
	c.Observe("run1", false, []api.HistoryEvent{ev(3, api.EventTypeDecisionTaskStarted)})
	c.Observe("run1", false, []api.HistoryEvent{ev(4, api.EventTypeWorkflowExecutionSignaled), ev(5, api.EventTypeDecisionTaskScheduled)})
	c.Observe("run1", false, []api.HistoryEvent{completed(6, 2), ev(7, api.EventTypeTimerStarted)})
	if ok, err := c.SkipTo(ctx, far); ok || err != nil {
		t.Fatalf("jumped (%v, %v) with the decision task the signal scheduled to come", ok, err)
	}
	c.Observe("run1", false, []api.HistoryEvent{ev(8, api.EventTypeDecisionTaskStarted), completed(9, 5)})
	if ok, err := c.SkipTo(ctx, far); !ok || err != nil {
		t.Fatalf("idle, but did not jump: %v, %v", ok, err)
	}
}

// A reset forgets the tasks of the runs it drops, and puts a new engine with
// a controller of its own in place of this one's. The old engine's timer
// loop may run on a moment before it stops: its skip clock, which now sees
// no task anywhere, must not jump the clock, shared with the new engine, to
// a timer of a run the reset dropped (the next test would find its clock a
// week on). A reset that fails leaves the controller in use, and the
// tasks it knows of.
func TestSkipDoesNotJumpAfterAReset(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newSkip(t)
	far := c.Now().Add(7 * 24 * time.Hour)
	c.Observe("run1", false, []api.HistoryEvent{ev(1, api.EventTypeWorkflowExecutionStarted), ev(2, api.EventTypeDecisionTaskScheduled),
		ev(3, api.EventTypeDecisionTaskStarted), ev(4, api.EventTypeDecisionTaskCompleted), ev(5, api.EventTypeActivityTaskScheduled)})

	if err := c.Exclusive(func() error { return errors.New("the new engine would not open") }); err == nil {
		t.Fatal("Exclusive hid fn's error")
	}
	if ok, err := c.SkipTo(ctx, far); err != nil || ok {
		t.Fatalf("after a reset that failed, its run's activity still scheduled, SkipTo = %v, %v; want no jump", ok, err)
	}

	before := c.Now()
	if err := c.Exclusive(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.SkipTo(ctx, far); err != nil || ok {
		t.Fatalf("after a reset, SkipTo = %v, %v; want no jump", ok, err)
	}
	if now := c.Now(); now.Sub(before) > time.Minute {
		t.Fatalf("after a reset the old controller moved the clock from %v to %v", before, now)
	}
}

// mapKeeper keeps meta values in memory; fail, if set, is every write's
// error.
type mapKeeper struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

func (k *mapKeeper) Meta(_ context.Context, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	if !ok {
		return nil, swfd.ErrNotFound
	}
	return v, nil
}

func (k *mapKeeper) SetMeta(_ context.Context, key string, value []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.m[key] = value
	return nil
}

func (k *mapKeeper) SetMetaMax(ctx context.Context, key string, value []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	if old, ok := k.m[key]; !ok || bytes.Compare(value, old) > 0 {
		k.m[key] = value
	}
	return nil
}

// Two clocks kept by one keeper (two swfd over one database, or one that
// stops after another moved further): the one behind saving, by a move or
// when it stops, does not take the time kept back, so a restart resumes
// from the later time and dates nothing before what was written.
func TestSaveNeverLowersTheTimeKept(t *testing.T) {
	ctx := context.Background()
	k := &mapKeeper{m: map[string][]byte{}}
	ahead, _ := newManual(t)
	behind, _ := newManual(t)
	for _, c := range []*Controller{ahead, behind} {
		if err := c.Keep(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ahead.Advance(ctx, 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := behind.Advance(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := ahead.Save(ctx); err != nil {
		t.Fatal(err)
	}
	if err := behind.Save(ctx); err != nil { // it stops last
		t.Fatal(err)
	}
	const want = "2030-01-31T00:00:00.000Z"
	if got := string(k.m[KeptKey]); got != want {
		t.Fatalf("kept %q after the clock behind saved; want the later time, %s", got, want)
	}
	restarted, _ := newManual(t)
	if err := restarted.Keep(ctx, k); err != nil {
		t.Fatal(err)
	}
	if w := t0.Add(30 * 24 * time.Hour); !restarted.Now().Equal(w) {
		t.Fatalf("restarted at %v; want %v", restarted.Now(), w)
	}
}

// A kept clock writes the time each move reaches, and a clock that starts
// earlier over the same keeper resumes there; one that starts later keeps
// its own time. A move whose time cannot be kept says so.
func TestKeepResumesTheLatestTime(t *testing.T) {
	ctx := context.Background()
	k := &mapKeeper{m: map[string][]byte{}}
	c, _ := newManual(t)
	if err := c.Keep(ctx, k); err != nil || !c.Now().Equal(t0) {
		t.Fatalf("keep with nothing kept: %v, now %v", err, c.Now())
	}
	if _, err := c.Advance(ctx, 72*time.Hour+1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := string(k.m[KeptKey]); got != "2030-01-04T00:00:01.500Z" {
		t.Fatalf("kept %q", got)
	}

	again, _ := newManual(t) // a restart: the clock shows t0 again
	if err := again.Keep(ctx, k); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(72*time.Hour + 1500*time.Millisecond); !again.Now().Equal(want) {
		t.Fatalf("resumed at %v; want %v", again.Now(), want)
	}

	later, err := NewController(Manual, NewManual(t0.Add(100*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := later.Keep(ctx, k); err != nil || !later.Now().Equal(t0.Add(100*time.Hour)) {
		t.Fatalf("a later start: %v, now %v", err, later.Now())
	}

	k.fail = errors.New("disk full")
	if _, err := again.Advance(ctx, time.Second); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("a move whose time was not kept: %v", err)
	}
	k.m[KeptKey] = []byte("yesterday")
	if err := later.Keep(ctx, k); err == nil {
		t.Fatal("a kept time that is not one was accepted")
	}
}

// A move keeps each instant it stops at before it fires what is due there:
// a swfd killed in the middle of a long move (kill -9, a power cut) has
// recorded events dated up to where it got, and resumes from there, never
// before them. The time was kept only once the move ended, so a restart
// after such a kill dated its next events before the ones recorded.
func TestMoveKeepsEachInstantBeforeFiring(t *testing.T) {
	ctx := context.Background()
	k := &mapKeeper{m: map[string][]byte{}}
	c, e := newManual(t)
	if err := c.Keep(ctx, k); err != nil {
		t.Fatal(err)
	}
	var kept []string
	keptAt := func(e *fakeEngine) {
		k.mu.Lock()
		defer k.mu.Unlock()
		kept = append(kept, string(k.m[KeptKey]))
	}
	e.add("timer-1h", t0.Add(time.Hour), keptAt)
	e.add("timer-2h", t0.Add(2*time.Hour), keptAt)
	if _, err := c.Advance(ctx, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	want := []string{"2030-01-01T01:00:00.000Z", "2030-01-01T02:00:00.000Z"}
	if len(kept) != len(want) || kept[0] != want[0] || kept[1] != want[1] {
		t.Fatalf("time kept as each timer fired: %q; want %q", kept, want)
	}
}

// slowSettle is a fakeEngine whose Settle takes real time after it has
// looked at the timers, as the server's does while it commits what it
// fired: a skip clock runs on meanwhile.
type slowSettle struct {
	*fakeEngine
	real *time.Duration
	took time.Duration
}

func (e slowSettle) Settle(ctx context.Context) (int, error) {
	n, err := e.fakeEngine.Settle(ctx)
	*e.real += e.took
	return n, err
}

// A move of a skip clock, which runs on in real time while each instant's
// work is done, finds timers that fell due during that work (here one due
// 3 ms after another, whose firing took 5 ms): it fires them too, and
// does not fail the move as if they had failed to fire.
func TestSkipMoveFiresTimersThatFellDueWhileSettling(t *testing.T) {
	var real time.Duration
	clk := &SkipClock{base: time.Now(), start: t0, since: func(time.Time) time.Duration { return real }}
	c, err := NewController(Skip, clk)
	if err != nil {
		t.Fatal(err)
	}
	fe := &fakeEngine{clock: clk}
	c.SetEngine(slowSettle{fe, &real, 5 * time.Millisecond}, func() {})
	fe.add("a", t0.Add(time.Hour), nil)
	fe.add("b", t0.Add(time.Hour+3*time.Millisecond), nil)
	fe.add("c", t0.Add(2*time.Hour), nil)
	m, err := c.Advance(context.Background(), 3*time.Hour)
	if err != nil {
		t.Fatalf("advance: %v", err)
	}
	if m.Fired != 3 || len(fe.timers) != 0 {
		t.Fatalf("fired %d (%v), left %v", m.Fired, fe.fired, fe.timers)
	}
	if b := fe.fired[1]; b.name != "b" || b.at.Before(b.due) {
		t.Fatalf("second firing %+v", b)
	}
}

// A move goes on past a timer that fails to fire (its run cannot be read),
// firing every other timer on the way in order, each at its own instant,
// tries the stuck one again at each of them, and reports it; the move
// failed ("a timer due at … failed to fire") at the stuck timer, every
// move after it too, so one broken run stopped time for every other.
func TestMoveGoesOnPastATimerThatFailsToFire(t *testing.T) {
	c, e := newManual(t)
	tries := 0
	e.timers = append(e.timers, fakeTimer{name: "bad", due: t0.Add(time.Hour), stuck: true, tries: &tries})
	e.add("good-2h", t0.Add(2*time.Hour), nil)
	e.add("good-3h", t0.Add(3*time.Hour), func(e *fakeEngine) {
		e.add("after-3h", e.clock.Now().Add(30*time.Minute), nil)
	})
	e.add("next-day", t0.Add(25*time.Hour), nil)
	m, err := c.Advance(context.Background(), 4*time.Hour)
	if err != nil {
		t.Fatalf("advance past a timer that fails to fire: %v", err)
	}
	if !m.Now.Equal(t0.Add(4*time.Hour)) || m.Fired != 3 {
		t.Fatalf("moved = %+v; want now %v, 3 fired", m, t0.Add(4*time.Hour))
	}
	if len(m.Stuck) != 1 || !m.Stuck[0].Due.Equal(t0.Add(time.Hour)) {
		t.Fatalf("stuck = %v; want the timer due at %v", m.Stuck, t0.Add(time.Hour))
	}
	want := []string{"good-2h", "good-3h", "after-3h"}
	for i, f := range e.fired {
		if i >= len(want) || f.name != want[i] || !f.at.Equal(f.due) {
			t.Fatalf("fired %v; want %v, each at its due time", e.fired, want)
		}
	}
	if len(e.fired) != len(want) {
		t.Fatalf("fired %v; want %v", e.fired, want)
	}
	// Tried at its own instant (twice: once more in case it fell due
	// while the first settled) and again at each instant after it.
	if tries < 4 {
		t.Fatalf("the stuck timer was tried %d times; want it tried at each instant of the move", tries)
	}
	// The next move is not refused either, and reports it again.
	m, err = c.Advance(context.Background(), time.Hour)
	if err != nil || m.Fired != 0 || len(m.Stuck) != 1 {
		t.Fatalf("second advance: %+v, %v", m, err)
	}
	// Once its run can be read again, a move fires it, late.
	e.mu.Lock()
	e.timers[0].stuck = false
	e.mu.Unlock()
	m, err = c.Advance(context.Background(), time.Minute)
	if err != nil || m.Fired != 1 || len(m.Stuck) != 0 {
		t.Fatalf("advance after the store came back: %+v, %v", m, err)
	}
}

// On a skip clock, which runs on while each instant's work is done, a
// timer that falls due while a stuck one is being passed (here 7 ms after
// it, each settling taking 5 ms) is fired by the move, not reported as
// failing to fire with the stuck one.
func TestSkipMovePastAStuckTimerFiresWhatFellDue(t *testing.T) {
	var real time.Duration
	clk := &SkipClock{base: time.Now(), start: t0, since: func(time.Time) time.Duration { return real }}
	c, err := NewController(Skip, clk)
	if err != nil {
		t.Fatal(err)
	}
	fe := &fakeEngine{clock: clk}
	c.SetEngine(slowSettle{fe, &real, 5 * time.Millisecond}, func() {})
	tries := 0
	fe.timers = append(fe.timers, fakeTimer{name: "bad", due: t0.Add(time.Hour), stuck: true, tries: &tries})
	fe.add("b", t0.Add(time.Hour+7*time.Millisecond), nil)
	m, err := c.Advance(context.Background(), 3*time.Hour)
	if err != nil {
		t.Fatalf("advance: %v", err)
	}
	if m.Fired != 1 || len(fe.fired) != 1 || fe.fired[0].name != "b" {
		t.Fatalf("fired %d (%v); want b", m.Fired, fe.fired)
	}
	if len(m.Stuck) != 1 || m.Stuck[0].RunID != "bad" {
		t.Fatalf("stuck = %v; want bad alone", m.Stuck)
	}
}

// A call that meets a move at the gate waits at most GateWait for it: past
// that it is answered by Busy and never served, so a client that gives up
// and retries cannot have its first attempt carried out after the move as
// well (a signal recorded twice).
func TestCallWaitingForAMoveGivesUp(t *testing.T) {
	c, _ := newManual(t)
	c.GateWait = 20 * time.Millisecond
	c.Busy = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	served := make(chan struct{}, 1)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served <- struct{}{} }))
	answered := make(chan int, 1)
	err := c.Exclusive(func() error {
		go func() {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("X-Amz-Target", "SimpleWorkflowService.SignalWorkflowExecution")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			answered <- rec.Code
		}()
		// The move goes on until the call has been answered.
		if code := <-answered; code != http.StatusServiceUnavailable {
			t.Errorf("a call waiting for the move was answered %d, want 503", code)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-served:
		t.Fatal("the call was served although it had been answered Busy")
	default:
	}
	// After the move, calls are served as ever.
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Amz-Target", "SimpleWorkflowService.SignalWorkflowExecution")
	h.ServeHTTP(httptest.NewRecorder(), r)
	<-served
}

// Set refuses a time finer than the clock's Precision, as Advance refuses
// such a duration, and moves nothing: it was cut to the millisecond before
// it, so the clock showed another time than it was set to.
func TestSetRefusesTimeFinerThanPrecision(t *testing.T) {
	c, _ := newManual(t)
	if _, err := c.Set(context.Background(), t0.Add(time.Hour+500*time.Microsecond)); !errors.Is(err, ErrTimePrecision) {
		t.Fatalf("set to a time with 500us: %v; want ErrTimePrecision", err)
	}
	if !c.Now().Equal(t0) {
		t.Fatalf("the clock moved to %v", c.Now())
	}
	if m, err := c.Set(context.Background(), t0.Add(time.Hour+5*time.Millisecond)); err != nil || !m.Now.Equal(t0.Add(time.Hour+5*time.Millisecond)) {
		t.Fatalf("set to a whole millisecond: %+v, %v", m, err)
	}
}

// HoldWait, the hold of work a client waits on (a poll's start of its
// task, a console operation), waits for a move at most GateWait, or until
// its context ends, and then holds nothing; with no move under way it
// holds at once.
func TestHoldWaitGivesUp(t *testing.T) {
	c, _ := newManual(t)
	c.GateWait = 20 * time.Millisecond
	errHeld := errors.New("held")
	err := c.Exclusive(func() error {
		if release, ok := c.HoldWait(context.Background()); ok {
			release()
			t.Error("HoldWait held during a move")
		}
		c.GateWait = 0
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if release, ok := c.HoldWait(ctx); ok {
			release()
			t.Error("HoldWait held during a move, its context ended")
		}
		return errHeld
	})
	if !errors.Is(err, errHeld) {
		t.Fatal(err)
	}
	release, ok := c.HoldWait(context.Background())
	if !ok {
		t.Fatal("HoldWait gave up with no move under way")
	}
	release()
	if _, err := c.Advance(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
}
