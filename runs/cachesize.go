package runs

import (
	"container/list"
	"unsafe"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/history"
)

// The run cache's estimate of the memory an entry holds. It need not be
// exact (it is within some tens of percent of the heap an entry holds,
// measured for runs of every shape in TestRunCacheEstimate), only
// proportional to what the entry keeps alive, with nothing that grows
// left out: the strings of the row and the state (the largest,
// LatestExecutionContext and the Control of children and external
// requests, up to 32 KB each; a few hundred bytes for ids and task lists,
// a thousand of each per run), each open item's struct and its slot in its
// map, the history's events with their JSON, and the run's memo
// (history.JSONMemo.Size: its items' encodings, and the places of items
// gone that it may still hold). Strings shared between
// the row and the state are counted twice (but not a map's key that is
// its item's id).

// entryOverhead is an entry's own cost: its list element, cachedRun and
// slot in the cache's map.
const entryOverhead = int(unsafe.Sizeof(list.Element{})+unsafe.Sizeof(cachedRun{})) + mapSlot + 16

// mapSlot is what a map spends per entry besides the value it points to:
// key and value (at most a string and a pointer), a control byte, and the
// free slots a growing table keeps (it doubles when seven eighths full).
const mapSlot = 2 * (16 + 8 + 1)

// mapSize is what a map of n entries spends besides the values they point
// to: its header, and its slots, eight at least once it has an entry.
func mapSize[K comparable, V any](m map[K]V) int {
	if m == nil {
		return 0
	}
	if len(m) == 0 {
		return 48
	}
	return 48 + max(len(m)*mapSlot, 8*(16+8+1))
}

// strSize is the bytes behind the string headers counted in their structs.
func strSize(ss ...string) int {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return n
}

// strPtrSize is the bytes a *string holds: its header and its bytes.
func strPtrSize(p *string) int {
	if p == nil {
		return 0
	}
	return int(unsafe.Sizeof(*p)) + len(*p)
}

// keySize is the bytes of a map's key beyond those of the id it repeats:
// none when they are one string (as the engine makes them; a state decoded
// from the store has two).
func keySize(key, id string) int {
	if len(key) == len(id) && unsafe.StringData(key) == unsafe.StringData(id) {
		return 0
	}
	return len(key)
}

func rowSize(r *swfd.Execution) int {
	n := strSize(r.Domain, r.WorkflowID, r.RunID, r.TypeName, r.TypeVersion, r.CloseStatus, r.ParentWorkflowID, r.ParentRunID)
	n += cap(r.Tags)*int(unsafe.Sizeof("")) + strSize(r.Tags...)
	return n + len(r.State)
}

// stateSize estimates the memory of a state beyond the cachedRun that
// points to it: the State itself, its strings, and its open items.
func stateSize(st *history.State) int {
	if st == nil {
		return 0
	}
	n := int(unsafe.Sizeof(*st))
	n += strSize(st.Domain, st.WorkflowID, st.RunID, st.WorkflowType.Name, st.WorkflowType.Version)
	c := &st.Config
	n += strSize(c.TaskList, c.TaskPriority, c.ExecutionStartToCloseTimeout, c.TaskStartToCloseTimeout, string(c.ChildPolicy), c.LambdaRole)
	n += cap(st.TagList)*int(unsafe.Sizeof("")) + strSize(st.TagList...)
	if p := st.Parent; p != nil {
		n += int(unsafe.Sizeof(*p)) + strSize(p.WorkflowID, p.RunID)
	}
	n += strSize(string(st.CloseStatus))
	d := &st.Decision
	n += strSize(d.ScheduledList, d.Override, d.OverrideTimeout, d.ScheduleToStart)
	n += strPtrSize(st.LatestExecutionContext)
	n += strSize(string(st.Trouble.FailedDecision.EventType), st.Trouble.FailedDecision.Cause)

	n += mapSize(st.Activities) + mapSize(st.Timers) + mapSize(st.Children) + mapSize(st.Externals) + mapSize(st.Lambdas)
	for k, a := range st.Activities {
		n += keySize(k, a.ActivityID) + int(unsafe.Sizeof(*a)) +
			strSize(a.ActivityID, a.ActivityType.Name, a.ActivityType.Version, a.Identity, a.TaskList, a.TaskPriority,
				a.ScheduleToStart, a.ScheduleToClose, a.StartToClose, a.Heartbeat) +
			strPtrSize(a.HeartbeatDetails)
	}
	for k, t := range st.Timers {
		n += keySize(k, t.TimerID) + int(unsafe.Sizeof(*t)) + strSize(t.TimerID)
	}
	for _, ch := range st.Children {
		n += int(unsafe.Sizeof(*ch)) +
			strSize(ch.WorkflowID, ch.RunID, ch.WorkflowType.Name, ch.WorkflowType.Version) + strPtrSize(ch.Control)
	}
	for _, e := range st.Externals {
		n += int(unsafe.Sizeof(*e)) + strSize(e.WorkflowID) + strPtrSize(e.RunID) + strPtrSize(e.Control)
	}
	for k, l := range st.Lambdas {
		n += keySize(k, l.ID) + int(unsafe.Sizeof(*l)) + strSize(l.ID, l.Name, l.StartToClose)
	}
	return n
}

// historySize estimates the memory of a cached history: its slice (which
// grows by appending, so may hold up to twice its length) and the events'
// JSON (jsonBytes).
func historySize(events []cachedEvent, jsonBytes int) int {
	return cap(events)*int(unsafe.Sizeof(cachedEvent{})) + jsonBytes
}
