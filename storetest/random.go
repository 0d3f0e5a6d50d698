package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/swfd/swfd"
)

// randomRuns makes n runs of domain "rnd" from a fixed seed: few start and
// close times (so that many runs tie), workflowIds, types and tags that
// differ by case or by Unicode normalization, tags repeated within a run
// and the empty tag, run ids of upper and lower case letters, and never
// two open runs of one workflowId.
func randomRuns(seed uint64, n int) []visRun {
	rng := rand.New(rand.NewPCG(seed, seed))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	wfs := []string{"w", "W", "\u00e9", "e\u0301", "w1", "w10", "w2"}
	types := []string{"t", "T", "t2"}
	versions := []string{"1", "10", "2"}
	tags := []string{"a", "A", "\u00e9", "e\u0301", "", "ab"}
	statuses := []string{"COMPLETED", "FAILED", "TERMINATED"}
	const letters = "aAbBzZ09-_"
	openWF := map[string]bool{}
	var runs, open []visRun
	for i := range n {
		id := []byte("r")
		for range 3 {
			id = append(id, letters[rng.IntN(len(letters))])
		}
		r := visRun{
			domain: "rnd",
			wf:     pick(wfs),
			run:    fmt.Sprintf("%s%02d", id, i), // unique
			typ:    pick(types),
			ver:    pick(versions),
			start:  rng.IntN(6),
			close:  -1,
		}
		for range rng.IntN(4) {
			r.tags = append(r.tags, pick(tags))
		}
		if openWF[r.wf] || rng.IntN(2) == 0 {
			r.close = r.start + rng.IntN(4)
			r.status = pick(statuses)
			runs = append(runs, r)
		} else {
			openWF[r.wf] = true
			open = append(open, r)
		}
	}
	// The open runs last: a closed run is stored open first, and a
	// workflowId has one open run at a time.
	return append(runs, open...)
}

// testVisibilityRandom checks many queries of one selector (or none), with
// and without time bounds, in both orders, against the model, read whole,
// page by page at sizes from 1 up, and counted.
func testVisibilityRandom(t *testing.T, s swfd.Store) {
	runs := randomRuns(7, 80)
	loadRuns(t, s, runs)
	rng := rand.New(rand.NewPCG(11, 11))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	for i := range 300 {
		q := swfd.VisibilityQuery{Domain: "rnd", Open: rng.IntN(2) == 0, Reverse: rng.IntN(2) == 0}
		if !q.Open {
			q.ByCloseTime = rng.IntN(2) == 0
		}
		switch rng.IntN(6) {
		case 1:
			q.WorkflowID = pick([]string{"w", "W", "\u00e9", "e\u0301", "w1", "x"})
		case 2:
			q.TypeName = pick([]string{"t", "T", "t2"})
		case 3:
			q.TypeName, q.TypeVersion = pick([]string{"t", "T"}), pick([]string{"1", "10", "2"})
		case 4:
			q.Tag = pick([]string{"a", "A", "\u00e9", "e\u0301", "", "ab", "b"})
			q.EmptyTag = q.Tag == ""
		case 5:
			if !q.Open {
				q.CloseStatus = pick([]string{"COMPLETED", "FAILED", "TERMINATED", "CANCELED"})
			}
		}
		if rng.IntN(2) == 0 {
			q.Oldest = at(rng.IntN(8))
		}
		if rng.IntN(2) == 0 {
			q.Latest = at(rng.IntN(8))
		}
		what := fmt.Sprintf("query %d %+v", i, q)
		want := modelOf(runs, q)
		checkIDs(t, what, runIDs(list(t, s, q)), want)
		n, truncated, err := s.CountExecutions(ctx(), q, 1000)
		noErr(t, err, "CountExecutions")
		if n != len(want) || truncated {
			t.Fatalf("%s: count %d truncated %v, want %d false", what, n, truncated, len(want))
		}
		if len(want) > 1 {
			n, truncated, err := s.CountExecutions(ctx(), q, len(want)-1)
			noErr(t, err, "CountExecutions")
			if n != len(want)-1 || !truncated {
				t.Fatalf("%s: count to %d: %d truncated %v, want %[2]d true", what, len(want)-1, n, truncated)
			}
		}
		p := q
		p.Limit = 1 + rng.IntN(4)
		var got []string
		for range len(want) + 2 {
			page := list(t, s, p)
			if len(page) == 0 {
				break
			}
			got = append(got, runIDs(page)...)
			last := page[len(page)-1]
			p.AfterTime, p.AfterRunID = last.StartTime, last.RunID
			if q.ByCloseTime {
				p.AfterTime = last.CloseTime
			}
		}
		checkIDs(t, fmt.Sprintf("%s by %d", what, p.Limit), got, want)
	}
}
