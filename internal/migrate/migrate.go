// Package migrate copies everything one swfd store holds into another —
// registry, open and closed executions with their histories, pending
// tasks, timers and undelivered messages, and the task-token key — through
// the swfd.Store interface alone, so it works between any two drivers
// (`swfd migrate --from sqlite:PATH --to postgres://…`). It refuses to
// write into a store that already holds domains.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swfd/swfd"
)

// Stats counts what was copied.
type Stats struct {
	Domains, Types, Executions, Events, Tasks, Timers, Transfers int
}

// ErrTargetNotEmpty is returned when the target store already has domains.
var ErrTargetNotEmpty = errors.New("migrate: the target database is not empty (it has domains); refusing to copy into it")

// far is later than any timer.
var far = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Copy copies src into dst. dst must be empty. progress, if set, is called
// after each batch of executions.
func Copy(ctx context.Context, src, dst swfd.Store, progress func(Stats)) (Stats, error) {
	var st Stats
	if ds, err := dst.ListDomains(ctx, swfd.ListQuery{Limit: 1}); err != nil {
		return st, fmt.Errorf("migrate: read target: %w", err)
	} else if len(ds) > 0 {
		return st, ErrTargetNotEmpty
	}
	if key, err := src.Meta(ctx, "token-key"); err == nil {
		if _, err := dst.SetMetaIfAbsent(ctx, "token-key", key); err != nil {
			return st, fmt.Errorf("migrate: copy token key: %w", err)
		}
	} else if !errors.Is(err, swfd.ErrNotFound) {
		return st, fmt.Errorf("migrate: read token key: %w", err)
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

	var domains []swfd.Domain
	after := ""
	for {
		ds, err := src.ListDomains(ctx, swfd.ListQuery{After: after, Limit: 100})
		if err != nil {
			return st, fmt.Errorf("migrate: list domains: %w", err)
		}
		domains = append(domains, ds...)
		if len(ds) < 100 {
			break
		}
		after = ds[len(ds)-1].Name
	}
	for _, d := range domains {
		if err := copyDomain(ctx, src, dst, d, &st); err != nil {
			return st, err
		}
		for _, open := range []bool{true, false} {
			if err := copyExecutions(ctx, src, dst, d.Name, open, tasksByRun, timersByRun, &st, progress); err != nil {
				return st, err
			}
		}
	}

	trs, err := src.PendingTransfers(ctx, 0)
	if err != nil {
		return st, fmt.Errorf("migrate: read messages: %w", err)
	}
	if len(trs) > 0 {
		if err := dst.Commit(ctx, swfd.Batch{AddTransfers: trs}); err != nil {
			return st, fmt.Errorf("migrate: write messages: %w", err)
		}
		st.Transfers = len(trs)
	}
	return st, nil
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

func copyExecutions(ctx context.Context, src, dst swfd.Store, domain string, open bool, tasks map[string][]swfd.Task, timers map[string][]swfd.Timer, st *Stats, progress func(Stats)) error {
	q := swfd.VisibilityQuery{Domain: domain, Open: open, Limit: 200, Reverse: true}
	for {
		rows, err := src.ListExecutions(ctx, q)
		if err != nil {
			return fmt.Errorf("migrate: list executions of %s: %w", domain, err)
		}
		var b swfd.Batch
		for _, row := range rows {
			evs, err := src.History(ctx, swfd.HistoryQuery{RunID: row.RunID})
			if err != nil {
				return fmt.Errorf("migrate: history of %s: %w", row.RunID, err)
			}
			b.Updates = append(b.Updates, swfd.Update{
				Execution: row, Create: true, Events: evs,
				AddTasks: tasks[row.RunID], AddTimers: timers[row.RunID],
			})
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
