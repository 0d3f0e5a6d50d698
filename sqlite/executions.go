package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/swfd/swfd"
)

// Commit applies a batch atomically and durably: when it returns nil the
// batch is in the fsynced write-ahead log.
//
// Beyond the interface's contract: a non-Create update of a run that does not
// exist fails with ErrNotFound; an event id the run already has, and a
// DoneTransfers id that no longer exists (another writer delivered it), fail
// with ErrConflict. Tasks and timers with an empty RunID belong to the
// update's run; adding an existing task replaces it.
func (db *DB) Commit(ctx context.Context, b swfd.Batch) error {
	if len(b.Updates) == 0 && len(b.AddTransfers) == 0 && len(b.DoneTransfers) == 0 {
		return nil
	}
	tags, err := encodeTags(b)
	if err != nil {
		return err
	}
	return db.write(ctx, func(x *wtx) error { return applyBatch(x, b, tags) })
}

// encodeTags encodes the tags of a batch's updates, outside the writer,
// which is the bottleneck.
func encodeTags(b swfd.Batch) ([]string, error) {
	tags := make([]string, len(b.Updates))
	for i := range b.Updates {
		e := &b.Updates[i].Execution
		if e.RunID == "" {
			return nil, fmt.Errorf("sqlite: commit: update %d has no run id", i)
		}
		t := e.Tags
		if t == nil {
			t = []string{}
		}
		js, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("sqlite: commit: encode tags of run %s: %w", e.RunID, err)
		}
		tags[i] = string(js)
	}
	return tags, nil
}

// applyBatch applies a batch on the writer connection; tags are the encoded
// tags of its updates.
func applyBatch(x *wtx, b swfd.Batch, tags []string) error {
	for i := range b.Updates {
		if err := applyUpdate(x, &b.Updates[i], tags[i]); err != nil {
			return err
		}
	}
	for _, id := range b.DoneTransfers {
		n, err := x.execN("DELETE FROM transfers WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("sqlite: commit: delete transfer %d: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: commit: transfer %d is already done: %w", id, swfd.ErrConflict)
		}
	}
	for _, t := range b.AddTransfers {
		if _, err := x.exec("INSERT INTO transfers (run_id, payload) VALUES (?, ?)", t.RunID, t.Payload); err != nil {
			return fmt.Errorf("sqlite: commit: add transfer for run %s: %w", t.RunID, err)
		}
	}
	return nil
}

