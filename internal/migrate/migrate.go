// Package migrate copies everything one swfd store holds into another —
// registry, open and closed executions with their histories, pending
// tasks, timers and undelivered messages, the task-token key, the time
// a manual or skip clock reached and the region and account the nodes
// served as — through
// the swfd.Store interface alone, so it works between any two drivers
// (`swfd migrate --from sqlite:PATH --to postgres://…`). It refuses to
// write into a store that already holds domains.
//
// A copy is many transactions (a large installation does not fit in one),
// so one that stops half-way leaves a target that lacks part of the
// source. The target says so: before writing anything Copy sets the meta
// value "migrate-started", and only once everything is written
// "migrate-finished". CheckFinished finds a target with the first and not
// the second; swfd refuses to serve it, and Copy to copy into it or out of
// it (a copy of a partial copy would be marked finished). (Two
// values rather than one removed at the end: a store can set a meta value
// but not remove one.)
//
// Its memory does not grow with the installation or its runs: runs are
// written in commits of about 32 MB of events, and a run whose history is
// longer in several commits of its own (its history read in parts of that
// size), so the copy never holds a whole long history.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/clock"
)

// Stats counts what was copied.
type Stats struct {
	Domains, Types, Executions, Events, Tasks, Timers, Transfers int
	// Heartbeats counts the activities whose heartbeat details were copied.
	Heartbeats int
}

// ErrTargetNotEmpty is returned when the target store already has domains.
var ErrTargetNotEmpty = errors.New("migrate: the target database is not empty (it has domains); refusing to copy into it")

// ErrUnfinishedCopy is CheckFinished's error, and Copy's, for a store that
// holds a copy Copy began and did not finish.
var ErrUnfinishedCopy = errors.New("the database holds an unfinished copy made by swfd migrate")

// The meta values that mark a copy on its target (see the package comment).
const (
	startedKey  = "migrate-started"
	finishedKey = "migrate-finished"
)

// tokenKey is the meta value that holds the key signing task tokens (see
// service.New).
const tokenKey = "token-key"

// carried are the meta values the target gets as the source has them, in
// place of any it had, and what each is for the errors.
var carried = []struct{ key, what string }{
	// The tokens clients hold from the source's server then work on the
	// target's.
	{tokenKey, "token key"},
	// The time a manual or skip clock reached (clock.Controller.Keep): a
	// test installation's timers, timeouts and retention are due by that
	// clock, which on the target then resumes where it was instead of at
	// the wall clock's time.
	{clock.KeptKey, "clock's time"},
	// The region and account the source's nodes served as (kept by the
	// PostgreSQL store, which checks every node that starts against
	// them): the ARNs of the copied data, and those its clients hold, are
	// made of them, so the first node on the target is checked against
	// these rather than taken as the first to serve the data. A SQLite
	// store (one node) keeps the value as copied without checking it, so
	// that a copy back to PostgreSQL carries it on.
	{nodeIdentityKey, "nodes' region and account"},
}

// nodeIdentityKey is the meta value in which the nodes of a PostgreSQL
// store keep the region and account they serve as (see
// postgres.DB.AgreeIdentity).
const nodeIdentityKey = "node-identity"

// startOver says what to do with a target that holds an unfinished copy.
const startOver = "drop it (delete the SQLite file, or drop and re-create the PostgreSQL database or schema) and run swfd migrate again"

// far is later than any timer.
var far = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckFinished returns an error wrapping ErrUnfinishedCopy, which says
// when the copy began and how to start over, if st holds a copy that Copy
// began and did not finish; nil if it holds a finished copy or none.
func CheckFinished(ctx context.Context, st swfd.Store) error {
	began, err := st.Meta(ctx, startedKey)
	if errors.Is(err, swfd.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read the mark of swfd migrate: %w", err)
	}
	if _, err := st.Meta(ctx, finishedKey); err == nil {
		return nil
	} else if !errors.Is(err, swfd.ErrNotFound) {
		return fmt.Errorf("read the mark of swfd migrate: %w", err)
	}
	return unfinished(began)
}

func unfinished(began []byte) error {
	return fmt.Errorf("%w (begun at %s), which lacks part of its source: %s", ErrUnfinishedCopy, began, startOver)
}

// fromOriginal says what to do with a source that holds an unfinished copy.
const fromOriginal = "it cannot be copied (its copy would look whole); copy the database it was copied from instead"

