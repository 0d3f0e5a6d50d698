package history

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/swfd/swfd/api"
)

// BenchmarkWorkflowOneActivity runs canonical sequence A through the state
// machine: start, decision, activity, decision, complete — plus the JSON
// round trip of the state that the service does on every step.
func BenchmarkWorkflowOneActivity(b *testing.B) {
	env := Env{Now: t0, Types: newFakeTypes(), Limits: DefaultLimits}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := rootParams()
		p.RunID = fmt.Sprint("r", i)
		s, _ := Start(env, p)
		step := func(f func(s *State) (Result, error)) {
			raw, _ := json.Marshal(s)
			s = new(State)
			if err := json.Unmarshal(raw, s); err != nil {
				b.Fatal(err)
			}
			if _, err := f(s); err != nil {
				b.Fatal(err)
			}
		}
		step(func(s *State) (Result, error) { return s.StartDecisionTask(env, 2, api.String("d")) })
		step(func(s *State) (Result, error) {
			return s.CompleteDecisionTask(env, 3, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{schedAct("a1")}})
		})
		step(func(s *State) (Result, error) { return s.StartActivityTask(env, 5, api.String("w")) })
		step(func(s *State) (Result, error) { return s.CompleteActivityTask(env, 5, 6, api.String("ok")) })
		step(func(s *State) (Result, error) { return s.StartDecisionTask(env, 8, api.String("d")) })
		step(func(s *State) (Result, error) {
			return s.CompleteDecisionTask(env, 9, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{{DecisionType: api.DecisionTypeCompleteWorkflowExecution}}})
		})
	}
}
