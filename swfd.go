// Package swfd is the domain of swfd, a self-hosted server that speaks the
// Amazon Simple Workflow Service API. It holds the records the server keeps
// and the Store interface that every storage driver implements; it imports no
// driver, no HTTP and no engine.
//
// The layout, one package per concern (the README's "How the code is laid
// out" names the internal packages too):
//
//	api/          wire types generated from the SWF service model, faults, validation
//	history/      the per-execution state machine: pure, deterministic, no I/O
//	matching/     task lists and long polls, in memory
//	registry/     domains and activity/workflow types, and their cache
//	runs/         the run store: per-run locks, the run cache, commits and their listeners
//	timers/       the loop that fires durable timers and timeouts
//	transfers/    the loop that delivers messages between runs
//	retention/    the loop that purges closed executions past retention
//	lambda/       the loop that invokes Lambda tasks; lambda/awslambda the AWS Lambda API client
//	cluster/      the news between nodes sharing one PostgreSQL database
//	service/      the SWF operations, assembled from the parts above
//	frontend/     the AWS JSON 1.0 protocol over HTTP
//	auth/         SigV4 verification, the auth file, IAM policy evaluation
//	accesslog/    the access log: one JSON line per call
//	metrics/      the Prometheus instruments
//	quota/        throttling as SWF does it: token buckets, the real defaults, quota files
//	admin/        swfd's own HTTP API under /swfd/ (the clock, a --dev reset)
//	clock/        the manual and skip clocks
//	console/      the web console; inspect/ what it asks beyond the SWF API
//	sqlite/       the embedded Store (default); postgres/ the PostgreSQL Store
//	storetest/    the shared test suite every Store must pass
//	server/       store, service and HTTP assembled; swfdtest/ the same inside a Go test
//	cli/, bench/  the swf command line and its load generator
//	e2e/          end-to-end tests through real clients and the binaries
//	cmd/          swfd (the server), swf (the command line), swfd-null, swfd-seed
package swfd

import (
	"context"
	"errors"
	"time"
)

// Store errors. Drivers wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("swfd: not found")
	// ErrAlreadyExists: a record with that key exists (for executions: an
	// open run with that workflowId exists in the domain).
	ErrAlreadyExists = errors.New("swfd: already exists")
	// ErrLimitExceeded: a count limit passed to the store would be exceeded.
	ErrLimitExceeded = errors.New("swfd: limit exceeded")
	// ErrConflict: an execution's version did not match; another writer won.
	ErrConflict = errors.New("swfd: version conflict")
	// ErrDeprecated: the write needs a registered domain and the domain is
	// deprecated (a type may not be registered or undeprecated in it).
	ErrDeprecated = errors.New("swfd: domain is deprecated")
	// ErrStorageFull: the store's storage has no room left, so the write
	// was not applied (nothing of it was kept). Reads go on, and writes
	// succeed again once there is room, with no restart.
	ErrStorageFull = errors.New("swfd: storage is full")
	// ErrStorageUnavailable: the call's store operation was not done, and
	// not applied if it writes: the store refuses writes because it
	// cannot keep them (SQLite: its files were removed or replaced under
	// the running server, and writes are refused until the server is
	// restarted; reads may go on), or cannot take them now (SQLite:
	// another program held the database's write lock past the busy
	// timeout), or the store's database could not be
	// reached, or lost the connection before anything that could take
	// effect reached it and again when tried once more (PostgreSQL: a
	// database restarting or down), or refused the operation for a
	// reason of its own rather than of the call (PostgreSQL: a statement
	// timeout, a server that takes no writes, a resource run out), which
	// the next call may find well.
	ErrStorageUnavailable = errors.New("swfd: storage is unavailable")
	// ErrOutcomeUnknown: the store lost its connection to its database
	// once a write may have reached it (its COMMIT was sent), and could not
	// learn whether it was applied. The write may have taken effect, or
	// not.
	ErrOutcomeUnknown = errors.New("swfd: write outcome unknown")
	// ErrLocked: the write waited longer than its context's LockWait for
	// a row another writer holds (in a cluster, perhaps a node that
	// stopped in the middle of a commit), and gave up; nothing of it was
	// applied. Trying again later may succeed.
	ErrLocked = errors.New("swfd: a row the write needs is locked by another writer")
)

