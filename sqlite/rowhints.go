package sqlite

import "github.com/swfd/swfd"

// rowHints is what the writer knows of the rows of the open runs it created:
// each one's rowid, the columns a step of an open run never changes, and
// whether heartbeat details were stored for it. With it the writer's
// updates of a run's row (six in a workflow of one activity) say less to
// SQLite, whose cost is largely per statement and per argument bound (about
// 2,500 instructions per statement, 800 per integer and 1,800 per string
// bound, in modernc.org/sqlite): an update whose run it knows, and whose
// unchanging columns are those it knows, finds the row by rowid and run id
// with no other argument to check, and the close of a run that never stored
// heartbeat details does not delete them.
//
// A hint is true of its row for as long as it is kept. Only the writer
// changes executions and heartbeats (under wmu; no other store has the file
// open, see Open's flock); a run's hint is
// made by the INSERT that creates its row (which tells its rowid for
// free), and is dropped before anything else changes those columns: the
// general path of an update, the close, and any statement through the hint
// that matched nothing. A hint left by a transaction that was rolled back
// names a row that is not there, so its statement matches nothing (the run
// id is checked with the rowid, which a later row may reuse), the hint is
// dropped and the update takes the path that does not use it. Hints of
// heartbeats only ever err towards a deletion that finds nothing. At most
// maxRowHints are kept; the runs past them take the general statements.
type rowHints struct {
	m map[string]*rowHint
}

type rowHint struct {
	id         int64
	domain     string
	start      int64
	tags       string // JSON, as stored
	workflowID string
	typeName   string
	version    string // type version
	parentWF   string
	parentRun  string
	heartbeats bool // heartbeat details were stored for the run since its hint was made
}

// maxRowHints bounds the hints kept, at a few hundred bytes each.
const maxRowHints = 1 << 16

// remember makes the hint of a run just created with rowid id.
func (r *rowHints) remember(e *swfd.Execution, tags string, id int64) {
	if r.m == nil {
		r.m = make(map[string]*rowHint)
	}
	if len(r.m) >= maxRowHints {
		return
	}
	r.m[e.RunID] = &rowHint{id: id, domain: e.Domain, start: e.StartTime.UnixMilli(), tags: tags,
		workflowID: e.WorkflowID, typeName: e.TypeName, version: e.TypeVersion,
		parentWF: e.ParentWorkflowID, parentRun: e.ParentRunID}
}

func (r *rowHints) forget(runID string) { delete(r.m, runID) }

// forState returns the hint of e's run when it holds e's domain, start
// time and tags: those an update of the state alone must leave as they are.
func (r *rowHints) forState(e *swfd.Execution, tags string) *rowHint {
	h := r.m[e.RunID]
	if h == nil || h.domain != e.Domain || h.start != e.StartTime.UnixMilli() || h.tags != tags {
		return nil
	}
	return h
}

// forClose returns the hint of e's run when it holds every column of e
// that a close leaves as it is.
func (r *rowHints) forClose(e *swfd.Execution, tags string) *rowHint {
	h := r.forState(e, tags)
	if h == nil || h.workflowID != e.WorkflowID || h.typeName != e.TypeName || h.version != e.TypeVersion ||
		h.parentWF != e.ParentWorkflowID || h.parentRun != e.ParentRunID {
		return nil
	}
	return h
}

// storedHeartbeat notes that heartbeat details of runID are (about to be)
// stored.
func (r *rowHints) storedHeartbeat(runID string) {
	if h := r.m[runID]; h != nil {
		h.heartbeats = true
	}
}
