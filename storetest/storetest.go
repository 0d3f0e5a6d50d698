// Package storetest is the test suite every swfd.Store driver must pass.
//
// A driver's tests call Run with a constructor of empty stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) swfd.Store {
//			s, err := mydriver.Open(...)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every subtest asks for its own store and may run in parallel with the
// others, so newStore must be safe for concurrent use and return a store that
// shares nothing with the others. The suite tests the contracts written on
// swfd.Store's methods and nothing a driver may choose freely: it never
// depends on the order of rows the contract leaves unordered, and all its
// times are whole milliseconds after a fixed base time. Names that are
// ordered use lower-case ASCII only, so a database collation cannot change
// the expected order (a PostgreSQL driver should still order by bytes,
// COLLATE "C", as SWF does).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// base is the suite's fixed origin of time.
var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns base plus n minutes.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }

// Run runs the suite against stores made by newStore, one per subtest.
func Run(t *testing.T, newStore func(t *testing.T) swfd.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s swfd.Store)
	}{
		{"Ping", testPing},
		{"DomainCreateGet", testDomainCreateGet},
		{"DomainDuplicate", testDomainDuplicate},
		{"DomainLimit", testDomainLimit},
		{"ConcurrentDomains", testConcurrentDomains},
		{"DomainStatus", testDomainStatus},
		{"DomainTags", testDomainTags},
		{"ConcurrentTags", testConcurrentTags},
		{"RegistryEmptyStrings", testRegistryEmptyStrings},
		{"ListDomains", testListDomains},
		{"TypeCreateGet", testTypeCreateGet},
		{"TypeDuplicate", testTypeDuplicate},
		{"TypeLimit", testTypeLimit},
		{"ConcurrentTypeLimit", testConcurrentTypeLimit},
		{"TypeStatus", testTypeStatus},
		{"TypeDelete", testTypeDelete},
		{"ListTypes", testListTypes},
		{"TypeInDeprecatedDomain", testTypeInDeprecatedDomain},
		{"DeprecateWhileRegistering", testDeprecateWhileRegistering},
		{"CommitEmpty", testCommitEmpty},
		{"ExecutionCreateGet", testExecutionCreateGet},
		{"ExecutionDuplicateOpenRun", testExecutionDuplicate},
		{"ExecutionUpdate", testExecutionUpdate},
		{"ExecutionVersionConflict", testVersionConflict},
		{"CommitAtomic", testCommitAtomic},
		{"OpenAndLatestRun", testOpenAndLatestRun},
		{"History", testHistory},
		{"HistoryBytes", testHistoryBytes},
		{"Tasks", testTasks},
		{"LambdaTasks", testLambdaTasks},
		{"Timers", testTimers},
		{"DueRunTimers", testDueRunTimers},
		{"Heartbeats", testHeartbeats},
		{"Transfers", testTransfers},
		{"ListExecutions", testListExecutions},
		{"ListExecutionsPaging", testListExecutionsPaging},
		{"ListExecutionsPagingWhileChanging", testListExecutionsPagingWhileChanging},
		{"VisibilityFarBounds", testVisibilityFarBounds},
		{"CountExecutions", testCountExecutions},
		{"CountOpen", testCountOpen},
		{"UnicodeVisibility", testUnicodeVisibility},
		{"UnicodeRegistry", testUnicodeRegistry},
		{"VisibilityRandom", testVisibilityRandom},
		{"PurgeClosed", testPurgeClosed},
		{"Meta", testMeta},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"ConcurrentRounds", testConcurrentRounds},
		{"ConcurrentSteps", testConcurrentSteps},
		{"HoldRun", testHoldRun},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// ---- helpers ----

func ctx() context.Context { return context.Background() }

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func commit(t *testing.T, s swfd.Store, b swfd.Batch) {
	t.Helper()
	noErr(t, s.Commit(ctx(), b), "Commit")
}

// execution returns a new open run at version 1.
func execution(domain, workflowID, runID string, start time.Time) swfd.Execution {
	return swfd.Execution{
		Domain:      domain,
		WorkflowID:  workflowID,
		RunID:       runID,
		TypeName:    "wtype",
		TypeVersion: "1",
		StartTime:   start,
		Open:        true,
		Version:     1,
		State:       []byte("state-1"),
	}
}