// lockWaitKey is the context key of WithLockWait.
type lockWaitKey struct{}

// WithLockWait returns a context whose commits wait at most d for a row
// that another writer holds, and then fail with ErrLocked, rather than
// waiting until that writer finishes. Background work that may skip one
// run and come back to it later (firing timers, delivering messages) uses
// it, so that one locked run does not hold up every other. A store whose
// writers cannot hold rows across processes ignores it.
func WithLockWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, lockWaitKey{}, d)
}

// LockWait returns the bound WithLockWait set on ctx, or 0 (wait as long
// as it takes).
func LockWait(ctx context.Context) time.Duration {
	d, _ := ctx.Value(lockWaitKey{}).(time.Duration)
	return d
}

// Clock tells the time. Engines take it injected so tests control time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Registration statuses of domains and types.
const (
	StatusRegistered = "REGISTERED"
	StatusDeprecated = "DEPRECATED"
)

// Domain is a registered SWF domain.
type Domain struct {
	Name          string
	Description   *string // nil when none was registered; "" when registered empty
	Status        string  // StatusRegistered or StatusDeprecated
	RetentionDays string  // as registered: digits, or "NONE"
	Tags          []Tag   // resource tags, in the order first set
	Created       time.Time
}

// Tag is a domain resource tag. Value is nil when the tag was set
// without one, and "" when it was set empty.
type Tag struct {
	Key   string
	Value *string
}

// TypeKind tells activity types from workflow types.
type TypeKind string

// The two kinds of registered type.
const (
	ActivityKind TypeKind = "activity"
	WorkflowKind TypeKind = "workflow"
)

// TypeRecord is a registered activity or workflow type.
type TypeRecord struct {
	Kind        TypeKind
	Domain      string
	Name        string
	Version     string
	Status      string
	Description *string // nil when none was registered, as on Domain
	Created     time.Time
	Deprecated  time.Time // zero while registered
	// Config is the type's registered defaults as the JSON of
	// api.ActivityTypeConfiguration or api.WorkflowTypeConfiguration.
	Config []byte
}

// ListQuery pages through names in order.
type ListQuery struct {
	Status  string // required registration status
	Name    string // exact name filter (types only); empty for all
	After   string // resume strictly after this key (opaque to the caller)
	Reverse bool
	Limit   int // at most this many; 0 or less: no limit
}