// CheckSource returns an error wrapping ErrUnfinishedCopy, which says when
// the copy began and what to copy instead, if src holds a copy that Copy
// began and did not finish; nil if it holds a finished copy or none. swfd
// migrate checks its source with it before it opens, and so creates, its
// target.
func CheckSource(ctx context.Context, src swfd.Store) error {
	err := CheckFinished(ctx, src)
	if !errors.Is(err, ErrUnfinishedCopy) {
		if err != nil {
			return fmt.Errorf("migrate: source: %w", err)
		}
		return nil
	}
	began, _ := src.Meta(ctx, startedKey)
	return fmt.Errorf("migrate: source: %w (begun at %s), which lacks part of the database it was copied from: %s", ErrUnfinishedCopy, began, fromOriginal)
}

// Copy copies src into dst. src must not hold an unfinished copy (the
// marks are not copied, so its copy would look whole); dst must be empty.
// progress, if set, is called
// after each batch of executions. When Copy fails after it began writing
// (its context canceled, say), dst is left marked as holding an unfinished
// copy, and the error says so.
func Copy(ctx context.Context, src, dst swfd.Store, progress func(Stats)) (Stats, error) {
	var st Stats
	if err := CheckSource(ctx, src); err != nil {
		return st, err
	}
	if err := CheckFinished(ctx, dst); err != nil {
		return st, fmt.Errorf("migrate: target: %w", err)
	}
	if ds, err := dst.ListDomains(ctx, swfd.ListQuery{Limit: 1}); err != nil {
		return st, fmt.Errorf("migrate: read target: %w", err)
	} else if len(ds) > 0 {
		return st, ErrTargetNotEmpty
	}
	// Pending tasks and timers, by run, attached to their run's copy.
	tasks, err := src.PendingTasks(ctx)
	if err != nil {
		return st, fmt.Errorf("migrate: read tasks: %w", err)
	}
	tasksByRun := map[string][]swfd.Task{}
	for _, t := range tasks {
		tasksByRun[t.RunID] = append(tasksByRun[t.RunID], t)
	}
	timers, err := src.DueTimers(ctx, far, 0)
	if err != nil {
		return st, fmt.Errorf("migrate: read timers: %w", err)
	}
	timersByRun := map[string][]swfd.Timer{}
	for _, t := range timers {
		timersByRun[t.RunID] = append(timersByRun[t.RunID], t)
	}

	// The mark goes first: from here on, a copy that stops is flagged.
	// The time, to the nanosecond, tells this copy's mark from another's
	// begun at the same moment.
	began := []byte(time.Now().UTC().Format(time.RFC3339Nano))
	if got, err := dst.SetMetaIfAbsent(ctx, startedKey, began); err != nil {
		return st, fmt.Errorf("migrate: mark the target: %w", err)
	} else if string(got) != string(began) {
		return st, fmt.Errorf("migrate: target: %w", unfinished(got))
	}
	if err := copyAll(ctx, src, dst, tasksByRun, timersByRun, &st, progress); err != nil {
		return st, fmt.Errorf("%w; the target now holds an unfinished copy, which swfd will not serve: %s", err, startOver)
	}
	finished := []byte(time.Now().UTC().Format(time.RFC3339Nano))
	if _, err := dst.SetMetaIfAbsent(ctx, finishedKey, finished); err != nil {
		return st, fmt.Errorf("migrate: mark the copy finished: %w; the target holds an unfinished copy, which swfd will not serve: %s", err, startOver)
	}
	return st, nil
}

// copyAll writes everything but the marks.
func copyAll(ctx context.Context, src, dst swfd.Store, tasksByRun map[string][]swfd.Task, timersByRun map[string][]swfd.Timer, st *Stats, progress func(Stats)) error {
	for _, m := range carried {
		if err := copyMeta(ctx, src, dst, m.key, m.what); err != nil {
			return err
		}
	}

	var domains []swfd.Domain
	after := ""
	for {
		ds, err := src.ListDomains(ctx, swfd.ListQuery{After: after, Limit: 100})
		if err != nil {
			return fmt.Errorf("migrate: list domains: %w", err)
		}
		domains = append(domains, ds...)
		if len(ds) < 100 {
			break
		}
		after = ds[len(ds)-1].Name
	}
	for _, d := range domains {
		if err := copyDomain(ctx, src, dst, d, st); err != nil {
			return err
		}
		for _, open := range []bool{true, false} {
			if err := copyExecutions(ctx, src, dst, d.Name, open, tasksByRun, timersByRun, st, progress); err != nil {
				return err
			}
		}
	}

	trs, err := src.PendingTransfers(ctx, 0)
	if err != nil {
		return fmt.Errorf("migrate: read messages: %w", err)
	}
	if len(trs) > 0 {
		if err := dst.Commit(ctx, swfd.Batch{AddTransfers: trs}); err != nil {
			return fmt.Errorf("migrate: write messages: %w", err)
		}
		st.Transfers = len(trs)
	}
	return nil
}

