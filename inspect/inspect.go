// Package inspect is what an operator's view of a running swfd may ask
// beyond what the SWF API answers: the pending work of one run in detail
// (the open decision task, each open activity with its attempt and
// heartbeat, each open Lambda function, timers with their fire times, open
// children and outstanding signals and cancel requests), a run's history
// from any event id, the task lists in use with their pollers, the open
// executions that need attention, and a run found by its run id alone, as
// the lists of executions show it (for a list's live updates).
//
// The service implements Inspector. Its callers (the web console) must
// authorize each method as the SWF API call nearest to what it shows; each
// method's comment names that call.
package inspect

import (
	"context"
	"time"

	"github.com/swfd/swfd/api"
)

// Inspector answers what the SWF API cannot.
type Inspector interface {
	// Pending returns the pending work of a run, any status (a closed run
	// has none). Authorized as DescribeWorkflowExecution on the domain.
	Pending(ctx context.Context, domain string, ex api.WorkflowExecution) (*Pending, error)
	// History returns up to limit events of a run: ascending after event id
	// after, or descending before it (after 0: from the end); fewer only
	// when the history has no more that way. Authorized as
	// GetWorkflowExecutionHistory on the domain.
	History(ctx context.Context, domain string, ex api.WorkflowExecution, after int64, reverse bool, limit int) ([]api.HistoryEvent, error)
	// TaskLists returns a domain's task lists in use on this node. Each
	// list is authorized as CountPendingDecisionTasks or
	// CountPendingActivityTasks on the domain with its name.
	TaskLists(ctx context.Context, domain string) ([]TaskList, error)
	// Attention returns the open executions of a domain that need an
	// operator's attention. Authorized as ListOpenWorkflowExecutions on
	// the domain.
	Attention(ctx context.Context, domain string) (*Attention, error)
	// Execution returns a run of a domain, found by its run id alone, as
	// the lists of executions show it (read from the store: in a cluster,
	// as the node that changed it last committed it). Authorized as
	// ListOpenWorkflowExecutions and ListClosedWorkflowExecutions on the
	// domain.
	Execution(ctx context.Context, domain, runID string) (*api.WorkflowExecutionInfo, error)
}

// Pending is a run's pending work.
type Pending struct {
	// Now is the server's time when the run was read: ages are relative
	// to it.
	Now         time.Time
	Open        bool
	NextEventID int64
	// Deadline is when the execution's start-to-close timeout fires (zero
	// when closed); for an executionStartToCloseTimeout of NONE, one year
	// after the start, when swfd times such a run out.
	Deadline   time.Time
	Decision   *DecisionTask // nil when no decision task is open
	Activities []Activity    // by scheduled event id
	Lambdas    []Lambda      // by scheduled event id
	Timers     []Timer       // by fire time
	Children   []Child       // by initiated event id
	Signals    []External    // SignalExternalWorkflowExecution requests not yet answered
	Cancels    []External    // RequestCancelExternalWorkflowExecution requests not yet answered
	// DecisionTimeouts counts the decision tasks that timed out in a row
	// since the last one completed.
	DecisionTimeouts int
	// FailedDecision is the last decision that failed, if any.
	FailedDecision *FailedDecision
}

// DecisionTask is a run's open decision task: scheduled (waiting for a
// decider), started (a decider works on it), or both (a new one was
// scheduled while one ran).
type DecisionTask struct {
	ScheduledID int64
	Scheduled   time.Time
	TaskList    string
	StartedID   int64
	Started     time.Time
}

// Activity is an open activity task.
type Activity struct {
	ActivityID  string
	Type        api.ActivityType
	ScheduledID int64
	Scheduled   time.Time
	StartedID   int64 // 0 until a worker takes it
	Started     time.Time
	Identity    string // the worker's, once started
	TaskList    string
	// Attempt is 1 for the first time the activity id was scheduled in
	// this run, 2 for the decider's first retry, and so on.
	Attempt          int
	LastHeartbeat    time.Time
	HeartbeatDetails string
	CancelRequested  bool
	// The activity's timeouts as resolved (seconds, or NONE).
	ScheduleToStart, ScheduleToClose, StartToClose, Heartbeat string
}

// Lambda is an open Lambda task: scheduled and waiting to be invoked, or
// started (invoked, or about to be) and waiting for the function's answer.
type Lambda struct {
	ID          string // the decider's id for it
	Name        string // the function's name
	ScheduledID int64
	Scheduled   time.Time
	StartedID   int64 // 0 until started
	Started     time.Time
	// StartToClose is the function's timeout as resolved, in seconds;
	// Deadline is when it fires (zero until started).
	StartToClose string
	Deadline     time.Time
}

// Timer is an open user timer.
type Timer struct {
	TimerID   string
	StartedID int64
	Due       time.Time
}

// Child is a child execution not yet closed.
type Child struct {
	InitiatedID int64
	WorkflowID  string
	RunID       string // empty until it has started
	Type        api.WorkflowType
}

// External is an outstanding signal or cancel request to another execution.
type External struct {
	InitiatedID int64
	WorkflowID  string
	RunID       string
}

// FailedDecision is a decision that failed: its *Failed event and cause.
type FailedDecision struct {
	EventID   int64
	EventType api.EventType
	Cause     string
	Time      time.Time
}

// TaskList is one task list in use.
type TaskList struct {
	Kind     string // "decision" or "activity"
	Name     string
	Pending  int       // tasks waiting for a poller
	Waiting  int       // pollers waiting for a task now
	Oldest   time.Time // when the oldest pending task was scheduled (zero: none)
	LastPoll time.Time // zero: not polled lately
	Pollers  []Poller  // seen lately, most recent first
}

// Poller is a poller seen on a task list.
type Poller struct {
	Identity string
	LastPoll time.Time
}

// Attention is what needs attention in a domain, found among its open
// executions, oldest first.
type Attention struct {
	Now time.Time
	// Scanned is how many open executions were looked at; Truncated says
	// there are more than were looked at.
	Scanned   int
	Truncated bool
	// DecisionTimeouts: executions whose last decision tasks timed out,
	// at least twice in a row.
	DecisionTimeouts []Item
	// Starved: activity and decision tasks waiting at least a minute on a
	// task list nobody has polled (here) for a minute.
	Starved []Item
	// NearTimeout: executions within 10% (at least a minute) of their
	// start-to-close timeout.
	NearTimeout []Item
	// FailedDecisions: executions whose last failed decision is from the
	// last hour.
	FailedDecisions []Item
}

// Item is one execution needing attention, and why.
type Item struct {
	Execution api.WorkflowExecution
	Type      api.WorkflowType
	Started   time.Time
	// Count is how many decision tasks timed out in a row
	// (DecisionTimeouts).
	Count int
	// Since is when the trouble began: the last timeout, when the waiting
	// task was scheduled, the failed decision's time.
	Since time.Time
	// Task: the waiting task's kind ("decision", "activity"), its task
	// list, and the activity id.
	Kind, TaskList, ActivityID string
	// Deadline: when the start-to-close timeout fires (NearTimeout).
	Deadline time.Time
	// The failed decision's event and cause (FailedDecisions).
	EventID   int64
	EventType api.EventType
	Cause     string
}
