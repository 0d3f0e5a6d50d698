package runs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// Commit is what one durable commit changed, as listeners are told.
type Commit struct {
	// Runs has one Change per run the commit created or updated.
	Runs []Change
	// Transfers is set when the commit added messages between runs.
	Transfers bool
	// Remote is set for changes another node of a cluster committed,
	// learnt from its news: each Change then has only Domain, RunID,
	// Created and Closed, and may come late, twice, or not at all (read
	// the store to know). Created is never set for a change a node of an
	// older swfd made.
	Remote bool
	// Missed is set, with Remote and no Runs, when news of what other
	// nodes committed may have been lost: this node's subscription to it
	// has just begun to receive again, after a time (its connection lost)
	// in which what was published never reached it. A listener that keeps
	// a view of runs current from other nodes' changes reads the store
	// again.
	Missed bool
}

// Change is what a commit changed in one run.
type Change struct {
	Domain       string
	WorkflowID   string
	RunID        string
	WorkflowType api.WorkflowType
	Created      bool // the commit started the run
	Closed       bool // the commit closed the run
	CloseStatus  api.CloseStatus
	// The run's start time, close time (zero while open) and tags, so that
	// a listener can tell which lists a run that closes belongs to.
	StartTime, CloseTime time.Time
	Tags                 []string
	// Events are the events the commit appended, in order, each with its
	// attributes and its stored JSON in Raw.
	Events []api.HistoryEvent
	// What the run's step scheduled and finished, for the task lists and
	// the timer loop.
	AddTasks  []swfd.Task
	DoneTasks []int64 // scheduled event ids of the run's tasks done
	AddTimers []swfd.Timer
}

// EarliestTimer returns the earliest due time of the timers c added; zero
// when it added none.
func (c Commit) EarliestTimer() time.Time {
	var due time.Time
	for _, ch := range c.Runs {
		for _, t := range ch.AddTimers {
			if due.IsZero() || t.Due.Before(due) {
				due = t.Due
			}
		}
	}
	return due
}

// A Listener is told of every commit after it is durable, synchronously,
// on the goroutine that committed and while it holds the lock of the run
// (or runs) changed; changes of one run reach it in commit order. It must
// return quickly and must not call back into the Store for the runs
// changed: a listener that needs more copies what it needs and hands it
// off. It must not modify the Commit, which other listeners share.
type Listener func(Commit)

// Listen adds a listener. Listeners are told in the order they were added;
// add them before the store commits.
func (s *Store) Listen(l Listener) {
	for {
		old := s.listeners.Load()
		var ls []Listener
		if old != nil {
			ls = append(ls, *old...)
		}
		ls = append(ls, l)
		if s.listeners.CompareAndSwap(old, &ls) {
			return
		}
	}
}

func (s *Store) tell(c Commit) {
	if ls := s.listeners.Load(); ls != nil {
		for _, l := range *ls {
			l(c)
		}
	}
}

// RemoteChanged tells the listeners of runs another node changed (Domain,
// RunID, Created and Closed of each).
func (s *Store) RemoteChanged(changes []Change) {
	s.tell(Commit{Runs: changes, Remote: true})
}

// RemoteMissed tells the listeners that news of the runs other nodes
// changed may have been lost (Commit.Missed).
func (s *Store) RemoteMissed() {
	s.tell(Commit{Remote: true, Missed: true})
}

// Batch is one commit in the making: updates of runs and messages between
// them.
type Batch struct {
	batch   swfd.Batch
	results []history.Result
	states  []*history.State
	memos   []*history.JSONMemo
}

// Add appends a run's step result (create: the step began the run).
func (b *Batch) Add(st *history.State, prevVersion int64, create bool, res history.Result) error {
	return b.add(st, prevVersion, create, res, nil)
}

// add is Add, the state encoded with memo (if not nil), which the run
// cache keeps with the state once the batch commits.
func (b *Batch) add(st *history.State, prevVersion int64, create bool, res history.Result, memo *history.JSONMemo) error {
	u, err := stepUpdate(st, prevVersion, create, res, memo)
	if err != nil {
		return err
	}
	if err := b.Send(res.Messages...); err != nil {
		return err
	}
	b.batch.Updates = append(b.batch.Updates, u)
	b.results = append(b.results, res)
	b.states = append(b.states, st)
	b.memos = append(b.memos, memo)
	return nil
}

// Send adds messages to other runs.
func (b *Batch) Send(msgs ...history.Message) error {
	for _, m := range msgs {
		p, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode message: %w", err)
		}
		b.batch.AddTransfers = append(b.batch.AddTransfers, swfd.Transfer{RunID: m.RunID, Payload: p})
	}
	return nil
}