// RegistryStore keeps domains and types.
type RegistryStore interface {
	// CreateDomain inserts d. ErrAlreadyExists if the name is taken in any
	// status; ErrLimitExceeded if maxDomains domains exist already.
	CreateDomain(ctx context.Context, d Domain, maxDomains int) error
	// GetDomain returns a domain or ErrNotFound.
	GetDomain(ctx context.Context, name string) (Domain, error)
	// SetDomainStatus changes a domain's status. Deprecating a domain also
	// deprecates every registered type in it, at the same instant: once it
	// returns, no type of the domain is registered, including one whose
	// CreateType or SetTypeStatus ran at the same time (that call either
	// committed first, and its type was deprecated with the others, or
	// failed with ErrDeprecated). ErrNotFound if the domain does not exist.
	SetDomainStatus(ctx context.Context, name, status string, at time.Time) error
	// UpdateDomainTags changes a domain's tags in one atomic
	// read-modify-write of the stored list: it removes the keys in remove
	// (keys it does not have are ignored), then upserts add (a key it has
	// takes the new value and keeps its place; a new key goes last).
	// Concurrent updates of one domain, from any node, all take effect.
	// ErrLimitExceeded, changing nothing, if maxTags > 0 and the result
	// would hold more than maxTags tags; ErrNotFound if the domain does
	// not exist.
	UpdateDomainTags(ctx context.Context, name string, add []Tag, remove []string, maxTags int) error
	// ListDomains returns domains of q.Status ordered by name; q.After is a
	// domain name.
	ListDomains(ctx context.Context, q ListQuery) ([]Domain, error)

	// CreateType inserts t. ErrNotFound if its domain does not exist;
	// ErrDeprecated if t is registered and its domain is deprecated (both
	// read in the same transaction as the insert); ErrAlreadyExists if
	// (kind, domain, name, version) exists in any status; ErrLimitExceeded
	// if maxTypes types of that kind exist in the domain.
	CreateType(ctx context.Context, t TypeRecord, maxTypes int) error
	// GetType returns a type or ErrNotFound.
	GetType(ctx context.Context, kind TypeKind, domain, name, version string) (TypeRecord, error)
	// SetTypeStatus changes a type's status and deprecation date.
	// ErrNotFound if the type does not exist; ErrDeprecated, changing
	// nothing, if status is registered and the type's domain is deprecated
	// (read in the same transaction as the change).
	SetTypeStatus(ctx context.Context, kind TypeKind, domain, name, version, status string, deprecated time.Time) error
	// DeleteType removes a type. ErrNotFound if it does not exist.
	DeleteType(ctx context.Context, kind TypeKind, domain, name, version string) error
	// ListTypes returns types ordered by name then version; q.After is the
	// key returned by TypeListKey of the last type of the previous page.
	ListTypes(ctx context.Context, kind TypeKind, domain string, q ListQuery) ([]TypeRecord, error)
}

// TypeListKey is the paging key of a type in ListTypes order.
func TypeListKey(name, version string) string { return name + "\x00" + version }

// Execution is the stored row of one workflow run: the columns visibility
// queries use, plus the opaque state the history engine owns.
type Execution struct {
	Domain           string
	WorkflowID       string
	RunID            string
	TypeName         string
	TypeVersion      string
	StartTime        time.Time
	CloseTime        time.Time // zero while open
	Open             bool
	CloseStatus      string   // empty while open
	Tags             []string // set when the run is created; they never change (as in SWF)
	ParentWorkflowID string
	ParentRunID      string
	CancelRequested  bool
	// Version increases by one with every committed update; it is the
	// optimistic-concurrency check for multi-writer stores.
	Version int64
	// State is the history engine's serialized state of the run.
	State []byte
}

// Event is one stored history event: its id, and the JSON of the complete
// api.HistoryEvent as it is sent on the wire.
type Event struct {
	ID   int64
	JSON []byte
}

// TaskKind tells decision tasks from activity tasks and Lambda tasks.
type TaskKind string

// The kinds of task. Decision and activity tasks wait on task lists for
// pollers; a Lambda task waits for swfd itself to invoke its function, and
// has no task list.
const (
	DecisionTask TaskKind = "decision"
	ActivityTask TaskKind = "activity"
	LambdaTask   TaskKind = "lambda"
)

// Polled reports whether tasks of kind k are handed to pollers from task
// lists (decision and activity tasks).
func (k TaskKind) Polled() bool { return k == DecisionTask || k == ActivityTask }

// Task is a scheduled, not yet started task waiting on a task list (or,
// for a Lambda task, for its invocation). It is identified by (RunID,
// ScheduledEventID).
type Task struct {
	Kind             TaskKind
	Domain           string
	TaskList         string
	Priority         int32
	RunID            string
	ScheduledEventID int64
	Scheduled        time.Time
}

// Timer is a durable wake-up for a run: at Due, the engine is told Key.
// (RunID, Key) identifies it; adding an existing key replaces it.
type Timer struct {
	RunID string
	Key   string
	Due   time.Time
}

// Transfer is a durable message from one run to another (start a child,
// deliver a signal or cancel request, tell a parent a child closed), written
// with the update that caused it and removed with the update that delivers
// it, so that a crash in between neither loses nor repeats it.
type Transfer struct {
	ID      int64 // assigned by the store
	RunID   string
	Payload []byte
}

