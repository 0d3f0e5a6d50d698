package token

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// mapRuns is a Runs over a map of run ids to domains; err, if set, is
// every lookup's answer.
type mapRuns struct {
	domains map[string]string
	err     error
	asked   atomic.Int32
}

func (m *mapRuns) RunDomain(_ context.Context, runID string) (string, error) {
	m.asked.Add(1)
	if m.err != nil {
		return "", m.err
	}
	d, ok := m.domains[runID]
	if !ok {
		return "", fmt.Errorf("run %s: %w", runID, swfd.ErrNotFound)
	}
	return d, nil
}

const testRunID = "22ZkVb0RHMkJvYdrsTnmqp6Gvyp1Oq1bZnPJHa0qJsRQ="

// A task token must fit the 1024 characters the SWF model allows
// taskToken, whatever the domain's name: the longest are 256 characters of
// three or four bytes each. Such a token leaves the domain out, and opens
// to the run's domain, told by Runs.
func TestTaskTokensFitTheModel(t *testing.T) {
	for _, c := range []struct {
		domain string
		inline bool
	}{
		{strings.Repeat("域", 256), false},                           // 768 bytes
		{strings.Repeat("😀", 256), false},                           // 1024 bytes
		{strings.Repeat("é", 256), true},                            // 512 bytes
		{strings.Repeat("é", 100) + strings.Repeat("域", 156), true}, // 668 bytes: the token still fits
	} {
		domain := c.domain
		runs := &mapRuns{domains: map[string]string{testRunID: domain}}
		k := New([]byte("unit-token-key-0123456789abcdef!"), nil, runs)
		for _, kind := range []swfd.TaskKind{swfd.DecisionTask, swfd.ActivityTask} {
			want := Task{Kind: kind, Domain: domain, RunID: testRunID, ScheduledID: 1<<63 - 1, StartedID: 1<<63 - 1}
			tok := k.TaskToken(want)
			if len(tok) > MaxTaskTokenLen {
				t.Fatalf("%d-byte domain: task token of %d characters, more than the model's %d", len(domain), len(tok), MaxTaskTokenLen)
			}
			raw, _ := k.unseal(tok)
			if carries := strings.Contains(string(raw), domain); carries != c.inline {
				t.Errorf("%d-byte domain: the token carries it: %v", len(domain), carries)
			}
			opened := want
			if !c.inline {
				opened.Domain = "" // the caller takes it from the run
			}
			got, err := k.OpenTask(tok, kind)
			if err != nil || got != opened {
				t.Fatalf("%d-byte domain: OpenTask = %+v, %v; want %+v", len(domain), got, err, opened)
			}
			if !got.InDomain(domain) {
				t.Errorf("%d-byte domain: the task opened is not in its domain", len(domain))
			}
			if d, ok, err := k.TaskDomain(context.Background(), tok); d != domain || !ok || err != nil {
				t.Errorf("TaskDomain = %q, %v, %v; want the domain", d, ok, err)
			}
			if r, ok := k.TaskRun(tok); r != testRunID || !ok {
				t.Errorf("TaskRun = %q, %v; want the run", r, ok)
			}
			other := swfd.ActivityTask
			if kind == other {
				other = swfd.DecisionTask
			}
			if _, err := k.OpenTask(tok, other); !errors.Is(err, ErrBadTask) {
				t.Errorf("opened as the other kind: %v", err)
			}
		}
	}
}

// Tokens of ASCII domains (every domain but those of long non-ASCII names)
// are, byte for byte, the tokens swfd made before some left the domain
// out, so the tokens clients hold keep working; opening them asks Runs
// nothing.
func TestTaskTokensOfASCIIDomainsAreUnchanged(t *testing.T) {
	runs := &mapRuns{}
	k := New([]byte("unit-token-key-0123456789abcdef!"), nil, runs)
	for _, c := range []struct {
		task Task
		tok  string // made by swfd before fe2acd7's successor
	}{
		{Task{Kind: swfd.DecisionTask, Domain: "orders", RunID: testRunID, ScheduledID: 2, StartedID: 3},
			"AUQCAwZvcmRlcnMyMlprVmIwUkhNa0p2WWRyc1RubXFwNkd2eXAxT3ExYlpuUEpIYTBxSnNSUT0Wrskqz1lMgA0FY30ByFdN"},
		{Task{Kind: swfd.ActivityTask, Domain: "a-domain-with-a-longer-name.example", RunID: testRunID, ScheduledID: 300, StartedID: 70000},
			"AUGsAvCiBCNhLWRvbWFpbi13aXRoLWEtbG9uZ2VyLW5hbWUuZXhhbXBsZTIyWmtWYjBSSE1rSnZZZHJzVG5tcXA2R3Z5cDFPcTFiWm5QSkhhMHFKc1JRPfI/emG8OYY3fPM249DI+tg="},
	} {
		if got := k.TaskToken(c.task); got != c.tok {
			t.Errorf("TaskToken(%+v) = %q; want %q as before", c.task, got, c.tok)
		}
		got, err := k.OpenTask(c.tok, c.task.Kind)
		if err != nil || got != c.task {
			t.Errorf("OpenTask = %+v, %v; want %+v", got, err, c.task)
		}
	}
	// The longest ASCII name, and the largest ids.
	task := Task{Kind: swfd.ActivityTask, Domain: strings.Repeat("x", 256), RunID: testRunID, ScheduledID: 1<<63 - 1, StartedID: 1<<63 - 1}
	tok := k.TaskToken(task)
	if raw, ok := k.unseal(tok); !ok || raw[0] != taskInline {
		t.Errorf("a 256-character ASCII domain is left out of its token")
	}
	if got, err := k.OpenTask(tok, task.Kind); err != nil || got != task {
		t.Errorf("OpenTask = %+v, %v; want %+v", got, err, task)
	}
	if n := runs.asked.Load(); n != 0 {
		t.Errorf("Runs asked %d times for tokens that carry their domain", n)
	}
}

