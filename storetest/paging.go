package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// churnBase is the data set testListExecutionsPagingWhileChanging starts
// each of its lists from: open and closed runs, several starting (and
// closing) in one minute, some tagged "red".
func churnBase(dom string) []visRun {
	var runs []visRun
	for i := range 12 {
		r := visRun{domain: dom, wf: fmt.Sprintf("w%02d", i), run: fmt.Sprintf("%s-m%02d", dom, i), typ: "t", ver: "1",
			start: i / 3, close: -1}
		if i%2 == 0 {
			r.tags = []string{"red"}
		}
		if i%3 != 0 {
			r.close, r.status = 10+i/2, "COMPLETED"
		}
		runs = append(runs, r)
	}
	return runs
}

// testListExecutionsPagingWhileChanging pages through lists while runs
// start and close between the pages, as the service's nextPageToken does
// (resuming after the last row's time and run id): each page is what the
// query finds after that position in the data as it is then, so no run is
// listed twice, and every run that matches the query from the first page
// to the last is listed. Runs start, and close, at the very time of the
// last row listed, with run ids either side of its, as well as later.
func testListExecutionsPagingWhileChanging(t *testing.T, s swfd.Store) {
	queries := map[string]swfd.VisibilityQuery{
		"open":            {Open: true},
		"closed by start": {},
		"closed by close": {ByCloseTime: true},
		"open tag":        {Open: true, Tag: "red"},
		"closed tag":      {Tag: "red", ByCloseTime: true},
		"closed type":     {TypeName: "t"},
	}
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	slices.Sort(names)
	n := 0
	for _, name := range names {
		for _, reverse := range []bool{false, true} {
			for _, limit := range []int{1, 3} {
				n++
				dom := fmt.Sprintf("chg%d", n)
				q := queries[name]
				q.Domain, q.Reverse = dom, reverse
				what := fmt.Sprintf("%s reverse=%v by %d", name, reverse, limit)
				pageWhileChanging(t, s, what, q, limit)
			}
		}
	}
}

func pageWhileChanging(t *testing.T, s swfd.Store, what string, q swfd.VisibilityQuery, limit int) {
	t.Helper()
	runs := churnBase(q.Domain)
	loadRuns(t, s, runs)
	atStart := modelOf(runs, q)
	key := func(e swfd.Execution) int {
		tm := e.StartTime
		if !q.Open && q.ByCloseTime {
			tm = e.CloseTime
		}
		return int(tm.Sub(base) / time.Minute)
	}
	byID := func(id string) int {
		return slices.IndexFunc(runs, func(r visRun) bool { return r.run == id })
	}
	closeOne := func(i, minute int) {
		t.Helper()
		r := &runs[i]
		e := execution(r.domain, r.wf, r.run, at(r.start))
		e.TypeName, e.TypeVersion, e.Tags = r.typ, r.ver, r.tags
		closeRun(t, s, e, "FAILED", at(minute))
		r.close, r.status = minute, "FAILED"
	}
	startOne := func(id string, minute int, closeAt int) {
		t.Helper()
		r := visRun{domain: q.Domain, wf: "new-" + id, run: q.Domain + "-" + id, typ: "t", ver: "1", start: minute, tags: []string{"red"}, close: closeAt, status: "FAILED"}
		if closeAt < 0 {
			r.status = ""
		}
		loadRuns(t, s, []visRun{r})
		runs = append(runs, r)
	}
	var got []string
	p := q
	p.Limit = limit
	for page := 0; ; page++ {
		if page > 60 {
			t.Fatalf("%s: paging never ended (%v)", what, got)
		}
		want := modelOf(runs, p)
		es := list(t, s, p)
		checkIDs(t, fmt.Sprintf("%s: page %d", what, page), runIDs(es), want)
		if len(es) == 0 {
			break
		}
		got = append(got, runIDs(es)...)
		last := es[len(es)-1]
		p.AfterTime, p.AfterRunID = last.StartTime, last.RunID
		if !q.Open && q.ByCloseTime {
			p.AfterTime = last.CloseTime
		}
		if page >= 8 {
			continue // let the list end
		}
		// Runs start at the last row's time (or close at it), with run
		// ids before and after its, and later; an open run not yet
		// listed closes, and so does one already listed.
		m := key(last)
		if q.Open {
			startOne(fmt.Sprintf("a%02d", page), m, -1)
			startOne(fmt.Sprintf("z%02d", page), m, -1)
			startOne(fmt.Sprintf("n%02d", page), 9, -1)
		} else if q.ByCloseTime {
			startOne(fmt.Sprintf("a%02d", page), 0, m)
			startOne(fmt.Sprintf("z%02d", page), 0, m)
			startOne(fmt.Sprintf("n%02d", page), 0, 30+page)
		} else {
			startOne(fmt.Sprintf("a%02d", page), m, 30+page)
			startOne(fmt.Sprintf("z%02d", page), m, 30+page)
			startOne(fmt.Sprintf("n%02d", page), 9, 30+page)
		}
		for i, r := range runs {
			if r.open() && !slices.Contains(got, r.run) {
				closeOne(i, 30+page)
				break
			}
		}
		for _, id := range slices.Backward(got) {
			if i := byID(id); runs[i].open() {
				closeOne(i, 30+page)
				break
			}
		}
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s: %s listed twice in %v", what, id, got)
		}
		seen[id] = true
	}
	atEnd := modelOf(runs, q)
	for _, id := range atStart {
		if slices.Contains(atEnd, id) && !seen[id] {
			t.Fatalf("%s: %s, matching throughout, never listed (got %v)", what, id, got)
		}
	}
}