// Heartbeat is the details the last heartbeat of one started activity task
// of a run recorded (RecordActivityTaskHeartbeat). They are kept in rows of
// their own, by run and the activity's scheduled event id, not in the run's
// State: a heartbeat then writes only its own activity's details, and the
// run's other steps write none. They are read back when the run is loaded,
// for the ActivityTaskTimedOut event that reports them.
type Heartbeat struct {
	ScheduledEventID int64
	// Details are the heartbeat's details as given (which may be empty).
	// In an Update, nil removes the activity's stored details.
	Details *string
}

// Update is everything one engine step changes for one run.
type Update struct {
	// Execution is the run's new row. Create inserts it (ErrAlreadyExists if
	// another open run has its workflowId); otherwise the stored Version
	// must equal Execution.Version-1 (else ErrConflict).
	Execution    Execution
	Create       bool
	Events       []Event
	AddTasks     []Task
	DoneTasks    []int64 // scheduled event ids of this run's tasks to remove
	AddTimers    []Timer
	DeleteTimers []string // keys of this run's timers to remove
	// Heartbeats stores (Details set) or removes (Details nil) the
	// heartbeat details of the run's activities, at most one entry per
	// scheduled event id.
	Heartbeats []Heartbeat
	// Closed removes every task, timer and heartbeat of the run (the run
	// has closed).
	Closed bool
}

// Batch is one atomic commit: every update and transfer, or none.
type Batch struct {
	Updates       []Update
	AddTransfers  []Transfer
	DoneTransfers []int64
}

// HistoryQuery reads a range of a run's events.
type HistoryQuery struct {
	RunID   string
	AfterID int64 // ascending: events with id > AfterID; descending: id < AfterID (0 = from the end)
	Reverse bool
	Limit   int // at most this many events; 0 or less: no limit
	// MaxBytes, if above zero, bounds what is read by the events' JSON:
	// the store stops after the first event that takes the sum of the
	// lengths of the JSON it returns past MaxBytes (so it returns at least
	// one event when there is one, and the events before the last take at
	// most MaxBytes). A page of large events thus costs about MaxBytes
	// however large Limit is.
	MaxBytes int
}

// VisibilityQuery selects executions of a domain for List/Count.
type VisibilityQuery struct {
	Domain      string
	Open        bool
	ByCloseTime bool // filter and order by close time (closed only)
	Oldest      time.Time
	Latest      time.Time // zero: no upper bound
	WorkflowID  string
	TypeName    string
	TypeVersion string
	// Tag selects the executions carrying this tag (an exact match); ""
	// is no tag filter, unless EmptyTag says it is a filter on the empty
	// tag (a tag may be given empty), which selects only the executions
	// tagged "". Use TagFilter to read the two. (EmptyTag is omitted from
	// JSON when false, so that the service's page-token scopes, which
	// are a query's JSON, stay those of earlier releases.)
	Tag         string
	EmptyTag    bool `json:",omitempty"`
	CloseStatus string
	Reverse     bool // oldest first
	// After resumes strictly after (AfterTime, AfterRunID) in result order.
	AfterTime  time.Time
	AfterRunID string
	Limit      int // at most this many; 0 or less: no limit
	// NoState leaves the executions' State out (nil) of ListExecutions:
	// a list shows the rows' columns only, and a run's state may take
	// hundreds of KB (a page of 1,000 such runs read them all). It is not
	// part of a query's JSON.
	NoState bool `json:"-"`
}

// TagFilter returns the tag q selects executions by, and whether it
// selects by tag at all.
func (q VisibilityQuery) TagFilter() (string, bool) {
	return q.Tag, q.Tag != "" || q.EmptyTag
}