func applyUpdate(x *wtx, u *swfd.Update, tags string) error {
	e := &u.Execution
	open := boolInt(e.Open)
	if u.Create {
		res, err := x.exec(`INSERT INTO executions (run_id, domain, workflow_id, type_name, type_version,
			start_time, close_time, open, close_status, tags, parent_workflow_id, parent_run_id,
			cancel_requested, version, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.RunID, e.Domain, e.WorkflowID, e.TypeName, e.TypeVersion,
			e.StartTime.UnixMilli(), nullMillis(e.CloseTime), open, e.CloseStatus, tags,
			e.ParentWorkflowID, e.ParentRunID, boolInt(e.CancelRequested), e.Version, e.State)
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("sqlite: commit: start run %s of workflow %q: %w", e.RunID, e.WorkflowID, swfd.ErrAlreadyExists)
			}
			return fmt.Errorf("sqlite: commit: insert run %s: %w", e.RunID, err)
		}
		if id, err := res.LastInsertId(); err == nil && e.Open {
			x.db.rows.remember(e, tags, id)
		} else {
			x.db.rows.forget(e.RunID)
		}
		if err := insertTags(x, e); err != nil {
			return err
		}
	} else {
		if e.Open && e.CloseTime.IsZero() {
			if h := x.db.rows.forState(e, tags); h != nil {
				// The row as this writer created it, its domain, start
				// time and tags as the update has them (see rowHints):
				// found by rowid, with nothing else to check but the
				// run id, version and open flag.
				wasDirty := x.dirty
				n, err := x.execN(`UPDATE executions SET cancel_requested = ?, version = ?, state = ?
					WHERE rowid = ? AND run_id = ? AND version = ? AND open = 1 AND close_time IS NULL`,
					boolInt(e.CancelRequested), e.Version, e.State, h.id, e.RunID, e.Version-1)
				if err != nil {
					return fmt.Errorf("sqlite: commit: update run %s: %w", e.RunID, err)
				}
				if n == 1 {
					return applyRest(x, u, false)
				}
				x.dirty = wasDirty // it changed nothing
				x.db.rows.forget(e.RunID)
			}
			// Most steps of an open run change only its state. One
			// UPDATE that finds the run at the version before this one
			// and still open, in the same domain, with the same start
			// time and tags, replaces the state and is the whole write:
			// it names no indexed column, so SQLite leaves every
			// visibility index alone (it rewrites the indexes of the
			// columns a SET names, changed or not), and no tag row
			// changes. When it finds no such row, the general path
			// below reads the row to say why or to change more.
			wasDirty := x.dirty
			n, err := x.execN(`UPDATE executions SET cancel_requested = ?, version = ?, state = ?
				WHERE run_id = ? AND version = ? AND open = 1 AND close_time IS NULL AND domain = ? AND start_time = ? AND tags = ?`,
				boolInt(e.CancelRequested), e.Version, e.State,
				e.RunID, e.Version-1, e.Domain, e.StartTime.UnixMilli(), tags)
			if err != nil {
				return fmt.Errorf("sqlite: commit: update run %s: %w", e.RunID, err)
			}
			if n == 1 {
				return applyRest(x, u, false)
			}
			x.dirty = wasDirty // it changed nothing
		} else if !e.Open {
			if h := x.db.rows.forClose(e, tags); h != nil {
				// As above, for the close: the hint holds every column
				// the close keeps, and tells whether the run ever stored
				// heartbeat details to remove.
				x.db.rows.forget(e.RunID)
				wasDirty := x.dirty
				n, err := x.execN(`UPDATE executions SET close_time = ?, open = 0, close_status = ?, cancel_requested = ?,
					version = ?, state = ? WHERE rowid = ? AND run_id = ? AND version = ? AND open = 1 AND close_time IS NULL`,
					nullMillis(e.CloseTime), e.CloseStatus, boolInt(e.CancelRequested), e.Version, e.State,
					h.id, e.RunID, e.Version-1)
				if err != nil {
					return fmt.Errorf("sqlite: commit: close run %s: %w", e.RunID, err)
				}
				if n == 1 {
					return closeRest(x, u, tags, !h.heartbeats)
				}
				x.dirty = wasDirty // it changed nothing
			}
			// A step that closes an open run changes its close time,
			// status and open flag besides its state. One UPDATE that
			// finds the run open at the version before this one with
			// every other column as the update has it does that, and
			// tells what the tag rows held (the run's tags, open, with
			// its start time), so the row need not be read first. When
			// it finds no such row, the general path below says why.
			wasDirty := x.dirty
			n, err := x.execN(`UPDATE executions SET close_time = ?, open = 0, close_status = ?, cancel_requested = ?,
				version = ?, state = ?
				WHERE run_id = ? AND version = ? AND open = 1 AND close_time IS NULL AND domain = ? AND start_time = ?
				AND tags = ? AND workflow_id = ? AND type_name = ? AND type_version = ? AND parent_workflow_id = ?
				AND parent_run_id = ?`,
				nullMillis(e.CloseTime), e.CloseStatus, boolInt(e.CancelRequested), e.Version, e.State,
				e.RunID, e.Version-1, e.Domain, e.StartTime.UnixMilli(), tags, e.WorkflowID, e.TypeName, e.TypeVersion,
				e.ParentWorkflowID, e.ParentRunID)
			if err != nil {
				return fmt.Errorf("sqlite: commit: close run %s: %w", e.RunID, err)
			}
			if n == 1 {
				return closeRest(x, u, tags, false)
			}
			x.dirty = wasDirty // it changed nothing
		}
		x.db.rows.forget(e.RunID)
		var version, oldStart, oldOpen int64
		var oldClose sql.NullInt64
		var oldTags, oldDomain string
		err := x.queryRow("SELECT version, tags, domain, start_time, open, close_time FROM executions WHERE run_id = ?", e.RunID).
			Scan(&version, &oldTags, &oldDomain, &oldStart, &oldOpen, &oldClose)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: commit: run %s: %w", e.RunID, swfd.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: commit: read run %s: %w", e.RunID, err)
		}
		if version != e.Version-1 {
			return fmt.Errorf("sqlite: commit: run %s is at version %d, update is for %d: %w",
				e.RunID, version, e.Version-1, swfd.ErrConflict)
		}
		// Here the row changes more than its state (the fast path above
		// would have taken it otherwise): rewrite it whole.
		_, err = x.exec(`UPDATE executions SET domain = ?, workflow_id = ?, type_name = ?, type_version = ?,
			start_time = ?, close_time = ?, open = ?, close_status = ?, tags = ?, parent_workflow_id = ?,
			parent_run_id = ?, cancel_requested = ?, version = ?, state = ? WHERE run_id = ?`,
			e.Domain, e.WorkflowID, e.TypeName, e.TypeVersion,
			e.StartTime.UnixMilli(), nullMillis(e.CloseTime), open, e.CloseStatus, tags,
			e.ParentWorkflowID, e.ParentRunID, boolInt(e.CancelRequested), e.Version, e.State, e.RunID)
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("sqlite: commit: reopen run %s of workflow %q: %w", e.RunID, e.WorkflowID, swfd.ErrAlreadyExists)
			}
			return fmt.Errorf("sqlite: commit: update run %s: %w", e.RunID, err)
		}
		// The tag rows carry the run's domain, open flag and times.
		if oldTags != tags || oldDomain != e.Domain || oldStart != e.StartTime.UnixMilli() || oldOpen != int64(open) ||
			oldClose.Valid == e.CloseTime.IsZero() || oldClose.Valid && oldClose.Int64 != e.CloseTime.UnixMilli() {
			if err := deleteTags(x, e.RunID, oldDomain, oldTags, oldOpen, oldStart); err != nil {
				return err
			}
			if err := insertTags(x, e); err != nil {
				return err
			}
		}
	}

	return applyRest(x, u, false)
}

// closeRest finishes an update that closed its run with one UPDATE of an
// open row whose tag rows held the run's tags, open, with its start time:
// the tag rows move to the closed run, then the rest (applyRest).
func closeRest(x *wtx, u *swfd.Update, tags string, noHeartbeats bool) error {
	e := &u.Execution
	if err := deleteTags(x, e.RunID, e.Domain, tags, 1, e.StartTime.UnixMilli()); err != nil {
		return err
	}
	if err := insertTags(x, e); err != nil {
		return err
	}
	return applyRest(x, u, noHeartbeats)
}

// applyRest applies what an update does beside its run's row: its events,
// tasks and timers.
//
// Every statement has a cost of its own in the writer, the store's
// bottleneck, beside the cost of its rows (a two-event INSERT took 21 µs
// where two one-event INSERTs took 27), so the events go in with one INSERT
// per eventsPerInsert of them, and an update that closes its run skips the
// removals and additions of its own run's tasks and timers that the
// removal of all of them at the end makes moot. noHeartbeats says that the
// run (which closes) never stored heartbeat details: there are none to
// remove.
func applyRest(x *wtx, u *swfd.Update, noHeartbeats bool) error {
	e := &u.Execution
	for evs := u.Events; len(evs) > 0; {
		n := min(len(evs), eventsPerInsert)
		if err := insertEvents(x, e.RunID, evs[:n]); err != nil {
			return err
		}
		evs = evs[n:]
	}
	if !u.Closed {
		for _, id := range u.DoneTasks {
			if _, err := x.exec("DELETE FROM tasks WHERE run_id = ? AND scheduled_event_id = ?", e.RunID, id); err != nil {
				return fmt.Errorf("sqlite: commit: remove task %d of run %s: %w", id, e.RunID, err)
			}
		}
	}
	for _, t := range u.AddTasks {
		run := t.RunID
		if run == "" {
			run = e.RunID
		}
		if u.Closed && run == e.RunID {
			continue
		}
		if _, err := x.exec(`INSERT INTO tasks (run_id, scheduled_event_id, kind, domain, task_list, priority, scheduled)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, scheduled_event_id) DO UPDATE SET kind = excluded.kind, domain = excluded.domain,
			task_list = excluded.task_list, priority = excluded.priority, scheduled = excluded.scheduled`,
			run, t.ScheduledEventID, string(t.Kind), t.Domain, t.TaskList, t.Priority, t.Scheduled.UnixMilli()); err != nil {
			return fmt.Errorf("sqlite: commit: add task %d of run %s: %w", t.ScheduledEventID, run, err)
		}
	}
	if !u.Closed {
		for _, key := range u.DeleteTimers {
			if _, err := x.exec("DELETE FROM timers WHERE run_id = ? AND key = ?", e.RunID, key); err != nil {
				return fmt.Errorf("sqlite: commit: delete timer %q of run %s: %w", key, e.RunID, err)
			}
		}
	}
	for _, t := range u.AddTimers {
		run := t.RunID
		if run == "" {
			run = e.RunID
		}
		if u.Closed && run == e.RunID {
			continue
		}
		if _, err := x.exec(`INSERT INTO timers (run_id, key, due) VALUES (?, ?, ?)
			ON CONFLICT (run_id, key) DO UPDATE SET due = excluded.due`,
			run, t.Key, t.Due.UnixMilli()); err != nil {
			return fmt.Errorf("sqlite: commit: add timer %q of run %s: %w", t.Key, run, err)
		}
	}
	for _, hb := range u.Heartbeats {
		if u.Closed {
			break // all of them go below
		}
		if hb.Details == nil {
			if _, err := x.exec("DELETE FROM heartbeats WHERE run_id = ? AND scheduled_event_id = ?", e.RunID, hb.ScheduledEventID); err != nil {
				return fmt.Errorf("sqlite: commit: remove heartbeat details of activity %d of run %s: %w", hb.ScheduledEventID, e.RunID, err)
			}
			continue
		}
		x.db.rows.storedHeartbeat(e.RunID)
		if _, err := x.exec(`INSERT INTO heartbeats (run_id, scheduled_event_id, details) VALUES (?, ?, ?)
			ON CONFLICT (run_id, scheduled_event_id) DO UPDATE SET details = excluded.details`,
			e.RunID, hb.ScheduledEventID, []byte(*hb.Details)); err != nil {
			return fmt.Errorf("sqlite: commit: store heartbeat details of activity %d of run %s: %w", hb.ScheduledEventID, e.RunID, err)
		}
	}
	if u.Closed {
		if !noHeartbeats {
			if _, err := x.exec("DELETE FROM heartbeats WHERE run_id = ?", e.RunID); err != nil {
				return fmt.Errorf("sqlite: commit: remove heartbeat details of closed run %s: %w", e.RunID, err)
			}
		}
		if _, err := x.exec("DELETE FROM tasks WHERE run_id = ?", e.RunID); err != nil {
			return fmt.Errorf("sqlite: commit: remove tasks of closed run %s: %w", e.RunID, err)
		}
		if _, err := x.exec("DELETE FROM timers WHERE run_id = ?", e.RunID); err != nil {
			return fmt.Errorf("sqlite: commit: remove timers of closed run %s: %w", e.RunID, err)
		}
	}
	return nil
}

// eventsPerInsert is the most events one INSERT appends. A step appends one
// to three events as a rule; a few more are rare, and each count has its
// own prepared statement.
const eventsPerInsert = 8

// insertEventsSQL[n] appends n events of one run.
var insertEventsSQL = func() [eventsPerInsert + 1]string {
	var qs [eventsPerInsert + 1]string
	for n := 1; n <= eventsPerInsert; n++ {
		qs[n] = "INSERT INTO events (run_id, event_id, json) VALUES (?, ?, ?)" + strings.Repeat(", (?, ?, ?)", n-1)
	}
	return qs
}()

// insertEvents appends up to eventsPerInsert events to a run in one
// statement: all of them, or none when the run has one of their ids.
func insertEvents(x *wtx, runID string, evs []swfd.Event) error {
	args := make([]any, 0, 3*len(evs))
	for _, ev := range evs {
		args = append(args, runID, ev.ID, nonNil(ev.JSON))
	}
	if _, err := x.exec(insertEventsSQL[len(evs)], args...); err != nil {
		first, last := evs[0].ID, evs[len(evs)-1].ID
		if isUnique(err) {
			return fmt.Errorf("sqlite: commit: run %s already has one of events %d-%d: %w", runID, first, last, swfd.ErrConflict)
		}
		return fmt.Errorf("sqlite: commit: append events %d-%d to run %s: %w", first, last, runID, err)
	}
	return nil
}

// deleteTags removes a run's tag rows, given the run's stored domain, tags
// (JSON), open flag and start time.
func deleteTags(x *wtx, runID, domain, tagsJSON string, open, start int64) error {
	if tagsJSON == "[]" || tagsJSON == "" {
		return nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(tagsJSON), &tags); err != nil {
		return fmt.Errorf("sqlite: commit: run %s: bad stored tags: %w", runID, err)
	}
	for _, tag := range tags {
		if _, err := x.exec(`DELETE FROM execution_tag_index WHERE domain = ? AND tag = ? AND open = ? AND start_time = ?
			AND run_id = ?`, domain, tag, open, start, runID); err != nil {
			return fmt.Errorf("sqlite: commit: untag run %s: %w", runID, err)
		}
	}
	return nil
}

func insertTags(x *wtx, e *swfd.Execution) error {
	open, start, closeTime := boolInt(e.Open), e.StartTime.UnixMilli(), nullMillis(e.CloseTime)
	for _, tag := range e.Tags {
		if _, err := x.exec(`INSERT INTO execution_tag_index (domain, tag, open, start_time, close_time, run_id)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, e.Domain, tag, open, start, closeTime, e.RunID); err != nil {
			return fmt.Errorf("sqlite: commit: tag run %s: %w", e.RunID, err)
		}
	}
	return nil
}