// testVisibilityFarBounds: a query's bounds may lie far from every run,
// before 1970 or thousands of years ahead (a client's "no bound" is often
// 9999-12-31, and the service takes epoch seconds up to ±10¹⁵), and select
// by them all the same: every driver compares them as the instants they
// are, never failing on a time its own time type could not hold.
func testVisibilityFarBounds(t *testing.T, s swfd.Store) {
	loadVis(t, s)
	far := time.Unix(1e15, 0).UTC()           // about year 31,690,708
	farPast := time.Unix(-1e15, 0).UTC()      // as far before 1970
	before1970 := time.UnixMilli(-1500).UTC() // 1969-12-31T23:59:58.5Z
	year1 := time.Time{}.Add(-time.Millisecond)
	y9999 := time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
	bounds := map[string][2]time.Time{
		"far past to far future": {farPast, far},
		"before 1970 to 9999":    {before1970, y9999},
		"from before 1970":       {before1970, time.Time{}},
		"up to 9999":             {time.Time{}, y9999},
		"far future only":        {far, time.Time{}},
		"9999 only":              {y9999, time.Time{}},
		"up to before 1970":      {time.Time{}, before1970},
		"up to year 1":           {time.Time{}, year1},
		"up to the far past":     {farPast, farPast},
		"from 1970 to a run":     {time.Unix(0, 0).UTC(), at(2)},
		"from a run to 9999":     {at(3), y9999},
	}
	for name, b := range bounds {
		for _, sel := range []swfd.VisibilityQuery{{Open: true}, {}, {ByCloseTime: true}, {Open: true, Tag: "red"}, {ByCloseTime: true, Tag: "red"}} {
			q := sel
			q.Domain, q.Oldest, q.Latest = "vis", b[0], b[1]
			what := fmt.Sprintf("%s, %+v", name, sel)
			want := model(q)
			checkIDs(t, what, runIDs(list(t, s, q)), want)
			n, truncated, err := s.CountExecutions(ctx(), q, 1000)
			noErr(t, err, "CountExecutions "+what)
			if n != len(want) || truncated {
				t.Fatalf("%s: count %d truncated %v, want %d false", what, n, truncated, len(want))
			}
		}
	}
	// A page resumes after a position as far out, too.
	for _, after := range []time.Time{far, farPast, before1970} {
		for _, reverse := range []bool{false, true} {
			q := swfd.VisibilityQuery{Domain: "vis", Open: true, Reverse: reverse, AfterTime: after, AfterRunID: "run-x"}
			checkIDs(t, fmt.Sprintf("after %s reverse=%v", after, reverse), runIDs(list(t, s, q)), model(q))
		}
	}
}