// copyMeta gives dst src's meta value key (one of carried), in place of
// any dst has: a target holds no domains, so nothing in it depends on its
// own (no token signed with its key names anything, no timer is due by its
// clock, no ARN of its data names its nodes' region). A source without the value (no server ever made one) leaves the
// target's as it is.
func copyMeta(ctx context.Context, src, dst swfd.Store, key, what string) error {
	v, err := src.Meta(ctx, key)
	if errors.Is(err, swfd.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("migrate: read %s: %w", what, err)
	}
	if err := dst.SetMeta(ctx, key, v); err != nil {
		return fmt.Errorf("migrate: copy %s: %w", what, err)
	}
	return nil
}

func copyDomain(ctx context.Context, src, dst swfd.Store, d swfd.Domain, st *Stats) error {
	status := d.Status
	d.Status = swfd.StatusRegistered
	if err := dst.CreateDomain(ctx, d, 0); err != nil {
		return fmt.Errorf("migrate: domain %s: %w", d.Name, err)
	}
	if status == swfd.StatusDeprecated {
		// Before its types are copied: deprecating a domain deprecates
		// the types it holds, and the types keep their own status below.
		if err := dst.SetDomainStatus(ctx, d.Name, status, d.Created); err != nil {
			return fmt.Errorf("migrate: domain %s: %w", d.Name, err)
		}
	}
	st.Domains++
	for _, kind := range []swfd.TypeKind{swfd.ActivityKind, swfd.WorkflowKind} {
		after := ""
		for {
			ts, err := src.ListTypes(ctx, kind, d.Name, swfd.ListQuery{After: after, Limit: 500})
			if err != nil {
				return fmt.Errorf("migrate: list %s types of %s: %w", kind, d.Name, err)
			}
			for _, t := range ts {
				if status == swfd.StatusDeprecated && t.Status == swfd.StatusRegistered {
					// Left registered in a deprecated domain by a race
					// that stores written before it was fixed allowed:
					// the copy keeps the rule that a deprecated domain
					// holds no registered type (a store refuses one),
					// dated by the type's registration, the one date
					// known to precede the deprecation.
					t.Status, t.Deprecated = swfd.StatusDeprecated, t.Created
				}
				if err := dst.CreateType(ctx, t, 0); err != nil {
					return fmt.Errorf("migrate: %s type %s/%s: %w", kind, t.Name, t.Version, err)
				}
				st.Types++
			}
			if len(ts) < 500 {
				break
			}
			last := ts[len(ts)-1]
			after = swfd.TypeListKey(last.Name, last.Version)
		}
	}
	return nil
}

// copyBatchBytes is about how many bytes of runs (their events, states
// and heartbeat details) one commit of the copy holds: a batch is written
// once it reaches them, so that the copy's memory stays about this much
// (and the largest run's) whatever the runs' histories, where a batch of
// 200 runs of long histories held them all at once.
var copyBatchBytes = 32 << 20

