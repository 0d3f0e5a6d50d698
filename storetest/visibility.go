package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// visRun describes one run of the visibility data set.
type visRun struct {
	domain, wf, run string
	typ, ver        string
	start           int // minutes after base
	tags            []string
	close           int // minutes after base; -1 while open
	status          string
}

// visData has runs sharing start times and close times, several runs of a
// workflowId, tags differing in case only, the empty tag, and a second
// domain.
var visData = []visRun{
	{"vis", "wf-a", "run-c1", "t1", "1", 0, []string{"red"}, 10, "COMPLETED"},
	{"vis", "wf-b", "run-c5", "t1", "2", 0, nil, 1, "CANCELED"},
	{"vis", "wf-f", "run-c2", "t2", "1", 3, []string{"green"}, 10, "FAILED"},
	{"vis", "wf-g", "run-c3", "t1", "2", 3, []string{"Red"}, 12, "COMPLETED"},
	{"vis", "wf-h", "run-c4", "t1", "1", 5, []string{"blue", "red"}, 11, "TIMED_OUT"},
	{"vis", "wf-i", "run-c6", "t2", "1", 3, nil, 10, "COMPLETED"},
	{"vis", "wf-a", "run-o1", "t1", "1", 1, []string{"red", "Blue"}, -1, ""},
	{"vis", "wf-b", "run-o2", "t1", "2", 2, []string{"blue"}, -1, ""},
	{"vis", "wf-c", "run-o3", "t2", "1", 2, nil, -1, ""},
	{"vis", "wf-d", "run-o4", "t1", "1", 4, []string{"x", "red"}, -1, ""},
	{"vis", "wf-e", "run-o5", "t2", "1", 2, []string{"green"}, -1, ""},
	{"vis", "wf-j", "run-o6", "t1", "10", 6, nil, -1, ""},
	{"vis", "wf-k", "run-o7", "t2", "1", 4, []string{""}, -1, ""},
	{"vis", "wf-l", "run-c7", "t1", "1", 6, []string{"red", ""}, 13, "FAILED"},
	{"vis2", "wf-a", "run-z2", "t1", "1", 0, []string{"red"}, 3, "COMPLETED"},
	{"vis2", "wf-a", "run-z1", "t1", "1", 2, []string{"red"}, -1, ""},
	{"vis2", "wf-b", "run-z3", "t1", "1", 1, []string{""}, -1, ""},
}

func (r visRun) open() bool { return r.close < 0 }

// loadVis stores visData: closed runs are created open and then closed, as
// the engine does.
func loadVis(t *testing.T, s swfd.Store) {
	t.Helper()
	loadRuns(t, s, visData)
}

// loadRuns stores runs as loadVis stores visData.
func loadRuns(t *testing.T, s swfd.Store, runs []visRun) {
	t.Helper()
	for _, r := range runs {
		e := execution(r.domain, r.wf, r.run, at(r.start))
		e.TypeName, e.TypeVersion, e.Tags = r.typ, r.ver, r.tags
		create(t, s, e)
		if !r.open() {
			closeRun(t, s, e, r.status, at(r.close))
		}
	}
}

// model answers a visibility query from visData by the contract.
func model(q swfd.VisibilityQuery) []string { return modelOf(visData, q) }