// ExecutionStore keeps runs, their histories, tasks, timers and transfers.
type ExecutionStore interface {
	// Commit applies a batch atomically and durably.
	Commit(ctx context.Context, b Batch) error
	// GetExecution returns a run of a domain (any domain when domain is
	// empty) or ErrNotFound.
	GetExecution(ctx context.Context, domain, runID string) (Execution, error)
	// OpenRun returns the open run of a workflowId, or ErrNotFound.
	OpenRun(ctx context.Context, domain, workflowID string) (Execution, error)
	// LatestRun returns the most recently started run of a workflowId.
	LatestRun(ctx context.Context, domain, workflowID string) (Execution, error)
	// History returns events in id order (reversed if asked).
	History(ctx context.Context, q HistoryQuery) ([]Event, error)
	// Heartbeats returns the heartbeat details stored for a run's
	// activities, in scheduled event id order (none for an unknown run).
	Heartbeats(ctx context.Context, runID string) ([]Heartbeat, error)
	// PendingTasks returns every stored task, for loading task lists at start.
	PendingTasks(ctx context.Context) ([]Task, error)
	// DueTimers returns up to limit timers due at or before now, earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// NextTimer returns the earliest timer, or ErrNotFound when there is none.
	NextTimer(ctx context.Context) (Timer, error)
	// DueRunTimers returns up to limit timers with the given key of a
	// domain's runs, due at or before now, earliest first (then by run
	// id); none when nothing matches. A limit of 0 or less means no limit.
	DueRunTimers(ctx context.Context, domain, key string, now time.Time, limit int) ([]Timer, error)
	// PendingTransfers returns up to limit undelivered transfers, oldest first.
	PendingTransfers(ctx context.Context, limit int) ([]Transfer, error)
	// ListExecutions returns executions matching q in its order.
	ListExecutions(ctx context.Context, q VisibilityQuery) ([]Execution, error)
	// CountExecutions counts executions matching q, up to limit; truncated
	// is true when it stopped there.
	CountExecutions(ctx context.Context, q VisibilityQuery, limit int) (count int, truncated bool, err error)
	// CountOpen counts a domain's open executions.
	CountOpen(ctx context.Context, domain string) (int, error)
	// PurgeClosed deletes up to limit runs of a domain closed before cutoff,
	// with their histories (and anything else stored for them); it returns
	// how many it deleted. It may delete fewer than limit while more are
	// due (a store may bound what one call deletes), but deletes at least
	// one when any is due: 0 means none is. Transfers to a purged run are
	// not removed: they are messages still to be delivered (a signal or
	// cancel request sent by run id to a closed run), and delivering one
	// to a run that is gone tells its sender that it failed.
	PurgeClosed(ctx context.Context, domain string, cutoff time.Time, limit int) (int, error)
	// HoldRun reads a run of a domain (any domain when domain is empty;
	// ErrNotFound when there is none) and holds it for one step of its
	// caller: until the hold commits or is released, commits of the run by
	// other writers wait (each for at most its own lock wait, WithLockWait,
	// then ErrLocked), so that the step decided on the row returned cannot
	// be overtaken. It is for a step that has lost the race for the run's
	// version too often, not for every step: a hold costs a connection
	// and a transaction for the whole step, and makes the run's other
	// writers wait.
	//
	// A store may bound how many runs it holds at once, so that holds leave
	// connections for the reads their callers make while they hold: a
	// HoldRun past that bound holds nothing, and its hold is a plain read
	// whose Commit is a Commit (its update of the run checked against the
	// version read, ErrConflict when another writer got there first), as
	// the caller's attempts before it were.
	//
	// HoldRun waits for a run another writer holds (or is committing) at
	// most until ctx's deadline, or for ctx's lock wait when that is
	// shorter, and then fails with an error wrapping ErrLocked; nothing is
	// then held. With neither, it waits as long as it takes.
	//
	// A store written by one process only (the SQLite store) holds nothing
	// across writers: its callers serialize the steps of a run themselves
	// (runs.Store.Lock). Its HoldRun is a read, and its hold's Commit a
	// Commit.
	HoldRun(ctx context.Context, domain, runID string) (Execution, RunHold, error)
}