// Delivered marks a message delivered (or dropped): it is removed with the
// commit.
func (b *Batch) Delivered(id int64) {
	b.batch.DoneTransfers = append(b.batch.DoneTransfers, id)
}

// stateBufs holds scratch buffers for encoding states (*[]byte).
var stateBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxStateBuf is the largest scratch buffer stateBufs keeps: the rare
// state bigger than that is not worth holding memory for.
const maxStateBuf = 64 << 10

// rowOf builds the stored row of a state, encoded with memo (if not nil).
func rowOf(st *history.State, version int64, memo *history.JSONMemo) (swfd.Execution, error) {
	b, err := encodeState(st, memo)
	if err != nil {
		return swfd.Execution{}, err
	}
	row := swfd.Execution{
		Domain:          st.Domain,
		WorkflowID:      st.WorkflowID,
		RunID:           st.RunID,
		TypeName:        st.WorkflowType.Name,
		TypeVersion:     st.WorkflowType.Version,
		StartTime:       st.StartTime,
		CloseTime:       st.CloseTime,
		Open:            st.Open,
		CloseStatus:     string(st.CloseStatus),
		Tags:            st.TagList,
		CancelRequested: st.CancelRequested,
		Version:         version,
		State:           b,
	}
	if st.Parent != nil {
		row.ParentWorkflowID, row.ParentRunID = st.Parent.WorkflowID, st.Parent.RunID
	}
	return row, nil
}

// encodeState returns the JSON of st, as json.Marshal writes it, with
// State.AppendJSON, which writes the same bytes without json.Marshal's
// reflection, or with memo's AppendJSON (the same bytes again, reusing
// those of the items memo has seen unchanged) if memo is not nil. It
// encodes into a pooled scratch buffer and returns a copy sized to the
// encoding, as json.Marshal does with its own buffers, so the row does not
// hold the scratch buffer's spare room. A state larger than the buffers
// the pool keeps is encoded into one sized from memo's last encoding
// instead, returned as it is if it has little spare room. A state
// AppendJSON cannot encode (it then appends nothing: a time json.Marshal
// rejects, a year outside 0–9999 or a zone offset of 24 hours or more)
// goes to json.Marshal, for its error.
func encodeState(st *history.State, memo *history.JSONMemo) ([]byte, error) {
	if last := memo.LastLen(); last > maxStateBuf {
		room := last + last/32
		b := memo.AppendJSON(make([]byte, 0, room), st)
		if len(b) > 0 {
			if cap(b)-len(b) > len(b)/16 {
				b = bytes.Clone(b)
			}
			return b, nil
		}
		return marshalState(st)
	}
	p := stateBufs.Get().(*[]byte)
	buf := memo.AppendJSON((*p)[:0], st)
	var b []byte
	if len(buf) > 0 {
		b = bytes.Clone(buf)
	}
	if cap(buf) <= maxStateBuf {
		*p = buf
		stateBufs.Put(p)
	}
	if b == nil {
		return marshalState(st)
	}
	return b, nil
}

// marshalState is json.Marshal(st), for the error of a state AppendJSON
// could not encode.
func marshalState(st *history.State) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// stepUpdate turns a history step into a store update of the run.
func stepUpdate(st *history.State, prevVersion int64, create bool, res history.Result, memo *history.JSONMemo) (swfd.Update, error) {
	row, err := rowOf(st, prevVersion+1, memo)
	if err != nil {
		return swfd.Update{}, err
	}
	u := swfd.Update{
		Execution:    row,
		Create:       create,
		AddTasks:     res.AddTasks,
		DoneTasks:    res.DoneTasks,
		AddTimers:    res.AddTimers,
		DeleteTimers: res.DeleteTimers,
		Heartbeats:   res.Heartbeats,
		Closed:       res.Closed,
	}
	if len(res.Events) > 0 {
		u.Events = make([]swfd.Event, 0, len(res.Events))
	}
	for i := range res.Events {
		// EncodeJSON (MarshalJSON's bytes): json.Marshal would check and
		// compact its output again, which is already compact, checked
		// JSON; and MarshalJSON would copy the event to the heap.
		ev := &res.Events[i]
		b, err := ev.EncodeJSON()
		if err != nil {
			return swfd.Update{}, fmt.Errorf("encode event: %w", err)
		}
		u.Events = append(u.Events, swfd.Event{ID: ev.EventID, JSON: b})
	}
	return u, nil
}