func create(t *testing.T, s swfd.Store, e swfd.Execution) swfd.Execution {
	t.Helper()
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true}}})
	return e
}

// next returns e at its next version.
func next(e swfd.Execution) swfd.Execution {
	e.Version++
	e.State = []byte(fmt.Sprintf("state-%d", e.Version))
	return e
}

// closed returns e closed at when with status, at its next version.
func closed(e swfd.Execution, status string, when time.Time) swfd.Execution {
	e = next(e)
	e.Open = false
	e.CloseStatus = status
	e.CloseTime = when
	return e
}

// closeRun commits e's closing and returns the closed row.
func closeRun(t *testing.T, s swfd.Store, e swfd.Execution, status string, when time.Time) swfd.Execution {
	t.Helper()
	c := closed(e, status, when)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: c, Closed: true}}})
	return c
}

func ms(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func execView(e swfd.Execution) string {
	return fmt.Sprintf("domain=%q wf=%q run=%q type=%q/%q start=%s close=%s open=%v status=%q tags=%q parent=%q/%q cancel=%v version=%d state=%q",
		e.Domain, e.WorkflowID, e.RunID, e.TypeName, e.TypeVersion, ms(e.StartTime), ms(e.CloseTime), e.Open,
		e.CloseStatus, strings.Join(e.Tags, ","), e.ParentWorkflowID, e.ParentRunID, e.CancelRequested, e.Version, e.State)
}

func checkExec(t *testing.T, got, want swfd.Execution) {
	t.Helper()
	if g, w := execView(got), execView(want); g != w {
		t.Fatalf("execution:\n got %s\nwant %s", g, w)
	}
	if len(got.Tags) != len(want.Tags) {
		t.Fatalf("execution tags: got %q, want %q", got.Tags, want.Tags)
	}
}

func getExec(t *testing.T, s swfd.Store, domain, runID string) swfd.Execution {
	t.Helper()
	e, err := s.GetExecution(ctx(), domain, runID)
	noErr(t, err, "GetExecution "+runID)
	return e
}

func runIDs(es []swfd.Execution) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.RunID
	}
	return out
}

// str returns a pointer to s, an optional string that is given.
func str(s string) *string { return &s }

// optView shows an optional string: "none" when it is not given, else
// quoted (an empty one as "").
func optView(p *string) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%q", *p)
}

func domainView(d swfd.Domain) string {
	var tags []string
	for _, tg := range d.Tags {
		tags = append(tags, tg.Key+"="+optView(tg.Value))
	}
	return fmt.Sprintf("name=%q desc=%s status=%q retention=%q tags=%q created=%s",
		d.Name, optView(d.Description), d.Status, d.RetentionDays, tags, ms(d.Created))
}

func typeView(r swfd.TypeRecord) string {
	return fmt.Sprintf("kind=%s domain=%q name=%q version=%q status=%q desc=%s created=%s deprecated=%s config=%q",
		r.Kind, r.Domain, r.Name, r.Version, r.Status, optView(r.Description), ms(r.Created), ms(r.Deprecated), r.Config)
}

func eventIDs(evs []swfd.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func eventJSON(run string, id int64) []byte {
	return []byte(fmt.Sprintf(`{"eventId":%d,"run":%q}`, id, run))
}

func events(run string, from, to int64) []swfd.Event {
	var out []swfd.Event
	for id := from; id <= to; id++ {
		out = append(out, swfd.Event{ID: id, JSON: eventJSON(run, id)})
	}
	return out
}

func history(t *testing.T, s swfd.Store, q swfd.HistoryQuery) []swfd.Event {
	t.Helper()
	evs, err := s.History(ctx(), q)
	noErr(t, err, "History")
	for _, ev := range evs {
		if !bytes.Equal(ev.JSON, eventJSON(q.RunID, ev.ID)) {
			t.Fatalf("event %d of %s: JSON %q", ev.ID, q.RunID, ev.JSON)
		}
	}
	return evs
}

func checkIDs[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func ping(t *testing.T, s swfd.Store) {
	t.Helper()
	noErr(t, s.Ping(ctx()), "Ping")
}

func testPing(t *testing.T, s swfd.Store) { ping(t, s) }

func testCommitEmpty(t *testing.T, s swfd.Store) {
	commit(t, s, swfd.Batch{})
}