func copyExecutions(ctx context.Context, src, dst swfd.Store, domain string, open bool, tasks map[string][]swfd.Task, timers map[string][]swfd.Timer, st *Stats, progress func(Stats)) error {
	q := swfd.VisibilityQuery{Domain: domain, Open: open, Limit: 200, Reverse: true}
	for {
		rows, err := src.ListExecutions(ctx, q)
		if err != nil {
			return fmt.Errorf("migrate: list executions of %s: %w", domain, err)
		}
		var b swfd.Batch
		bytes := 0
		for _, row := range rows {
			if bytes >= copyBatchBytes {
				if err := dst.Commit(ctx, b); err != nil {
					return fmt.Errorf("migrate: write executions of %s: %w", domain, err)
				}
				b, bytes = swfd.Batch{}, 0
			}
			evs, err := src.History(ctx, swfd.HistoryQuery{RunID: row.RunID, MaxBytes: copyBatchBytes})
			if err != nil {
				return fmt.Errorf("migrate: history of %s: %w", row.RunID, err)
			}
			var hbs []swfd.Heartbeat
			if row.Open {
				if hbs, err = src.Heartbeats(ctx, row.RunID); err != nil {
					return fmt.Errorf("migrate: heartbeat details of %s: %w", row.RunID, err)
				}
			}
			if eventBytes(evs) > copyBatchBytes {
				// The read stopped at copyBatchBytes: a history this long
				// is written in commits of its own.
				if len(b.Updates) > 0 {
					if err := dst.Commit(ctx, b); err != nil {
						return fmt.Errorf("migrate: write executions of %s: %w", domain, err)
					}
					b, bytes = swfd.Batch{}, 0
				}
				n, err := copyLongRun(ctx, src, dst, row, tasks[row.RunID], timers[row.RunID], hbs)
				if err != nil {
					return err
				}
				st.Heartbeats += len(hbs)
				st.Executions++
				st.Events += n
				st.Tasks += len(tasks[row.RunID])
				st.Timers += len(timers[row.RunID])
				continue
			}
			b.Updates = append(b.Updates, swfd.Update{
				Execution: row, Create: true, Events: evs,
				AddTasks: tasks[row.RunID], AddTimers: timers[row.RunID], Heartbeats: hbs,
			})
			bytes += len(row.State) + eventBytes(evs)
			for _, hb := range hbs {
				if hb.Details != nil {
					bytes += len(*hb.Details)
				}
			}
			st.Heartbeats += len(hbs)
			st.Executions++
			st.Events += len(evs)
			st.Tasks += len(tasks[row.RunID])
			st.Timers += len(timers[row.RunID])
		}
		if len(b.Updates) > 0 {
			if err := dst.Commit(ctx, b); err != nil {
				return fmt.Errorf("migrate: write executions of %s: %w", domain, err)
			}
		}
		if progress != nil {
			progress(*st)
		}
		if len(rows) < q.Limit {
			return nil
		}
		last := rows[len(rows)-1]
		q.AfterTime, q.AfterRunID = last.StartTime, last.RunID
	}
}

// eventBytes is the bytes of the events' JSON.
func eventBytes(evs []swfd.Event) int {
	n := 0
	for _, e := range evs {
		n += len(e.JSON)
	}
	return n
}

// copyLongRun copies a run whose history takes more than copyBatchBytes
// in commits of about copyBatchBytes of events each, so that the copy
// never holds the whole history: the first commit creates the run and
// each one after adds the next events and takes the run's row one version
// further, the last to the version it has in the source (the run's row is
// written at versions below its own on the way, which is why the history
// is read twice: first to count the commits). The last commit brings its
// tasks, timers and heartbeat details. A run whose version is too low for
// that (it would take a version below 1) is copied in one commit as any
// other. It returns the number of events copied.
func copyLongRun(ctx context.Context, src, dst swfd.Store, row swfd.Execution, tasks []swfd.Task, timers []swfd.Timer, hbs []swfd.Heartbeat) (int, error) {
	chunk := func(after int64) ([]swfd.Event, error) {
		evs, err := src.History(ctx, swfd.HistoryQuery{RunID: row.RunID, AfterID: after, MaxBytes: copyBatchBytes})
		if err != nil {
			return nil, fmt.Errorf("migrate: history of %s: %w", row.RunID, err)
		}
		return evs, nil
	}
	var chunks int64
	for after := int64(0); ; chunks++ {
		evs, err := chunk(after)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			break
		}
		after = evs[len(evs)-1].ID
	}
	if row.Version-chunks+1 < 1 {
		evs, err := src.History(ctx, swfd.HistoryQuery{RunID: row.RunID})
		if err != nil {
			return 0, fmt.Errorf("migrate: history of %s: %w", row.RunID, err)
		}
		u := swfd.Update{Execution: row, Create: true, Events: evs, AddTasks: tasks, AddTimers: timers, Heartbeats: hbs}
		if err := dst.Commit(ctx, swfd.Batch{Updates: []swfd.Update{u}}); err != nil {
			return 0, fmt.Errorf("migrate: write run %s: %w", row.RunID, err)
		}
		return len(evs), nil
	}
	n := 0
	after := int64(0)
	for i := int64(0); i < chunks; i++ {
		evs, err := chunk(after)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return 0, fmt.Errorf("migrate: history of %s: events past %d gone while copying", row.RunID, after)
		}
		after = evs[len(evs)-1].ID
		u := swfd.Update{Execution: row, Create: i == 0, Events: evs}
		u.Execution.Version = row.Version - chunks + 1 + i
		if i == chunks-1 {
			u.AddTasks, u.AddTimers, u.Heartbeats = tasks, timers, hbs
		}
		if err := dst.Commit(ctx, swfd.Batch{Updates: []swfd.Update{u}}); err != nil {
			return 0, fmt.Errorf("migrate: write run %s: %w", row.RunID, err)
		}
		n += len(evs)
	}
	return n, nil
}