// A token that leaves its domain out opens without Runs being asked: the
// caller reads the run and checks its domain with InDomain, which takes
// only a domain Keys would have left out. TaskDomain asks Runs: a run gone
// leaves the domain untold (ok, ""), a run of a domain the token would
// have carried names no task, and a failing Runs is an error, not a token
// refused.
func TestTaskTokenByRun(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("域", 256)
	runs := &mapRuns{domains: map[string]string{testRunID: long}}
	k := New(fuzzKeys().key, fuzzClock{fuzzNow}, runs)
	task := Task{Kind: swfd.DecisionTask, Domain: long, RunID: testRunID, ScheduledID: 5, StartedID: 6}
	tok := k.TaskToken(task)

	got, err := k.OpenTask(tok, swfd.DecisionTask)
	if want := (Task{Kind: swfd.DecisionTask, RunID: testRunID, ScheduledID: 5, StartedID: 6}); err != nil || got != want {
		t.Fatalf("OpenTask = %+v, %v; want %+v", got, err, want)
	}
	if n := runs.asked.Load(); n != 0 {
		t.Errorf("OpenTask asked Runs %d times", n)
	}
	for _, c := range []struct {
		domain string
		ok     bool
	}{
		{long, true},
		{strings.Repeat("😀", 256), true}, // as long: a token of its run would leave it out too
		{"short", false},
		{strings.Repeat("é", 256), false},
		{"", false},
	} {
		if ok := got.InDomain(c.domain); ok != c.ok {
			t.Errorf("InDomain(%d bytes) = %v, want %v", len(c.domain), ok, c.ok)
		}
	}
	inline := Task{Kind: swfd.DecisionTask, Domain: "d", RunID: testRunID, ScheduledID: 5, StartedID: 6}
	if !inline.InDomain("d") || inline.InDomain("e") || inline.InDomain(long) {
		t.Errorf("a task whose token carries its domain is in that domain only")
	}

	if d, ok, err := k.TaskDomain(ctx, tok); d != long || !ok || err != nil {
		t.Errorf("TaskDomain = %q, %v, %v; want the run's domain", d, ok, err)
	}
	runs.domains[testRunID] = "short" // not a token Keys makes for this run
	if d, ok, err := k.TaskDomain(ctx, tok); ok || err != nil || d != "" {
		t.Errorf("TaskDomain of a run of a short domain = %q, %v, %v; want not ok", d, ok, err)
	}
	delete(runs.domains, testRunID) // purged
	if d, ok, err := k.TaskDomain(ctx, tok); !ok || err != nil || d != "" {
		t.Errorf("TaskDomain of a run gone = %q, %v, %v; want ok with the domain untold", d, ok, err)
	}
	broken := errors.New("store down")
	runs.err = broken
	if _, ok, err := k.TaskDomain(ctx, tok); ok || !errors.Is(err, broken) {
		t.Errorf("TaskDomain with a failing Runs = %v, %v; want its error", ok, err)
	}
	if r, ok := k.TaskRun(tok); r != testRunID || !ok {
		t.Errorf("TaskRun = %q, %v; it needs no Runs", r, ok)
	}
	noRuns := New(k.key, nil, nil)
	if d, ok, err := noRuns.TaskDomain(ctx, tok); !ok || err != nil || d != "" {
		t.Errorf("TaskDomain of Keys without Runs = %q, %v, %v; want ok with the domain untold", d, ok, err)
	}
	if d, ok, err := k.TaskDomain(ctx, "not a token"); ok || err != nil || d != "" {
		t.Errorf("TaskDomain of a token Keys did not make = %q, %v, %v; want not ok", d, ok, err)
	}

	// Keys once made tokens of over 1024 characters, which every call
	// refused: they are still refused.
	runs.err = nil
	old := k.seal(append([]byte{taskInline, 'D', 5, 6, 0x80, 6}, long+testRunID...))
	if _, err := k.OpenTask(old, swfd.DecisionTask); !errors.Is(err, ErrBadTask) {
		t.Errorf("an over-long token of the old format: %v, want ErrBadTask", err)
	}
	// A domain is never empty: a token with an empty one is none Keys
	// makes for a task, and would read as one that left its domain out.
	empty := k.TaskToken(Task{Kind: swfd.DecisionTask, RunID: testRunID, ScheduledID: 5, StartedID: 6})
	if _, err := k.OpenTask(empty, swfd.DecisionTask); !errors.Is(err, ErrBadTask) {
		t.Errorf("a token with an empty domain: %v, want ErrBadTask", err)
	}
	if _, ok, _ := k.TaskDomain(ctx, empty); ok {
		t.Errorf("TaskDomain took a token with an empty domain")
	}
	var f *api.Fault
	if _, err := k.OpenTask(k.PageToken("s", "a"), swfd.DecisionTask); !errors.As(err, &f) || f.Code != api.UnknownResourceFault {
		t.Errorf("a page token opened as a task token: %v", err)
	}
}
