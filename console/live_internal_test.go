package console

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/inspect"
	"github.com/swfd/swfd/runs"
)

// fakeInspector serves one run's history and counts the reads, and the
// domains they were made in.
type fakeInspector struct {
	inspect.Inspector
	mu      sync.Mutex
	events  []api.HistoryEvent
	reads   int
	pending int
	rows    int
	domains map[string]int
}

func (f *fakeInspector) asked(domain string) {
	if f.domains == nil {
		f.domains = map[string]int{}
	}
	f.domains[domain]++
}

func (f *fakeInspector) History(ctx context.Context, domain string, ex api.WorkflowExecution, after int64, reverse bool, limit int) ([]api.HistoryEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	f.asked(domain)
	var out []api.HistoryEvent
	for _, ev := range f.events {
		if ev.EventID > after {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeInspector) Pending(ctx context.Context, domain string, ex api.WorkflowExecution) (*inspect.Pending, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending++
	f.asked(domain)
	return &inspect.Pending{Open: true}, nil
}

// Execution answers the run as closed, terminated.
func (f *fakeInspector) Execution(ctx context.Context, domain, runID string) (*api.WorkflowExecutionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows++
	f.asked(domain)
	return &api.WorkflowExecutionInfo{Execution: api.WorkflowExecution{WorkflowID: "w", RunID: runID}, WorkflowType: api.WorkflowType{Name: "t", Version: "1"},
		ExecutionStatus: api.ExecutionStatusClosed, CloseStatus: api.CloseStatusTerminated, StartTimestamp: api.NewTime(time.Unix(1800000000, 0)),
		CloseTimestamp: api.NewTime(time.Unix(1800000060, 0)), TagList: []string{"eu"}}, nil
}

func signaled(id int64, name string) api.HistoryEvent {
	return api.HistoryEvent{EventID: id, EventType: api.EventTypeWorkflowExecutionSignaled, EventTimestamp: api.NewTime(time.Unix(1800000000, 0)),
		WorkflowExecutionSignaledEventAttributes: &api.WorkflowExecutionSignaledEventAttributes{SignalName: name}}
}

// waitMsgs waits until a subscription has been sent messages holding want.
func waitMsgs(t *testing.T, s *sub, want string) []sseMsg {
	t.Helper()
	var got []sseMsg
	deadline := time.After(30 * time.Second)
	for {
		msgs, _ := s.take()
		got = append(got, msgs...)
		for _, m := range got {
			if strings.Contains(string(m.data), want) || m.event == want {
				return got
			}
		}
		select {
		case <-s.wake:
		case <-deadline:
			t.Fatalf("no message with %q; got %v", want, got)
		}
	}
}

// A change another node committed (its domain and run id, and whether it
// started or closed the run) reaches every page showing the run: the hub
// reads the new events once, for all of them. It is news to a list only if
// it started or closed the run: then the hub reads the run once, for every
// list of the domain, and sends its row.
func TestHubRemoteChange(t *testing.T) {
	fi := &fakeInspector{events: []api.HistoryEvent{signaled(1, "a"), signaled(2, "b")}}
	hub := NewHub(fi, nil)
	defer hub.Close()
	New(Config{Hub: hub})
	ex := api.WorkflowExecution{WorkflowID: "w", RunID: "r"}
	subs := []*sub{{domain: "d", ex: ex, wake: make(chan struct{}, 1), lastID: 2}, {domain: "d", ex: ex, wake: make(chan struct{}, 1), lastID: 2}}
	lists := []*sub{{domain: "d", wake: make(chan struct{}, 1)}, {domain: "d", wake: make(chan struct{}, 1)}}
	for _, s := range append(subs, lists...) {
		hub.subscribe(s)
	}
	fi.mu.Lock()
	fi.events = append(fi.events, signaled(3, "from-elsewhere"))
	fi.mu.Unlock()
	hub.Committed(runs.Commit{Remote: true, Runs: []runs.Change{{Domain: "d", RunID: "r"}}})
	for _, s := range subs {
		got := waitMsgs(t, s, "pending")
		if !strings.Contains(string(got[0].data), "from-elsewhere") || got[0].event != "events" {
			t.Errorf("first message %s %s, want the new event", got[0].event, got[0].data)
		}
	}
	fi.mu.Lock()
	reads := fi.reads
	fi.mu.Unlock()
	if reads != 1 {
		t.Errorf("%d history reads for 2 pages, want 1", reads)
	}
	hub.Committed(runs.Commit{Remote: true, Runs: []runs.Change{{Domain: "d", RunID: "r", Closed: true}}})
	for _, l := range lists {
		got := waitMsgs(t, l, "row")
		if len(got) != 1 || got[0].event != "row" || !strings.Contains(string(got[0].data), `"status":"TERMINATED"`) ||
			!strings.Contains(string(got[0].data), `"tags":["eu"]`) {
			t.Errorf("a list got %v, want only the closed run's row (the signal before is news to no list)", got)
		}
	}
	fi.mu.Lock()
	rows := fi.rows
	fi.mu.Unlock()
	if rows != 1 {
		t.Errorf("%d reads of the run for 2 lists, want 1", rows)
	}
}

// A local commit reaches the pages without a read; a list page gets the
// started execution's row; with no page open the hub does nothing.
func TestHubLocalCommit(t *testing.T) {
	fi := &fakeInspector{}
	hub := NewHub(fi, nil)
	defer hub.Close()
	New(Config{Hub: hub})
	hub.Committed(runs.Commit{Runs: []runs.Change{{Domain: "d", RunID: "r", Events: []api.HistoryEvent{signaled(1, "x")}}}})
	ex := api.WorkflowExecution{WorkflowID: "w", RunID: "r"}
	page := &sub{domain: "d", ex: ex, wake: make(chan struct{}, 1), lastID: 1}
	list := &sub{domain: "d", wake: make(chan struct{}, 1)}
	hub.subscribe(page)
	hub.subscribe(list)
	started := api.HistoryEvent{EventID: 1, EventType: api.EventTypeWorkflowExecutionStarted, EventTimestamp: api.NewTime(time.Unix(1800000000, 0)),
		WorkflowExecutionStartedEventAttributes: &api.WorkflowExecutionStartedEventAttributes{TagList: []string{"t1"}}}
	hub.Committed(runs.Commit{Runs: []runs.Change{
		{Domain: "d", RunID: "r", WorkflowID: "w", Events: []api.HistoryEvent{signaled(2, "local")}},
		{Domain: "d", RunID: "r2", WorkflowID: "w2", Created: true, WorkflowType: api.WorkflowType{Name: "t", Version: "1"}, Events: []api.HistoryEvent{started}},
	}})
	waitMsgs(t, page, "local")
	got := waitMsgs(t, list, "w2")
	if !strings.Contains(string(got[len(got)-1].data), `"tags":["t1"]`) {
		t.Errorf("row %s lacks the tags", got[len(got)-1].data)
	}
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if fi.reads != 0 {
		t.Errorf("%d history reads for a local commit, want 0", fi.reads)
	}
}

// A page is given only its own execution's changes: a commit to a run of
// another domain with the page's run id, local or from another node, and
// one to the run id under another workflow id reach nothing, and the hub
// reads nothing in the other domain for it.
func TestHubOtherDomain(t *testing.T) {
	fi := &fakeInspector{}
	hub := NewHub(fi, nil)
	defer hub.Close()
	New(Config{Hub: hub})
	page := &sub{domain: "A", ex: api.WorkflowExecution{WorkflowID: "w", RunID: "r"}, wake: make(chan struct{}, 1), lastID: 2}
	forged := &sub{domain: "A", ex: api.WorkflowExecution{WorkflowID: "forged", RunID: "r"}, wake: make(chan struct{}, 1), lastID: 2}
	hub.subscribe(page)
	hub.subscribe(forged)
	hub.Committed(runs.Commit{Runs: []runs.Change{{Domain: "B", RunID: "r", WorkflowID: "wb", Events: []api.HistoryEvent{signaled(3, "B-SECRET")}}}})
	hub.Committed(runs.Commit{Remote: true, Runs: []runs.Change{{Domain: "B", RunID: "r"}}})
	hub.Committed(runs.Commit{Runs: []runs.Change{{Domain: "A", RunID: "r", WorkflowID: "w", Events: []api.HistoryEvent{signaled(3, "A-OWN")}}}})
	// The page's pending work is read after every change was applied.
	got := waitMsgs(t, page, "pending")
	var all strings.Builder
	for _, m := range got {
		all.WriteString(m.event + " " + string(m.data) + "\n")
	}
	if strings.Contains(all.String(), "B-SECRET") || !strings.Contains(all.String(), "A-OWN") {
		t.Errorf("the page got:\n%s\nwant its own event, nothing of domain B", all.String())
	}
	if msgs, resync := forged.take(); len(msgs) > 0 || resync {
		t.Errorf("a page naming the run with another workflow id got %v", msgs)
	}
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if fi.domains["B"] > 0 {
		t.Errorf("the hub read %d times in domain B for a page of domain A", fi.domains["B"])
	}
}

// A page that does not read is told to reload instead of growing without
// bound.
func TestSubQueueBound(t *testing.T) {
	s := &sub{domain: "d", ex: api.WorkflowExecution{WorkflowID: "w", RunID: "r"}, wake: make(chan struct{}, 1)}
	for range subQueue + 10 {
		s.push(sseMsg{event: "events", data: []byte("{}")})
	}
	msgs, resync := s.take()
	if !resync || len(msgs) > 10 {
		t.Errorf("after %d messages unread: %d queued, resync %v; want a resync", subQueue+10, len(msgs), resync)
	}
}

// A busy domain's list page gets a few rows and a count of the rest.
func TestListBatch(t *testing.T) {
	s := &sub{domain: "d", wake: make(chan struct{}, 1)}
	for range listBatch + 30 {
		s.push(sseMsg{event: "row", data: []byte("{}")})
	}
	msgs, _ := s.take()
	if len(msgs) != listBatch+1 || msgs[listBatch].event != "many" || string(msgs[listBatch].data) != `{"count":30}` {
		t.Errorf("%d messages, last %v; want %d rows and many 30", len(msgs), msgs[len(msgs)-1], listBatch)
	}
}

// Where a domain's lists stand changes when one of its runs starts or
// closes, whether or not a page is open, and for every domain when news of
// other nodes may have been lost; not for a run that changed otherwise.
// Another hub (a restart, another node) never stands at the same place.
func TestListMark(t *testing.T) {
	hub := NewHub(&fakeInspector{}, nil)
	defer hub.Close()
	d, e := hub.listMark("d"), hub.listMark("e")
	if !validMark(d) {
		t.Fatalf("mark %q is not valid", d)
	}
	hub.Committed(runs.Commit{Runs: []runs.Change{{Domain: "d", RunID: "r"}}})
	if got := hub.listMark("d"); got != d {
		t.Errorf("a run that neither started nor closed moved d from %s to %s", d, got)
	}
	for _, c := range []runs.Commit{
		{Runs: []runs.Change{{Domain: "d", RunID: "r", Created: true}}},
		{Runs: []runs.Change{{Domain: "d", RunID: "r", Closed: true}}},
		{Remote: true, Runs: []runs.Change{{Domain: "d", RunID: "r2", Created: true}}},
	} {
		hub.Committed(c)
		if got := hub.listMark("d"); got == d {
			t.Errorf("%+v left d at %s", c, d)
		} else {
			d = got
		}
	}
	hub.Committed(runs.Commit{Remote: true, Missed: true})
	if hub.listMark("d") == d || hub.listMark("e") == e {
		t.Error("news lost left a domain where it stood")
	}
	other := NewHub(&fakeInspector{}, nil)
	defer other.Close()
	if other.listMark("d") == hub.listMark("d") {
		t.Error("two hubs stand at the same place")
	}
}
