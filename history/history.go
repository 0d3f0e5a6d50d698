// Package history is the per-execution state machine of SWF: given a run's
// State and one command (a poll hand-out, a decision batch, a worker's
// answer, a signal, a timer firing, a message from another run), it returns
// the events to append, the run's new State, and the tasks, timers and
// messages that follow. It does no I/O and reads no clock: the caller passes
// the time and a TypeLookup, so every rule can be tested exhaustively in
// memory with an injected clock.
//
// Storage, task lists, timers and cross-run delivery live elsewhere
// (runs and the Store, matching, timers, transfers); this package only
// decides.
package history

import (
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Limits are SWF's per-execution quotas: events in a history, open
// activities, timers, child executions and Lambda tasks (zero: no limit).
type Limits struct {
	MaxEvents         int // 25,000: past it the run is terminated (EVENT_LIMIT_EXCEEDED)
	MaxOpenActivities int // 1,000
	MaxOpenTimers     int // 1,000
	MaxOpenChildren   int // 1,000
	MaxOpenLambdas    int // 1,000
}

// DefaultLimits are the limits of the real service.
var DefaultLimits = Limits{MaxEvents: 25000, MaxOpenActivities: 1000, MaxOpenTimers: 1000, MaxOpenChildren: 1000, MaxOpenLambdas: 1000}

// TypeLookup answers questions about registered types. found is false when
// the type does not exist (or was deleted). A type of a deprecated domain
// is answered with status DEPRECATED, whatever it holds: such a domain
// cannot be used for new work. err is set when the answer is
// not known (the registry could not be read, or the caller gave up): the
// command that asked then fails with err and records nothing, since "the
// type does not exist" would be a wrong answer written into the history.
type TypeLookup interface {
	ActivityType(domain, name, version string) (t swfd.TypeRecord, cfg api.ActivityTypeConfiguration, found bool, err error)
	WorkflowType(domain, name, version string) (t swfd.TypeRecord, cfg api.WorkflowTypeConfiguration, found bool, err error)
}

// Env is what a step may read besides the state: the time, the registry,
// a source of new run ids and the limits.
type Env struct {
	Now      time.Time
	Types    TypeLookup
	NewRunID func() string
	Limits   Limits
	// OpenExecutions reports how many executions are open in a domain and
	// the per-domain limit, for OPEN_WORKFLOWS_LIMIT_EXCEEDED; an error
	// fails the command as a TypeLookup error does. May be nil.
	OpenExecutions func(domain string) (open, limit int, err error)
	// AuthorizeDecision, if set, authorizes each decision of a batch but
	// ScheduleLambdaFunction as the IAM pseudo-action swf:<DecisionType>,
	// given the decision's IAM condition keys (swf:activityType.name,
	// swf:taskList.name, swf:tagList.member.N and the like) with
	// values resolved from the type's defaults where the decision leaves
	// them out; a key in the map is present, even with the value "" (an
	// empty tag). A decision it refuses records its *Failed event with cause
	// OPERATION_NOT_PERMITTED and makes a decision task available, as any
	// failed decision does.
	// nil allows every decision.
	AuthorizeDecision func(d *api.Decision, keys map[string]string) bool
	// RateLimit, if set, is asked about each decision of a batch that SWF
	// rate-limits (ScheduleActivityTask, StartTimer,
	// StartChildWorkflowExecution, SignalExternalWorkflowExecution,
	// RequestCancelExternalWorkflowExecution,
	// ContinueAsNewWorkflowExecution) once it has passed every other check
	// and is about to take effect; taskList is a ScheduleActivityTask's
	// resolved task list ("" for the others). false fails the decision with
	// its *_RATE_EXCEEDED cause and makes a decision task available, as any
	// failed decision does. A decision that fails for another reason is
	// never asked about, so it takes nothing from a rate: whether the real
	// service charges such a decision is not known, and charging only what
	// takes effect never throttles more than it would. nil allows every
	// decision.
	RateLimit func(d api.DecisionType, taskList string) bool
	// Lambda says that Lambda functions can be invoked (the server has a
	// Lambda endpoint). Without it every ScheduleLambdaFunction decision
	// fails with LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION.
	Lambda bool
}

// Execution configuration as resolved at start (call value, else the type's
// default). Durations are the wire strings: digits or "NONE".
type Config struct {
	TaskList                     string          `json:",omitzero"`
	TaskPriority                 string          `json:",omitzero"`
	ExecutionStartToCloseTimeout string          `json:",omitzero"`
	TaskStartToCloseTimeout      string          `json:",omitzero"`
	ChildPolicy                  api.ChildPolicy `json:",omitzero"`
	LambdaRole                   string          `json:",omitzero"`
}

// DecisionState is the run's decision task: at most one scheduled and not
// started, and at most one started.
type DecisionState struct {
	ScheduledID    int64     `json:",omitzero"` // DecisionTaskScheduled not yet started; 0 if none
	ScheduledTime  time.Time `json:",omitzero"`
	ScheduledList  string    `json:",omitzero"` // task list the scheduled task waits on
	StartedID      int64     `json:",omitzero"` // DecisionTaskStarted of the running task; 0 if none
	StartedSchedID int64     `json:",omitzero"` // the scheduled id the running task was started from
	StartedTime    time.Time `json:",omitzero"`
	// Override is a task-list override from RespondDecisionTaskCompleted;
	// OverrideTimeout, if set, makes it temporary: a decision task on it that
	// times out sends later ones back to the execution's task list.
	Override        string `json:",omitzero"`
	OverrideTimeout string `json:",omitzero"`
	// ScheduleToStart is the scheduleToStartTimeout of the scheduled task
	// (set only on a temporary override); StartedTemporary tells that the
	// running task was scheduled on a temporary override, so its timeout
	// reverts to the execution's task list.
	ScheduleToStart  string `json:",omitempty"`
	StartedTemporary bool   `json:",omitempty"`
	// Listed is when the scheduled task on a temporary override was put on
	// its task list, its SCHEDULE_TO_START timer armed from then: for a
	// task scheduled while another ran, when that one ended. Zero for a
	// state stored before it was kept: the timer loop alone fires that
	// timer then.
	Listed time.Time `json:",omitzero"`
}

// Activity is an open activity task (scheduled or started).
type Activity struct {
	ActivityID      string           `json:",omitzero"`
	ActivityType    api.ActivityType `json:",omitzero"`
	ScheduledID     int64            `json:",omitzero"`
	ScheduledTime   time.Time        `json:",omitzero"`
	StartedID       int64            `json:",omitzero"` // 0 until started
	StartedTime     time.Time        `json:",omitzero"`
	Identity        string           `json:",omitzero"`
	TaskList        string           `json:",omitzero"`
	TaskPriority    string           `json:",omitzero"`
	ScheduleToStart string           `json:",omitzero"`
	ScheduleToClose string           `json:",omitzero"`
	StartToClose    string           `json:",omitzero"`
	Heartbeat       string           `json:",omitzero"`
	LastHeartbeat   time.Time        `json:",omitzero"`
	// HeartbeatDetails are the details of the last heartbeat. They are
	// not part of the State's JSON: the store keeps them apart, by run and
	// scheduled id (Result.Heartbeats says when they change), and sets
	// them here when it loads the run.
	HeartbeatDetails      *string `json:"-"`
	CancelRequested       bool    `json:",omitzero"`
	LatestCancelRequestID int64   `json:",omitzero"`
}

// UserTimer is an open timer started by a StartTimer decision.
type UserTimer struct {
	TimerID   string    `json:",omitzero"`
	StartedID int64     `json:",omitzero"`
	Due       time.Time `json:",omitzero"`
}

// Child is a child execution started by this run and not yet closed.
type Child struct {
	InitiatedID  int64            `json:",omitzero"`
	StartedID    int64            `json:",omitzero"` // ChildWorkflowExecutionStarted id; 0 until started
	WorkflowID   string           `json:",omitzero"`
	RunID        string           `json:",omitzero"` // empty until started
	WorkflowType api.WorkflowType `json:",omitzero"`
	// Control is the decision's control, for StartChildWorkflowExecutionFailed;
	// nil once the child has started.
	Control *string `json:",omitempty"`
	// DecisionTaskCompletedID is the DecisionTaskCompleted event of the
	// decision that initiated the child, for StartChildWorkflowExecutionFailed.
	DecisionTaskCompletedID int64 `json:",omitzero"`
}

// External is an outstanding SignalExternal / RequestCancelExternal.
type External struct {
	InitiatedID int64   `json:",omitzero"`
	WorkflowID  string  `json:",omitzero"`
	RunID       *string `json:",omitzero"` // as the decision gave it, for the *Failed event
	Control     *string `json:",omitzero"`
	Signal      bool    `json:",omitzero"` // true: a signal; false: a cancel request
	// DecisionTaskCompletedID is the DecisionTaskCompleted event of the
	// decision that initiated it, for the *Failed event.
	DecisionTaskCompletedID int64 `json:",omitzero"`
}

// State is everything the engine knows about one run. It is serialized
// (JSON) into the store with every update; members at their zero value are
// left out (omitzero), which decoding reads back as the same zero.
type State struct {
	Domain                 string                 `json:",omitzero"`
	WorkflowID             string                 `json:",omitzero"`
	RunID                  string                 `json:",omitzero"`
	WorkflowType           api.WorkflowType       `json:",omitzero"`
	Config                 Config                 `json:",omitzero"`
	TagList                []string               `json:",omitzero"`
	Parent                 *api.WorkflowExecution `json:",omitzero"`
	ParentInitiatedEventID int64                  `json:",omitzero"`
	StartTime              time.Time              `json:",omitzero"`
	CloseTime              time.Time              `json:",omitzero"`
	Open                   bool                   `json:",omitzero"`
	CloseStatus            api.CloseStatus        `json:",omitzero"`
	CancelRequested        bool                   `json:",omitzero"`
	NextEventID            int64                  `json:",omitzero"`

	Decision               DecisionState `json:",omitzero"`
	PreviousStartedEventID int64         `json:",omitzero"` // DecisionTaskStarted id of the last completed decision task

	Activities map[string]*Activity  // by activityId
	Timers     map[string]*UserTimer // by timerId
	Children   map[int64]*Child      // by initiated event id
	Externals  map[int64]*External   // by initiated event id
	Lambdas    map[string]*Lambda    // by Lambda task id

	LatestExecutionContext      *string   `json:",omitzero"`
	LatestActivityTaskTimestamp time.Time `json:",omitzero"`

	// Trouble is what the run's history says went wrong lately, kept so
	// that an operator's view of runs needing attention need not read
	// every history (see Trouble).
	Trouble Trouble `json:",omitzero"`
}

// Message is a durable message between runs, produced by one step and
// delivered by the service to the target run with Deliver (or, for
// StartChild, by starting the child). Exactly one pointer field is set.
type Message struct {
	// Target names the run the message is for: a RunID, or a WorkflowID to
	// resolve to the open run of that id in Domain.
	Domain     string
	WorkflowID string
	RunID      string

	StartChild       *StartChildMsg       `json:",omitempty"`
	ChildStarted     *ChildStartedMsg     `json:",omitempty"`
	ChildStartFailed *ChildStartFailedMsg `json:",omitempty"`
	ChildClosed      *ChildClosedMsg      `json:",omitempty"`
	Signal           *SignalMsg           `json:",omitempty"`
	SignalResult     *ExternalResultMsg   `json:",omitempty"`
	Cancel           *CancelMsg           `json:",omitempty"`
	CancelResult     *ExternalResultMsg   `json:",omitempty"`
	Terminate        *TerminateMsg        `json:",omitempty"` // child policy TERMINATE
}

// StartChildMsg asks the service to start a child run (the target is the
// child's WorkflowID; it must have no open run, else the parent is told
// WORKFLOW_ALREADY_RUNNING with ChildStartFailed).
type StartChildMsg struct {
	Parent      api.WorkflowExecution
	InitiatedID int64
	Start       StartParams
}

// ChildStartedMsg tells a parent its child started.
type ChildStartedMsg struct {
	InitiatedID int64
	Child       api.WorkflowExecution
	Type        api.WorkflowType
}

// ChildStartFailedMsg tells a parent its child could not start.
type ChildStartFailedMsg struct {
	InitiatedID int64
	Cause       api.StartChildWorkflowExecutionFailedCause
}

// ChildClosedMsg tells a parent its child closed, and how.
type ChildClosedMsg struct {
	InitiatedID int64
	Child       api.WorkflowExecution
	Type        api.WorkflowType
	CloseStatus api.CloseStatus
	Result      *string // COMPLETED
	Reason      *string // FAILED
	Details     *string // FAILED, CANCELED
	TimeoutType api.WorkflowExecutionTimeoutType
}

// SignalMsg delivers a signal sent by a SignalExternalWorkflowExecution decision.
type SignalMsg struct {
	Sender      api.WorkflowExecution
	InitiatedID int64
	SignalName  string
	Input       *string
}

// CancelMsg delivers a cancel request from a RequestCancelExternal decision
// (Sender set) or from a parent's child policy (ChildPolicy true, with
// Parent naming the child it is for).
type CancelMsg struct {
	Sender      *api.WorkflowExecution
	InitiatedID int64
	ChildPolicy bool
	Parent      *ParentRef `json:",omitempty"`
}

// TerminateMsg terminates a child under child policy TERMINATE; Parent
// names the child it is for.
type TerminateMsg struct {
	Parent *ParentRef `json:",omitempty"`
}

// ParentRef names a child by its parent: the parent's run and the
// StartChildWorkflowExecutionInitiated event that started the child.
//
// A child policy is addressed by the child's workflowId, not by a run id:
// a child that continued as new is still the parent's child, and only the
// last run of its chain is open, so the message must reach whichever run of
// the chain is open when it is delivered. A workflowId alone could also
// reach a run that is not the parent's child at all — one started by
// someone else once the chain had closed, or one that was already open
// when the child's start failed — so the run that receives the message acts
// on it only if its own parentWorkflowExecution and parentInitiatedEventId
// (which every run of the chain inherits) are these. A message without a
// ParentRef, stored by an earlier swfd, is acted on by whichever run it
// reaches, as it was then.
type ParentRef struct {
	Run         api.WorkflowExecution
	InitiatedID int64
}

// ExternalResultMsg answers a signal or cancel request: delivered, or failed
// because the target is unknown or closed.
type ExternalResultMsg struct {
	InitiatedID int64
	Target      api.WorkflowExecution // the run that was reached
	Failed      bool
}

// StartParams are the resolved parameters of a new run.
type StartParams struct {
	Domain                  string
	WorkflowID              string
	RunID                   string
	WorkflowType            api.WorkflowType
	Config                  Config
	Input                   *string
	TagList                 []string
	Parent                  *api.WorkflowExecution
	ParentInitiatedEventID  int64
	ContinuedExecutionRunID string
}

// Result is the outcome of one step.
type Result struct {
	Events       []api.HistoryEvent // with ids and timestamps assigned
	AddTasks     []swfd.Task
	DoneTasks    []int64
	AddTimers    []swfd.Timer
	DeleteTimers []string
	Closed       bool      // the run closed in this step
	Messages     []Message // to other runs
	// Heartbeats are the activities' heartbeat details the step changed:
	// set by a heartbeat, removed (nil Details) with an activity that had
	// some. A step that closes the run lists none: closing removes them
	// all.
	Heartbeats []swfd.Heartbeat
	// ContinuedAs is set when a ContinueAsNew decision closed the run: the
	// new run's start parameters (its RunID already assigned).
	ContinuedAs *StartParams
	// Refused is set when the step was a call whose own events would not
	// all fit in the history (Limits.MaxEvents): none of them was recorded,
	// and the run was terminated (EVENT_LIMIT_EXCEEDED) instead. The
	// Result records that termination and is committed as any other; the
	// call is then answered with Refused, an UnknownResourceFault, as a
	// call on a closed run is. It is also set when timers due before the
	// call, fired by it (see catchUp), ended the task or the run it was
	// for: the Result records those timeouts, and the call is answered as
	// one that came after them.
	Refused *api.Fault
	// TimersFired is, for FireTimer, how many timers recorded something
	// in the step: the one handed over and those of its instant armed
	// before it. A timer that no longer applied, or a heartbeat timeout
	// only moved to its later deadline, is not counted.
	TimersFired int
}
