package history

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// failingTypes fails every lookup of one type key ("kind/domain/name/version")
// and counts the lookups of each key.
type failingTypes struct {
	*fakeTypes
	fail  string
	asked map[string]int
}

var errRegistryDown = errors.New("registry unavailable")

func (f *failingTypes) ActivityType(domain, name, version string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool, error) {
	k := "activity/" + domain + "/" + name + "/" + version
	f.asked[k]++
	if k == f.fail {
		return swfd.TypeRecord{}, api.ActivityTypeConfiguration{}, false, errRegistryDown
	}
	return f.fakeTypes.ActivityType(domain, name, version)
}

func (f *failingTypes) WorkflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool, error) {
	k := "workflow/" + domain + "/" + name + "/" + version
	f.asked[k]++
	if k == f.fail {
		return swfd.TypeRecord{}, api.WorkflowTypeConfiguration{}, false, errRegistryDown
	}
	return f.fakeTypes.WorkflowType(domain, name, version)
}

// TestLookupErrorFailsBatch checks that a decision batch whose registry
// lookup fails (a type, or the open executions for a child) fails with the
// lookup's error, records nothing and leaves the state as it was, even when
// decisions before the failing one would have recorded events; and that
// each type is asked about once per batch, however many decisions (and
// authorization) use it.
func TestLookupErrorFailsBatch(t *testing.T) {
	for _, c := range []struct {
		name     string
		fail     string
		openErr  bool
		decision api.Decision
	}{
		{"schedule activity", "activity/d/act/1", false, schedAct("a")},
		{"start child", "workflow/d/child/1", false, startChild("c", "child", nil)},
		{"start child open count", "", true, startChild("c", "child", nil)},
		{"continue as new", "workflow/d/wf/2", false, continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) { a.WorkflowTypeVersion = "2" })},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := startDefault(t)
			types := &failingTypes{fakeTypes: newFakeTypes(), fail: c.fail, asked: map[string]int{}}
			h.env.Types = types
			if c.openErr {
				h.env.OpenExecutions = func(string) (int, int, error) { return 0, 0, errRegistryDown }
			}
			authorized := 0
			h.env.AuthorizeDecision = func(*api.Decision, map[string]string) bool { authorized++; return true }
			started := h.pollDecision()
			before, err := json.Marshal(h.s)
			if err != nil {
				t.Fatal(err)
			}
			res, err := h.s.CompleteDecisionTask(h.env, started, &api.RespondDecisionTaskCompletedInput{
				Decisions: []api.Decision{marker("m", ""), c.decision}})
			if !errors.Is(err, errRegistryDown) {
				t.Fatalf("CompleteDecisionTask: %v, want the lookup's error", err)
			}
			if len(res.Events) != 0 || len(res.AddTasks) != 0 || len(res.Messages) != 0 || res.ContinuedAs != nil {
				t.Errorf("a failed batch returned a result: %+v", res)
			}
			after, _ := json.Marshal(h.s)
			if string(after) != string(before) {
				t.Errorf("state changed by a failed batch:\n before %s\n after  %s", before, after)
			}
			if authorized != 0 {
				t.Errorf("%d decisions authorized before the lookups", authorized)
			}
		})
	}

	// Two decisions on one type, authorized on their default task list:
	// one lookup.
	h := startDefault(t)
	types := &failingTypes{fakeTypes: newFakeTypes(), asked: map[string]int{}}
	h.env.Types = types
	h.env.AuthorizeDecision = func(*api.Decision, map[string]string) bool { return true }
	res := h.pollAndDecide(schedAct("a1"), schedAct("a2"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:ActivityTaskScheduled")
	if n := types.asked["activity/d/act/1"]; n != 1 {
		t.Errorf("type looked up %d times, want 1", n)
	}
}