const execCols = `run_id, domain, workflow_id, type_name, type_version, start_time, close_time, open,
	close_status, tags, parent_workflow_id, parent_run_id, cancel_requested, version, state`

func scanExecution(s interface{ Scan(...any) error }) (swfd.Execution, error) {
	var e swfd.Execution
	var start int64
	var closeTime sql.NullInt64
	var open, cancel int64
	var tags string
	if err := s.Scan(&e.RunID, &e.Domain, &e.WorkflowID, &e.TypeName, &e.TypeVersion, &start, &closeTime, &open,
		&e.CloseStatus, &tags, &e.ParentWorkflowID, &e.ParentRunID, &cancel, &e.Version, &e.State); err != nil {
		return e, err
	}
	e.StartTime = fromMillis(start)
	e.CloseTime = fromNullMillis(closeTime)
	e.Open = open != 0
	e.CancelRequested = cancel != 0
	if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil {
		return e, fmt.Errorf("run %s: bad tags: %w", e.RunID, err)
	}
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	return e, nil
}

func (db *DB) getExecution(ctx context.Context, what, query string, args ...any) (swfd.Execution, error) {
	var e swfd.Execution
	err := db.read(ctx, func(q querier) error {
		var err error
		e, err = scanExecution(q.QueryRowContext(ctx, query, args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("sqlite: %s: %w", what, swfd.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return e, nil
}

// GetExecution returns a run of a domain (of any domain when domain is
// empty) or ErrNotFound.
func (db *DB) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	if domain == "" {
		return db.getExecution(ctx, fmt.Sprintf("run %s", runID),
			"SELECT "+execCols+" FROM executions WHERE run_id = ?", runID)
	}
	return db.getExecution(ctx, fmt.Sprintf("run %s in domain %q", runID, domain),
		"SELECT "+execCols+" FROM executions WHERE run_id = ? AND domain = ?", runID, domain)
}

// OpenRun returns the open run of a workflowId, or ErrNotFound.
func (db *DB) OpenRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	return db.getExecution(ctx, fmt.Sprintf("open run of workflow %q in domain %q", workflowID, domain),
		"SELECT "+execCols+" FROM executions WHERE domain = ? AND workflow_id = ? AND open = 1", domain, workflowID)
}

// LatestRun returns the most recently started run of a workflowId, or
// ErrNotFound.
func (db *DB) LatestRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	return db.getExecution(ctx, fmt.Sprintf("latest run of workflow %q in domain %q", workflowID, domain),
		"SELECT "+execCols+` FROM executions WHERE domain = ? AND workflow_id = ?
		ORDER BY start_time DESC, open DESC, run_id DESC LIMIT 1`, domain, workflowID)
}

// History returns a range of a run's events.
func (db *DB) History(ctx context.Context, q swfd.HistoryQuery) ([]swfd.Event, error) {
	var query string
	var args []any
	switch {
	case !q.Reverse:
		query = "SELECT event_id, json FROM events WHERE run_id = ? AND event_id > ? ORDER BY event_id LIMIT ?"
		args = []any{q.RunID, q.AfterID, sqlLimit(q.Limit)}
	case q.AfterID > 0:
		query = "SELECT event_id, json FROM events WHERE run_id = ? AND event_id < ? ORDER BY event_id DESC LIMIT ?"
		args = []any{q.RunID, q.AfterID, sqlLimit(q.Limit)}
	default:
		query = "SELECT event_id, json FROM events WHERE run_id = ? ORDER BY event_id DESC LIMIT ?"
		args = []any{q.RunID, sqlLimit(q.Limit)}
	}
	var out []swfd.Event
	err := db.read(ctx, func(qr querier) error {
		rows, err := qr.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		bytes := 0
		for rows.Next() {
			var ev swfd.Event
			if err := rows.Scan(&ev.ID, &ev.JSON); err != nil {
				return err
			}
			out = append(out, ev)
			// Past MaxBytes the rest is left unread: SQLite steps no
			// further than the rows taken.
			if bytes += len(ev.JSON); q.MaxBytes > 0 && bytes > q.MaxBytes {
				break
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of run %s: %w", q.RunID, err)
	}
	return out, nil
}

// Heartbeats returns the heartbeat details stored for a run's activities,
// in scheduled event id order.
func (db *DB) Heartbeats(ctx context.Context, runID string) ([]swfd.Heartbeat, error) {
	var out []swfd.Heartbeat
	err := db.read(ctx, func(q querier) error {
		out = out[:0]
		rows, err := q.QueryContext(ctx, "SELECT scheduled_event_id, details FROM heartbeats WHERE run_id = ? ORDER BY scheduled_event_id", runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var d []byte
			if err := rows.Scan(&id, &d); err != nil {
				return err
			}
			s := string(d)
			out = append(out, swfd.Heartbeat{ScheduledEventID: id, Details: &s})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: heartbeat details of run %s: %w", runID, err)
	}
	return out, nil
}

// HoldRun reads a run for a step. Every write of this store is made by
// this process, whose callers serialize the steps of a run themselves
// (runs.Store.Lock), so there is nothing to hold: the hold's Commit is a
// Commit, checked against the run's version as any is, and Release does
// nothing.
func (db *DB) HoldRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	e, err := db.GetExecution(ctx, domain, runID)
	if err != nil {
		return e, nil, err
	}
	return e, swfd.Unheld(db, runID), nil
}

// PendingTasks returns every stored task, in scheduled order.
func (db *DB) PendingTasks(ctx context.Context) ([]swfd.Task, error) {
	var out []swfd.Task
	err := db.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT run_id, scheduled_event_id, kind, domain, task_list, priority, scheduled
			FROM tasks ORDER BY scheduled, run_id, scheduled_event_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t swfd.Task
			var kind string
			var scheduled int64
			if err := rows.Scan(&t.RunID, &t.ScheduledEventID, &kind, &t.Domain, &t.TaskList, &t.Priority, &scheduled); err != nil {
				return err
			}
			t.Kind = swfd.TaskKind(kind)
			t.Scheduled = fromMillis(scheduled)
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending tasks: %w", err)
	}
	return out, nil
}

func (db *DB) timers(ctx context.Context, query string, args ...any) ([]swfd.Timer, error) {
	var out []swfd.Timer
	err := db.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t swfd.Timer
			var due int64
			if err := rows.Scan(&t.RunID, &t.Key, &due); err != nil {
				return err
			}
			t.Due = fromMillis(due)
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// DueTimers returns up to limit timers due at or before now, earliest first.
// A limit of 0 or less means no limit.
func (db *DB) DueTimers(ctx context.Context, now time.Time, limit int) ([]swfd.Timer, error) {
	out, err := db.timers(ctx, "SELECT run_id, key, due FROM timers WHERE due <= ? ORDER BY due, run_id, key LIMIT ?",
		now.UnixMilli(), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: due timers: %w", err)
	}
	return out, nil
}

// DueRunTimers returns up to limit timers with key of domain's runs due at
// or before now, earliest first. A limit of 0 or less means no limit.
func (db *DB) DueRunTimers(ctx context.Context, domain, key string, now time.Time, limit int) ([]swfd.Timer, error) {
	out, err := db.timers(ctx, "SELECT t.run_id, t.key, t.due FROM timers t JOIN executions e ON e.run_id = t.run_id "+
		"WHERE t.due <= ? AND t.key = ? AND e.domain = ? ORDER BY t.due, t.run_id LIMIT ?",
		now.UnixMilli(), key, domain, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: due timers of domain %s: %w", domain, err)
	}
	return out, nil
}

// NextTimer returns the earliest timer, or ErrNotFound.
func (db *DB) NextTimer(ctx context.Context) (swfd.Timer, error) {
	out, err := db.timers(ctx, "SELECT run_id, key, due FROM timers ORDER BY due, run_id, key LIMIT 1")
	if err != nil {
		return swfd.Timer{}, fmt.Errorf("sqlite: next timer: %w", err)
	}
	if len(out) == 0 {
		return swfd.Timer{}, fmt.Errorf("sqlite: next timer: %w", swfd.ErrNotFound)
	}
	return out[0], nil
}

// PendingTransfers returns up to limit undelivered transfers, oldest first.
// A limit of 0 or less means no limit.
func (db *DB) PendingTransfers(ctx context.Context, limit int) ([]swfd.Transfer, error) {
	var out []swfd.Transfer
	err := db.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, "SELECT id, run_id, payload FROM transfers ORDER BY id LIMIT ?", sqlLimit(limit))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t swfd.Transfer
			if err := rows.Scan(&t.ID, &t.RunID, &t.Payload); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending transfers: %w", err)
	}
	return out, nil
}

// visibilitySQL builds the FROM ... WHERE of a visibility query and returns
// it with its arguments and the columns it orders by (time, run id). rows
// says whether the query returns executions (else it only counts them).
//
// Every query is one index range read in (time, run_id) order (see
// migrations/0002_visibility_indexes.sql): a tag filter reads
// execution_tag_index, joining executions only for the rows it returns;
// every other query reads an index of executions. The open flag is written
// as a literal so that the planner may use the partial indexes on closed
// runs.
func visibilitySQL(q swfd.VisibilityQuery, rows bool) (string, []any, string, string) {
	var sb strings.Builder
	var args []any
	col := "start_time"
	if !q.Open && q.ByCloseTime {
		col = "close_time"
	}
	openLit := "0"
	if q.Open {
		openLit = "1"
	}
	// p qualifies the columns that drive the query.
	p := "e."
	tagIndex := " NOT INDEXED" // the primary key
	if col == "close_time" {
		tagIndex = " INDEXED BY execution_tag_index_close"
	}
	if tag, ok := q.TagFilter(); ok {
		p = "t."
		if rows || q.WorkflowID != "" || q.TypeName != "" || q.CloseStatus != "" {
			sb.WriteString(" FROM execution_tag_index t" + tagIndex + " CROSS JOIN executions e ON e.run_id = t.run_id")
		} else {
			sb.WriteString(" FROM execution_tag_index t" + tagIndex)
		}
		sb.WriteString(" WHERE t.domain = ? AND t.tag = ? AND t.open = " + openLit)
		args = append(args, q.Domain, tag)
	} else {
		sb.WriteString(" FROM executions e INDEXED BY " + visibilityIndex(q) + " WHERE e.domain = ? AND e.open = " + openLit)
		args = append(args, q.Domain)
	}
	if !q.Oldest.IsZero() {
		sb.WriteString(" AND " + p + col + " >= ?")
		args = append(args, q.Oldest.UnixMilli())
	}
	if !q.Latest.IsZero() {
		sb.WriteString(" AND " + p + col + " <= ?")
		args = append(args, q.Latest.UnixMilli())
	}
	if q.WorkflowID != "" {
		sb.WriteString(" AND e.workflow_id = ?")
		args = append(args, q.WorkflowID)
	}
	if q.TypeName != "" {
		sb.WriteString(" AND e.type_name = ?")
		args = append(args, q.TypeName)
		if q.TypeVersion != "" {
			sb.WriteString(" AND e.type_version = ?")
			args = append(args, q.TypeVersion)
		}
	}
	if q.CloseStatus != "" {
		sb.WriteString(" AND e.close_status = ?")
		args = append(args, q.CloseStatus)
	}
	if !q.AfterTime.IsZero() || q.AfterRunID != "" {
		if q.Reverse {
			sb.WriteString(" AND (" + p + col + ", " + p + "run_id) > (?, ?)")
		} else {
			sb.WriteString(" AND (" + p + col + ", " + p + "run_id) < (?, ?)")
		}
		args = append(args, q.AfterTime.UnixMilli(), q.AfterRunID)
	}
	return sb.String(), args, p + col, p + "run_id"
}

// visibilityIndex names the index of executions that answers q: the one
// whose equality columns are q's selector, followed by q's time column and
// run_id. It is named explicitly because without statistics SQLite would
// rather read the time index in order and filter (no sort) than read the
// selector's range, which is ruinous on a large domain. With several
// selectors (the service never sends more than one) the first one picks the
// index and the others filter.
func visibilityIndex(q swfd.VisibilityQuery) string {
	suffix := "_start"
	if !q.Open && q.ByCloseTime {
		suffix = "_close"
	}
	switch {
	case q.WorkflowID != "":
		return "executions_workflow" + suffix
	case q.TypeName != "" && q.TypeVersion != "":
		return "executions_version" + suffix
	case q.TypeName != "":
		return "executions_type" + suffix
	case q.CloseStatus != "" && !q.Open:
		return "executions_status" + suffix
	case suffix == "_close":
		return "executions_close"
	}
	return "executions_start"
}

// qualifiedExecCols is execCols of the table aliased e.
var qualifiedExecCols = func() string {
	cols := strings.Split(execCols, ",")
	for i, c := range cols {
		cols[i] = "e." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// listSQL is the query of ListExecutions.
func listSQL(q swfd.VisibilityQuery) (string, []any) {
	where, args, timeCol, runCol := visibilitySQL(q, true)
	dir := " DESC"
	if q.Reverse {
		dir = ""
	}
	args = append(args, sqlLimit(q.Limit))
	cols := qualifiedExecCols
	if q.NoState {
		cols = strings.TrimSuffix(cols, "e.state") + "NULL"
	}
	return "SELECT " + cols + where + " ORDER BY " + timeCol + dir + ", " + runCol + dir + " LIMIT ?", args
}

// countSQL is the query of CountExecutions: it stops reading after lim
// rows (-1: no limit).
func countSQL(q swfd.VisibilityQuery, lim int) (string, []any) {
	q.AfterTime, q.AfterRunID = time.Time{}, ""
	where, args, _, _ := visibilitySQL(q, false)
	if lim < 0 {
		return "SELECT count(*)" + where, args
	}
	return "SELECT count(*) FROM (SELECT 1" + where + " LIMIT ?)", append(args, lim)
}

// ListExecutions returns executions matching q, newest first unless
// q.Reverse. A Limit of 0 or less means no limit.
func (db *DB) ListExecutions(ctx context.Context, q swfd.VisibilityQuery) ([]swfd.Execution, error) {
	query, args := listSQL(q)
	var out []swfd.Execution
	err := db.read(ctx, func(qr querier) error {
		rows, err := qr.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanExecution(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list executions: %w", err)
	}
	return out, nil
}

// CountExecutions counts executions matching q (ignoring its paging and
// Limit) up to limit; truncated is true when more than limit match. A limit
// of 0 or less means no limit. The count reads index entries only.
func (db *DB) CountExecutions(ctx context.Context, q swfd.VisibilityQuery, limit int) (int, bool, error) {
	lim := -1
	if limit > 0 {
		lim = limit + 1
	}
	query, args := countSQL(q, lim)
	var n int
	err := db.read(ctx, func(qr querier) error {
		return qr.QueryRowContext(ctx, query, args...).Scan(&n)
	})
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: count executions: %w", err)
	}
	if limit > 0 && n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// CountOpen counts a domain's open executions.
func (db *DB) CountOpen(ctx context.Context, domain string) (int, error) {
	var n int
	err := db.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, "SELECT count(*) FROM executions WHERE domain = ? AND open = 1", domain).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: count open executions: %w", err)
	}
	return n, nil
}

// purgeEventBudget bounds the events one PurgeClosed deletes. The purge is
// a write, and the one writer does nothing else meanwhile: every commit
// waits for it. Deleting an event takes about a microsecond, so 500 runs
// of long histories (a run may have 25,000 events) held every other write
// for seconds; a call stops taking runs once their events pass the budget,
// which keeps it to tens of milliseconds, and the retention loop calls
// again.
const purgeEventBudget = 20_000

// PurgeClosed deletes up to limit runs of a domain closed before cutoff
// (oldest first), with their histories, tags, tasks, timers and heartbeat
// details. Messages to them stay (see swfd.ExecutionStore.PurgeClosed).
// A limit of 0 or less deletes nothing. It takes fewer runs than limit
// when their histories are long (purgeEventBudget), but always at least
// one when any is due.
func (db *DB) PurgeClosed(ctx context.Context, domain string, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	budget := db.purgeEvents
	if budget <= 0 {
		budget = purgeEventBudget
	}
	var n int
	err := db.write(ctx, func(x *wtx) error {
		n = 0
		rows, err := x.query(`SELECT run_id, tags, start_time FROM executions WHERE domain = ? AND open = 0 AND close_time < ?
			ORDER BY close_time, run_id LIMIT ?`, domain, cutoff.UnixMilli(), limit)
		if err != nil {
			return err
		}
		type purged struct {
			id, tags string
			start    int64
		}
		var runs []purged
		for rows.Next() {
			var r purged
			if err := rows.Scan(&r.id, &r.tags, &r.start); err != nil {
				rows.Close()
				return err
			}
			runs = append(runs, r)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		var events int64
		for i, r := range runs {
			// A run's events are numbered from 1: the last id is
			// how many it has, read from the key alone.
			var last sql.NullInt64
			if err := x.queryRow("SELECT max(event_id) FROM events WHERE run_id = ?", r.id).Scan(&last); err != nil {
				return fmt.Errorf("run %s: %w", r.id, err)
			}
			if events += last.Int64; i > 0 && events > budget {
				runs = runs[:i]
				break
			}
		}
		for _, r := range runs {
			if err := deleteTags(x, r.id, domain, r.tags, 0, r.start); err != nil {
				return err
			}
			for _, del := range purgeDeletes {
				if _, err := x.exec(del, r.id); err != nil {
					return fmt.Errorf("run %s: %w", r.id, err)
				}
			}
		}
		n = len(runs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge closed runs of %q: %w", domain, err)
	}
	return n, nil
}

var purgeDeletes = []string{
	"DELETE FROM events WHERE run_id = ?",
	"DELETE FROM tasks WHERE run_id = ?",
	"DELETE FROM timers WHERE run_id = ?",
	"DELETE FROM heartbeats WHERE run_id = ?",
	"DELETE FROM executions WHERE run_id = ? AND open = 0",
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