// modelOf answers a visibility query from runs by the contract.
func modelOf(runs []visRun, q swfd.VisibilityQuery) []string {
	type row struct {
		t   time.Time
		run string
	}
	var rows []row
	tag, hasTag := q.TagFilter()
	for _, r := range runs {
		if r.domain != q.Domain || r.open() != q.Open {
			continue
		}
		tm := at(r.start)
		if !q.Open && q.ByCloseTime {
			tm = at(r.close)
		}
		if !q.Oldest.IsZero() && tm.Before(q.Oldest) || !q.Latest.IsZero() && tm.After(q.Latest) {
			continue
		}
		if q.WorkflowID != "" && r.wf != q.WorkflowID ||
			q.TypeName != "" && r.typ != q.TypeName ||
			q.TypeVersion != "" && r.ver != q.TypeVersion ||
			hasTag && !slices.Contains(r.tags, tag) ||
			q.CloseStatus != "" && r.status != q.CloseStatus {
			continue
		}
		rows = append(rows, row{tm, r.run})
	}
	slices.SortFunc(rows, func(a, b row) int {
		c := cmp.Or(a.t.Compare(b.t), cmp.Compare(a.run, b.run))
		if q.Reverse {
			return c
		}
		return -c
	})
	var out []string
	for _, r := range rows {
		if !q.AfterTime.IsZero() || q.AfterRunID != "" {
			c := cmp.Or(r.t.Compare(q.AfterTime), cmp.Compare(r.run, q.AfterRunID))
			if q.Reverse && c <= 0 || !q.Reverse && c >= 0 {
				continue
			}
		}
		out = append(out, r.run)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func list(t *testing.T, s swfd.Store, q swfd.VisibilityQuery) []swfd.Execution {
	t.Helper()
	es, err := s.ListExecutions(ctx(), q)
	noErr(t, err, "ListExecutions")
	if q.Limit > 0 && len(es) > q.Limit {
		t.Fatalf("ListExecutions %+v: %d rows over limit %d", q, len(es), q.Limit)
	}
	return es
}

// visQueries are the queries checked against the model.
func visQueries() map[string]swfd.VisibilityQuery {
	qs := map[string]swfd.VisibilityQuery{
		"open":                           {Open: true},
		"closed by start":                {},
		"closed by close":                {ByCloseTime: true},
		"open oldest":                    {Open: true, Oldest: at(2)},
		"open latest":                    {Open: true, Latest: at(2)},
		"open window":                    {Open: true, Oldest: at(2), Latest: at(4)},
		"open empty window":              {Open: true, Oldest: at(2).Add(time.Millisecond), Latest: at(4).Add(-time.Millisecond)},
		"closed by start window":         {Oldest: at(0), Latest: at(3)},
		"closed by close window":         {ByCloseTime: true, Oldest: at(10), Latest: at(11)},
		"closed by close from 11":        {ByCloseTime: true, Oldest: at(11)},
		"open workflowId":                {Open: true, WorkflowID: "wf-a"},
		"closed workflowId":              {WorkflowID: "wf-a"},
		"closed workflowId by close":     {WorkflowID: "wf-b", ByCloseTime: true},
		"unknown workflowId":             {Open: true, WorkflowID: "wf-zz"},
		"open type":                      {Open: true, TypeName: "t1"},
		"open type and version":          {Open: true, TypeName: "t1", TypeVersion: "1"},
		"open type and version 10":       {Open: true, TypeName: "t1", TypeVersion: "10"},
		"closed type":                    {TypeName: "t1"},
		"closed type and version":        {TypeName: "t1", TypeVersion: "2", ByCloseTime: true},
		"open tag red":                   {Open: true, Tag: "red"},
		"open tag Red":                   {Open: true, Tag: "Red"},
		"open tag blue":                  {Open: true, Tag: "blue"},
		"open tag Blue":                  {Open: true, Tag: "Blue"},
		"open tag re (no prefix match)":  {Open: true, Tag: "re"},
		"closed tag red":                 {Tag: "red"},
		"closed tag Red":                 {Tag: "Red", ByCloseTime: true},
		"closed status COMPLETED":        {CloseStatus: "COMPLETED"},
		"closed status COMPLETED close":  {CloseStatus: "COMPLETED", ByCloseTime: true},
		"closed status window":           {CloseStatus: "COMPLETED", ByCloseTime: true, Oldest: at(11)},
		"closed status none":             {CloseStatus: "TERMINATED"},
		"open tag with window":           {Open: true, Tag: "red", Oldest: at(1), Latest: at(3)},
		"open empty tag":                 {Open: true, EmptyTag: true},
		"open empty tag with window":     {Open: true, EmptyTag: true, Oldest: at(4), Latest: at(4)},
		"closed empty tag":               {EmptyTag: true},
		"closed empty tag by close":      {EmptyTag: true, ByCloseTime: true},
		"open limit":                     {Open: true, Limit: 3},
		"open after shared time":         {Open: true, AfterTime: at(2), AfterRunID: "run-o3"},
		"open reverse after shared time": {Open: true, Reverse: true, AfterTime: at(2), AfterRunID: "run-o3"},
	}
	for name, q := range qs {
		q.Domain = "vis"
		qs[name] = q
		r := q
		r.Reverse = !q.Reverse
		qs[name+" reversed"] = r
	}
	qs["other domain open"] = swfd.VisibilityQuery{Domain: "vis2", Open: true, Tag: "red"}
	qs["other domain closed"] = swfd.VisibilityQuery{Domain: "vis2", WorkflowID: "wf-a"}
	qs["other domain open empty tag"] = swfd.VisibilityQuery{Domain: "vis2", Open: true, EmptyTag: true}
	qs["other domain closed empty tag"] = swfd.VisibilityQuery{Domain: "vis2", EmptyTag: true}
	qs["unknown domain"] = swfd.VisibilityQuery{Domain: "nope", Open: true}
	return qs
}

func testListExecutions(t *testing.T, s swfd.Store) {
	loadVis(t, s)
	// The model itself, on a few queries.
	checkIDs(t, "model: open", model(swfd.VisibilityQuery{Domain: "vis", Open: true}),
		[]string{"run-o6", "run-o7", "run-o4", "run-o5", "run-o3", "run-o2", "run-o1"})
	checkIDs(t, "model: closed by close", model(swfd.VisibilityQuery{Domain: "vis", ByCloseTime: true, Reverse: true}),
		[]string{"run-c5", "run-c1", "run-c2", "run-c6", "run-c4", "run-c3", "run-c7"})
	checkIDs(t, "model: open tag red", model(swfd.VisibilityQuery{Domain: "vis", Open: true, Tag: "red"}),
		[]string{"run-o4", "run-o1"})
	// A filter on the empty tag selects the runs tagged "", not every run.
	checkIDs(t, "model: open empty tag", model(swfd.VisibilityQuery{Domain: "vis", Open: true, EmptyTag: true}),
		[]string{"run-o7"})
	checkIDs(t, "model: closed empty tag", model(swfd.VisibilityQuery{Domain: "vis", EmptyTag: true}),
		[]string{"run-c7"})

	for name, q := range visQueries() {
		es := list(t, s, q)
		checkIDs(t, name, runIDs(es), model(q))
		for _, e := range es {
			if e.Domain != q.Domain || e.Open != q.Open {
				t.Fatalf("%s: returned %s", name, execView(e))
			}
		}
	}

	// The contract: a limit of 0 or less is no limit.
	all := model(swfd.VisibilityQuery{Domain: "vis", Open: true})
	checkIDs(t, "negative limit", runIDs(list(t, s, swfd.VisibilityQuery{Domain: "vis", Open: true, Limit: -1})), all)
	checkIDs(t, "limit 2", runIDs(list(t, s, swfd.VisibilityQuery{Domain: "vis", Open: true, Limit: 2})), all[:2])

	// Rows come back complete.
	es := list(t, s, swfd.VisibilityQuery{Domain: "vis", WorkflowID: "wf-h"})
	if len(es) != 1 {
		t.Fatalf("wf-h: %d runs", len(es))
	}
	want := execution("vis", "wf-h", "run-c4", at(5))
	want.TypeName = "t1"
	want.Tags = []string{"blue", "red"}
	checkExec(t, es[0], closed(want, "TIMED_OUT", at(11)))
	// The empty tag comes back as given, beside another.
	es = list(t, s, swfd.VisibilityQuery{Domain: "vis", EmptyTag: true})
	if len(es) != 1 {
		t.Fatalf("closed runs tagged \"\": %v, want run-c7", runIDs(es))
	}
	want = execution("vis", "wf-l", "run-c7", at(6))
	want.TypeName = "t1"
	want.Tags = []string{"red", ""}
	checkExec(t, es[0], closed(want, "FAILED", at(13)))

	// NoState: the same rows, without their states.
	for name, q := range visQueries() {
		withState := list(t, s, q)
		q.NoState = true
		es := list(t, s, q)
		if len(es) != len(withState) {
			t.Fatalf("%s, no state: %d rows, want %d", name, len(es), len(withState))
		}
		for i, e := range es {
			if e.State != nil {
				t.Fatalf("%s, no state: %s has state %q", name, e.RunID, e.State)
			}
			e.State = withState[i].State
			checkExec(t, e, withState[i])
		}
	}
}

func testListExecutionsPaging(t *testing.T, s swfd.Store) {
	loadVis(t, s)
	for name, q := range visQueries() {
		if q.Limit > 0 || !q.AfterTime.IsZero() {
			continue
		}
		want := model(q)
		for _, limit := range []int{1, 2, 4} {
			var got []string
			p := q
			p.Limit = limit
			for range 30 {
				page := list(t, s, p)
				if len(page) == 0 {
					break
				}
				got = append(got, runIDs(page)...)
				last := page[len(page)-1]
				p.AfterRunID = last.RunID
				p.AfterTime = last.StartTime
				if !q.Open && q.ByCloseTime {
					p.AfterTime = last.CloseTime
				}
			}
			checkIDs(t, fmt.Sprintf("%s paged by %d", name, limit), got, want)
		}
	}
}

func testCountExecutions(t *testing.T, s swfd.Store) {
	loadVis(t, s)
	for name, q := range visQueries() {
		if q.Limit > 0 || !q.AfterTime.IsZero() {
			continue
		}
		total := len(model(q))
		n, truncated, err := s.CountExecutions(ctx(), q, 1000)
		noErr(t, err, "CountExecutions")
		if n != total || truncated {
			t.Fatalf("%s: count %d truncated %v, want %d false", name, n, truncated, total)
		}
		if total > 1 {
			n, truncated, err := s.CountExecutions(ctx(), q, total-1)
			noErr(t, err, "CountExecutions")
			if n != total-1 || !truncated {
				t.Fatalf("%s: count with limit %d: %d truncated %v, want %d true", name, total-1, n, truncated, total-1)
			}
		}
	}
	// A filter on the empty tag counts the runs tagged "", open or closed,
	// by start or close time: one each, of many.
	for _, q := range []swfd.VisibilityQuery{
		{Domain: "vis", Open: true, EmptyTag: true},
		{Domain: "vis", EmptyTag: true},
		{Domain: "vis", EmptyTag: true, ByCloseTime: true},
	} {
		n, truncated, err := s.CountExecutions(ctx(), q, 1000)
		noErr(t, err, "CountExecutions")
		if n != 1 || truncated {
			t.Fatalf("count %+v: %d truncated %v, want 1 false", q, n, truncated)
		}
	}
}

func testCountOpen(t *testing.T, s swfd.Store) {
	n, err := s.CountOpen(ctx(), "vis")
	noErr(t, err, "CountOpen")
	if n != 0 {
		t.Fatalf("CountOpen of an empty store = %d", n)
	}
	loadVis(t, s)
	for _, dom := range []string{"vis", "vis2", "none"} {
		want := 0
		for _, r := range visData {
			if r.domain == dom && r.open() {
				want++
			}
		}
		n, err := s.CountOpen(ctx(), dom)
		noErr(t, err, "CountOpen")
		if n != want {
			t.Fatalf("CountOpen(%s) = %d, want %d", dom, n, want)
		}
	}
}

func testPurgeClosed(t *testing.T, s swfd.Store) {
	// In "p": runs closed at minutes 1, 2, 3, 4 (cutoff 4: the last stays),
	// a long-open run, and in "q" a run closed long ago.
	type purgeRun struct {
		dom, run string
		close    int
	}
	runs := []purgeRun{{"p", "run-2", 2}, {"p", "run-1", 1}, {"p", "run-4", 4}, {"p", "run-3", 3}, {"q", "run-q", 0}}
	for i, r := range runs {
		e := execution(r.dom, fmt.Sprintf("wf-%d", i), r.run, at(-10))
		e.Tags = []string{"tag"}
		commit(t, s, swfd.Batch{Updates: []swfd.Update{{
			Execution: e, Create: true, Events: events(r.run, 1, 3),
			AddTasks:  []swfd.Task{{Kind: swfd.ActivityTask, Domain: r.dom, TaskList: "tl", RunID: r.run, ScheduledEventID: 3, Scheduled: at(-10)}},
			AddTimers: []swfd.Timer{{RunID: r.run, Key: "k", Due: at(100)}},
		}}, AddTransfers: []swfd.Transfer{{RunID: r.run, Payload: []byte(r.run)}}})
		// Closed without Closed: the tasks and timers stay for the purge to remove.
		commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: closed(e, "COMPLETED", at(r.close)), Events: events(r.run, 4, 4)}}})
	}
	open := execution("p", "wf-open", "run-open", at(-100))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{
		Execution: open, Create: true, Events: events("run-open", 1, 2),
		AddTimers: []swfd.Timer{{RunID: "run-open", Key: "k", Due: at(100)}},
	}}})

	n, err := s.PurgeClosed(ctx(), "p", at(4), 2)
	noErr(t, err, "PurgeClosed")
	if n != 2 {
		t.Fatalf("PurgeClosed limit 2 deleted %d", n)
	}
	present := func() []string {
		t.Helper()
		var out []string
		for _, r := range append(runs, purgeRun{"p", "run-open", 0}) {
			_, err := s.GetExecution(ctx(), r.dom, r.run)
			if err == nil {
				out = append(out, r.run)
			} else if !errors.Is(err, swfd.ErrNotFound) {
				t.Fatal(err)
			}
		}
		return out
	}
	// Which two of the three eligible runs go is the driver's choice; only
	// eligible ones may.
	left := present()
	if len(left) != 4 || !slices.Contains(left, "run-4") || !slices.Contains(left, "run-q") || !slices.Contains(left, "run-open") {
		t.Fatalf("after purging 2: runs %v", left)
	}
	n, err = s.PurgeClosed(ctx(), "p", at(4), 10)
	noErr(t, err, "PurgeClosed")
	if n != 1 {
		t.Fatalf("second PurgeClosed deleted %d, want 1", n)
	}
	checkIDs(t, "runs after purge", present(), []string{"run-4", "run-q", "run-open"})
	n, err = s.PurgeClosed(ctx(), "p", at(4), 10)
	noErr(t, err, "PurgeClosed")
	if n != 0 {
		t.Fatalf("third PurgeClosed deleted %d, want 0", n)
	}

	// Everything of the purged runs is gone; everything else stays.
	for _, run := range []string{"run-1", "run-2", "run-3"} {
		if evs := history(t, s, swfd.HistoryQuery{RunID: run}); len(evs) != 0 {
			t.Fatalf("%s: %d events left", run, len(evs))
		}
	}
	checkIDs(t, "history of run-4", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-4"})), []int64{1, 2, 3, 4})
	checkIDs(t, "history of run-open", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-open"})), []int64{1, 2})
	var taskRuns, timerRuns, transferRuns []string
	tasks, err := s.PendingTasks(ctx())
	noErr(t, err, "PendingTasks")
	for _, tk := range sortedTasks(tasks) {
		taskRuns = append(taskRuns, tk.RunID)
	}
	timers, err := s.DueTimers(ctx(), at(1000), 100)
	noErr(t, err, "DueTimers")
	for _, tm := range sortedTimers(timers) {
		timerRuns = append(timerRuns, tm.RunID)
	}
	trs, err := s.PendingTransfers(ctx(), 100)
	noErr(t, err, "PendingTransfers")
	for _, tr := range trs {
		transferRuns = append(transferRuns, tr.RunID)
	}
	slices.Sort(transferRuns)
	checkIDs(t, "tasks left", taskRuns, []string{"run-4", "run-q"})
	checkIDs(t, "timers left", timerRuns, []string{"run-4", "run-open", "run-q"})
	// Messages to purged runs stay, to be delivered (as failed).
	checkIDs(t, "transfers left", transferRuns, []string{"run-1", "run-2", "run-3", "run-4", "run-q"})
	es := list(t, s, swfd.VisibilityQuery{Domain: "p", Tag: "tag"})
	checkIDs(t, "closed runs listed by tag", runIDs(es), []string{"run-4"})
	if n, _, err := s.CountExecutions(ctx(), swfd.VisibilityQuery{Domain: "p"}, 100); err != nil || n != 1 {
		t.Fatalf("closed count after purge: %d %v", n, err)
	}

	// A later cutoff reaches run-4; the open run is never purged, and
	// the other domain is untouched.
	n, err = s.PurgeClosed(ctx(), "p", at(1000), 10)
	noErr(t, err, "PurgeClosed")
	if n != 1 {
		t.Fatalf("PurgeClosed with a late cutoff deleted %d, want 1", n)
	}
	checkIDs(t, "runs at the end", present(), []string{"run-q", "run-open"})
}

func testMeta(t *testing.T, s swfd.Store) {
	_, err := s.Meta(ctx(), "token-key")
	wantErr(t, err, swfd.ErrNotFound, "Meta of an unset key")
	v, err := s.SetMetaIfAbsent(ctx(), "token-key", []byte{1, 2, 3, 0})
	noErr(t, err, "SetMetaIfAbsent")
	if string(v) != "\x01\x02\x03\x00" {
		t.Fatalf("SetMetaIfAbsent returned %q", v)
	}
	v, err = s.SetMetaIfAbsent(ctx(), "token-key", []byte("other"))
	noErr(t, err, "SetMetaIfAbsent again")
	if string(v) != "\x01\x02\x03\x00" {
		t.Fatalf("second SetMetaIfAbsent returned %q, want the first value", v)
	}
	v, err = s.Meta(ctx(), "token-key")
	noErr(t, err, "Meta")
	if string(v) != "\x01\x02\x03\x00" {
		t.Fatalf("Meta returned %q", v)
	}
	_, err = s.Meta(ctx(), "other-key")
	wantErr(t, err, swfd.ErrNotFound, "Meta of another key")

	// SetMeta replaces a value set, and sets one unset.
	noErr(t, s.SetMeta(ctx(), "token-key", []byte("replaced")), "SetMeta")
	v, err = s.Meta(ctx(), "token-key")
	noErr(t, err, "Meta after SetMeta")
	if string(v) != "replaced" {
		t.Fatalf("Meta after SetMeta returned %q, want %q", v, "replaced")
	}
	noErr(t, s.SetMeta(ctx(), "other-key", []byte{0}), "SetMeta of an unset key")
	v, err = s.Meta(ctx(), "other-key")
	noErr(t, err, "Meta of a key SetMeta set")
	if string(v) != "\x00" {
		t.Fatalf("Meta of a key SetMeta set returned %q", v)
	}

	// SetMetaMax sets a value unset, raises a value set, and never lowers
	// one, whatever the order writers race in.
	const clockKey = "clock-time"
	noErr(t, s.SetMetaMax(ctx(), clockKey, []byte("2026-12-16T18:33:56.533Z")), "SetMetaMax of an unset key")
	noErr(t, s.SetMetaMax(ctx(), clockKey, []byte("2027-01-15T18:33:56.533Z")), "SetMetaMax of a later time")
	noErr(t, s.SetMetaMax(ctx(), clockKey, []byte("2026-12-16T18:33:56.533Z")), "SetMetaMax of an earlier time")
	v, err = s.Meta(ctx(), clockKey)
	noErr(t, err, "Meta after SetMetaMax")
	if string(v) != "2027-01-15T18:33:56.533Z" {
		t.Fatalf("Meta after SetMetaMax of a later then an earlier time returned %q, want the later", v)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			val := fmt.Sprintf("2030-01-01T00:00:%02d.000Z", i)
			if err := s.SetMetaMax(ctx(), clockKey, []byte(val)); err != nil {
				t.Errorf("SetMetaMax %s: %v", val, err)
			}
		}()
	}
	wg.Wait()
	v, err = s.Meta(ctx(), clockKey)
	noErr(t, err, "Meta after racing SetMetaMax")
	if string(v) != "2030-01-01T00:00:19.000Z" {
		t.Fatalf("Meta after 20 racing SetMetaMax returned %q, want the greatest, 2030-01-01T00:00:19.000Z", v)
	}
}