// RunHold is a run held by ExecutionStore.HoldRun. It is used by one
// goroutine, and must be ended, by Commit or Release.
type RunHold interface {
	// Heartbeats reads the held run's heartbeat details, as
	// ExecutionStore.Heartbeats does.
	Heartbeats(ctx context.Context) ([]Heartbeat, error)
	// Commit applies b as ExecutionStore.Commit does (its update of the
	// held run is checked against the stored version all the same) and
	// ends the hold, whatever its outcome. An error that wraps ErrConflict
	// means nothing was applied; that includes a hold the store lost
	// before the batch was sent (its connection failed or was ended for
	// idling): the step is decided again. Commit after the hold has ended
	// fails, applying nothing.
	Commit(ctx context.Context, b Batch) error
	// Release ends the hold without applying anything; after Commit, or a
	// second time, it does nothing.
	Release()
}

// Unheld returns a RunHold of runID that holds nothing: its reads and its
// Commit are store's own (an optimistic commit, checked against the stored
// version as any other). A store returns it from HoldRun when its writes
// of a run take turns already (one writer), or when it may not hold one
// more run now.
func Unheld(store ExecutionStore, runID string) RunHold {
	return &unheld{store: store, runID: runID}
}

type unheld struct {
	store ExecutionStore
	runID string
	ended bool
}

func (h *unheld) Heartbeats(ctx context.Context) ([]Heartbeat, error) {
	return h.store.Heartbeats(ctx, h.runID)
}

func (h *unheld) Commit(ctx context.Context, b Batch) error {
	if h.ended {
		return errors.New("commit: the hold of run " + h.runID + " has ended")
	}
	h.ended = true
	return h.store.Commit(ctx, b)
}

func (h *unheld) Release() { h.ended = true }

// Store is everything swfd keeps. Every method is safe for concurrent use.
type Store interface {
	RegistryStore
	ExecutionStore
	// Meta reads a server-wide value (e.g. the task-token key); ErrNotFound
	// if unset. SetMetaIfAbsent writes it unless set, returning the value
	// in force. SetMeta writes it whether or not it is set: swfd migrate
	// gives its target the source's values with it, and a clock that
	// tests move keeps the time it reached (clock.Controller.Keep); a
	// server reads the task-token key once, when it starts. SetMetaMax
	// writes value unless the value set is greater, compared byte by byte,
	// in one atomic step: of writers racing, the greatest value stays, so
	// a value written this way never decreases (a clock's time, in a form
	// whose bytes sort as the times do).
	Meta(ctx context.Context, key string) ([]byte, error)
	SetMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error)
	SetMeta(ctx context.Context, key string, value []byte) error
	SetMetaMax(ctx context.Context, key string, value []byte) error
	// Ping reports whether the store is usable: it answers, and its
	// database still holds swfd's schema (/healthz and /readyz ask it).
	Ping(ctx context.Context) error
	Close() error
}

// Broadcaster carries news between the nodes of a cluster that share one
// Store: tasks made available or taken, runs changed, timers and messages
// added, registry entries changed. Delivery may be lost, repeated or
// reordered: the Store stays the record, news only saves waiting and
// reading. A single node has none.
type Broadcaster interface {
	// Publish sends msg to every node; the sender may receive it too.
	Publish(ctx context.Context, msg []byte) error
	// Subscribe calls fn with every message published, until ctx ends
	// or the subscription fails.
	Subscribe(ctx context.Context, fn func(msg []byte)) error
	// MaxMessage is the largest message Publish carries, in bytes.
	MaxMessage() int
}

// ResumingBroadcaster is a Broadcaster whose subscription outlives the
// loss of its connection: it connects again by itself, and what was
// published in between is lost to it without Subscribe returning. It says
// when that may have happened, so that the subscriber can read from the
// Store what the lost messages would have told it.
type ResumingBroadcaster interface {
	Broadcaster
	// SubscribeResumed is Subscribe, and calls resumed each time the
	// subscription begins to receive, the first time included: messages
	// published before that call may have been lost, and every one
	// published after it is given to fn (until the next call). resumed
	// runs on the goroutine that calls fn and should return at once.
	SubscribeResumed(ctx context.Context, fn func(msg []byte), resumed func()) error
}
