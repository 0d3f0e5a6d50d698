package history

import (
	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// A decision batch reads the registry (the types it schedules, starts or
// continues as, and the domain's open executions for a child). Those reads
// can fail, and a failed read must fail the call, never be recorded as "the
// type does not exist". resolveBatch therefore asks every question the batch
// will ask before the batch changes the state, and the batch is answered
// from those answers: a failed lookup leaves the run as it was.

// typeKey names one registered type.
type typeKey struct {
	kind                  swfd.TypeKind
	domain, name, version string
}

// answer is one TypeLookup answer.
type answer struct {
	rec   swfd.TypeRecord
	act   api.ActivityTypeConfiguration
	wf    api.WorkflowTypeConfiguration
	found bool
}

// resolvedTypes answers from the answers resolveBatch collected; a question
// it was not asked before goes to the lookup behind it.
type resolvedTypes struct {
	next    TypeLookup
	answers map[typeKey]answer
}

func (r *resolvedTypes) ActivityType(domain, name, version string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool, error) {
	a, err := r.ask(typeKey{swfd.ActivityKind, domain, name, version})
	return a.rec, a.act, a.found, err
}

func (r *resolvedTypes) WorkflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool, error) {
	a, err := r.ask(typeKey{swfd.WorkflowKind, domain, name, version})
	return a.rec, a.wf, a.found, err
}

func (r *resolvedTypes) ask(k typeKey) (answer, error) {
	if a, ok := r.answers[k]; ok {
		return a, nil
	}
	var a answer
	var err error
	if r.next != nil {
		if k.kind == swfd.ActivityKind {
			a.rec, a.act, a.found, err = r.next.ActivityType(k.domain, k.name, k.version)
		} else {
			a.rec, a.wf, a.found, err = r.next.WorkflowType(k.domain, k.name, k.version)
		}
	}
	if err != nil {
		return answer{}, err
	}
	r.answers[k] = a
	return a, nil
}

// resolveBatch asks env's lookups every question the decisions will ask
// (the same questions scheduleActivity, startChild, continueAsNew and
// decisionKeys ask) and returns an Env that answers them without asking
// again. It fails with the first lookup error.
func (s *State) resolveBatch(env Env, decisions []api.Decision) (Env, error) {
	types := &resolvedTypes{next: env.Types, answers: map[typeKey]answer{}}
	children := false
	for i := range decisions {
		var k typeKey
		switch d := &decisions[i]; d.DecisionType {
		case api.DecisionTypeScheduleActivityTask:
			a := d.ScheduleActivityTaskDecisionAttributes
			if a == nil {
				continue
			}
			k = typeKey{swfd.ActivityKind, s.Domain, a.ActivityType.Name, a.ActivityType.Version}
		case api.DecisionTypeStartChildWorkflowExecution:
			a := d.StartChildWorkflowExecutionDecisionAttributes
			if a == nil {
				continue
			}
			children = true
			k = typeKey{swfd.WorkflowKind, s.Domain, a.WorkflowType.Name, a.WorkflowType.Version}
		case api.DecisionTypeContinueAsNewWorkflowExecution:
			version := s.WorkflowType.Version
			if a := d.ContinueAsNewWorkflowExecutionDecisionAttributes; a != nil {
				version = firstOf(a.WorkflowTypeVersion, version)
			}
			k = typeKey{swfd.WorkflowKind, s.Domain, s.WorkflowType.Name, version}
		default:
			continue
		}
		if _, err := types.ask(k); err != nil {
			return env, err
		}
	}
	env.Types = types
	if children && env.OpenExecutions != nil {
		open, limit, err := env.OpenExecutions(s.Domain)
		if err != nil {
			return env, err
		}
		domain, next := s.Domain, env.OpenExecutions
		env.OpenExecutions = func(d string) (int, int, error) {
			if d == domain {
				return open, limit, nil
			}
			return next(d)
		}
	}
	return env, nil
}

// activityType looks up an activity type for the step. A lookup error is
// kept in st.lookupErr (the step then fails) and reads as not found.
func (st *step) activityType(domain, name, version string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool) {
	if st.env.Types == nil {
		return swfd.TypeRecord{}, api.ActivityTypeConfiguration{}, false
	}
	rec, cfg, found, err := st.env.Types.ActivityType(domain, name, version)
	if err != nil {
		st.lookupFailed(err)
		return swfd.TypeRecord{}, api.ActivityTypeConfiguration{}, false
	}
	return rec, cfg, found
}

// workflowType looks up a workflow type for the step, as activityType does.
func (st *step) workflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool) {
	if st.env.Types == nil {
		return swfd.TypeRecord{}, api.WorkflowTypeConfiguration{}, false
	}
	rec, cfg, found, err := st.env.Types.WorkflowType(domain, name, version)
	if err != nil {
		st.lookupFailed(err)
		return swfd.TypeRecord{}, api.WorkflowTypeConfiguration{}, false
	}
	return rec, cfg, found
}

// openExecutions reports a domain's open executions and their limit for the
// step (limit 0: no limit known), as activityType does.
func (st *step) openExecutions(domain string) (open, limit int) {
	if st.env.OpenExecutions == nil {
		return 0, 0
	}
	open, limit, err := st.env.OpenExecutions(domain)
	if err != nil {
		st.lookupFailed(err)
		return 0, 0
	}
	return open, limit
}

func (st *step) lookupFailed(err error) {
	if st.lookupErr == nil {
		st.lookupErr = err
	}
}