// CommitRun commits one step of r, with the new run of a continue-as-new,
// and whatever the extra functions add to the batch (a message delivered,
// an answer to its sender). The caller holds r's lock. A run Step holds in
// the store is committed through its hold, which the commit ends.
func (s *Store) CommitRun(ctx context.Context, r *Run, res history.Result, extra ...func(*Batch) error) error {
	var b Batch
	if r.detailsInline && !res.Closed {
		res.Heartbeats = allHeartbeats(r.State, res.Heartbeats)
	}
	if r.memo == nil && history.MemoWorthwhile(r.State) {
		r.memo = new(history.JSONMemo)
	}
	if err := b.add(r.State, r.Row.Version, false, res, r.memo); err != nil {
		return err
	}
	if res.ContinuedAs != nil {
		nst, nres := history.Start(s.Env(ctx), *res.ContinuedAs)
		if err := b.Add(nst, 0, true, nres); err != nil {
			return err
		}
	}
	for _, fn := range extra {
		if err := fn(&b); err != nil {
			return err
		}
	}
	hold := r.hold
	r.hold = nil
	if err := s.commit(ctx, &b, hold); err != nil {
		return err
	}
	r.committed = true
	r.detailsInline = false
	if r.history != nil {
		// The events before the step's, and the step's (which the
		// commit gave their stored JSON).
		s.cache.adopt(r.Row.RunID, append(r.history[:len(r.history):len(r.history)], b.results[0].Events...))
		r.history = nil
	}
	return nil
}

// allHeartbeats returns the heartbeat details of every activity of st that
// has some, and the removals in changed of the others: what a step
// of a run whose stored state held the details itself must store apart, as
// its new state holds none.
func allHeartbeats(st *history.State, changed []swfd.Heartbeat) []swfd.Heartbeat {
	var out []swfd.Heartbeat
	set := map[int64]bool{}
	for _, a := range st.Activities {
		if a.HeartbeatDetails != nil {
			set[a.ScheduledID] = true
			out = append(out, swfd.Heartbeat{ScheduledEventID: a.ScheduledID, Details: a.HeartbeatDetails})
		}
	}
	for _, hb := range changed {
		if !set[hb.ScheduledEventID] {
			out = append(out, hb)
		}
	}
	slices.SortFunc(out, func(a, b swfd.Heartbeat) int { return cmp.Compare(a.ScheduledEventID, b.ScheduledEventID) })
	return out
}

// Commit writes a batch and, once it is durable, updates the run cache and
// the open counts and tells the listeners what changed. A failed commit
// drops the runs it would have changed from the cache.
func (s *Store) Commit(ctx context.Context, b *Batch) error {
	return s.commit(ctx, b, nil)
}

// commit is Commit, through hold when it is set (a held run's step).
func (s *Store) commit(ctx context.Context, b *Batch, hold swfd.RunHold) error {
	// The commit must not be abandoned half-way because a client went
	// away: its outcome is what the next call sees. The call's deadline
	// still bounds it: a store waiting on its database past it (a
	// PostgreSQL statement waiting for a row or table another session
	// keeps locked) gives up then, with an error that says whether
	// anything was applied, and the call is answered at its deadline.
	// Before, a commit of a call whose deadline had passed waited for the
	// store's own bound (PostgreSQL's 10 s commit timeout).
	cctx := context.WithoutCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		cctx, cancel = context.WithDeadline(cctx, d)
		defer cancel()
	}
	deltas := b.openDeltas()
	s.beginOpenCommit(deltas)
	began := time.Now()
	var err error
	if hold != nil {
		err = hold.Commit(cctx, b.batch)
	} else {
		err = s.store.Commit(cctx, b.batch)
	}
	if s.storeCommit != nil {
		s.storeCommit(time.Since(began), err)
	}
	s.endOpenCommit(deltas, err)
	if err != nil {
		for _, u := range b.batch.Updates {
			s.cache.evict(u.Execution.RunID)
		}
		return err
	}
	c := Commit{Runs: make([]Change, len(b.batch.Updates)), Transfers: len(b.batch.AddTransfers) > 0}
	for i, u := range b.batch.Updates {
		res, row := b.results[i], u.Execution
		// The cache keeps each event's stored JSON with its id, type and
		// time; listeners get the whole event.
		for j := range res.Events {
			res.Events[j].Raw = u.Events[j].JSON
		}
		s.cache.put(row, b.states[i], res.Events, u.Create, b.memos[i])
		c.Runs[i] = Change{
			Domain: row.Domain, WorkflowID: row.WorkflowID, RunID: row.RunID,
			WorkflowType: api.WorkflowType{Name: row.TypeName, Version: row.TypeVersion},
			Created:      u.Create, Closed: res.Closed, CloseStatus: api.CloseStatus(row.CloseStatus),
			StartTime: row.StartTime, CloseTime: row.CloseTime, Tags: row.Tags,
			Events:   res.Events,
			AddTasks: res.AddTasks, DoneTasks: res.DoneTasks, AddTimers: res.AddTimers,
		}
	}
	s.tell(c)
	return nil
}
