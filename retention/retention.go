// Package retention purges closed executions once their domain's retention
// period has passed since they closed (at the instant it has: a run closed at
// or before now minus the retention goes): the run, its history and
// everything else stored for it. A domain's retention is whole days ("NONE"
// and "0" purge at the next pass, a run closed at its very instant too); open
// executions are never purged, and nor is anything of a domain whose stored
// retention is not a number of days (an error is logged at each pass
// instead).
package retention

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd"
)

// Purger purges expired executions.
type Purger struct {
	// Purged, if set, is told how many executions each batch purged (for
	// metrics). Set it before Run.
	Purged func(n int)
	// Forget, if set, is told after each pass the cutoff of every domain
	// it went through: the runs of a domain that closed before its cutoff
	// are purged (by this pass, or by another node's), and a cache that
	// holds runs drops them. Purging, if set, is told each domain's cutoff
	// before the pass purges any of its runs, so that a cache answers
	// none of them from then on: a run is never answered from a cache
	// once its history is gone. Set them before Run.
	Forget  func(cutoffs map[string]time.Time)
	Purging func(domain string, cutoff time.Time)

	store swfd.Store
	clock swfd.Clock
	log   *slog.Logger
}

// New returns a Purger over store; Run runs it.
func New(store swfd.Store, clock swfd.Clock, log *slog.Logger) *Purger {
	if clock == nil {
		clock = swfd.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Purger{store: store, clock: clock, log: log}
}

// Every is how often Run purges.
const Every = time.Minute

// Run purges at once and then every minute, until ctx ends.
func (p *Purger) Run(ctx context.Context) {
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		if err := p.Purge(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("purging closed executions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// batch is the most runs one store call purges: a small batch never holds
// the store for long. A store may purge fewer in a call (the embedded one
// bounds the events a call deletes); the loop goes on until a call finds
// nothing left to purge.
const batch = 500

// Purge deletes the closed executions, in every domain, whose domain's
// retention has passed since they closed.
func (p *Purger) Purge(ctx context.Context) error {
	cutoffs := map[string]time.Time{}
	if p.Forget != nil {
		// Also after a pass that failed part way: what it purged is
		// gone.
		defer func() { p.Forget(cutoffs) }()
	}
	for _, status := range []string{swfd.StatusRegistered, swfd.StatusDeprecated} {
		after := ""
		for {
			ds, err := p.store.ListDomains(ctx, swfd.ListQuery{Status: status, After: after, Limit: 100})
			if err != nil {
				return err
			}
			for _, d := range ds {
				if err := p.purgeDomain(ctx, d, cutoffs); err != nil {
					return err
				}
			}
			if len(ds) < 100 {
				break
			}
			after = ds[len(ds)-1].Name
		}
	}
	return nil
}

// retentionDays reads a domain's retention: NONE is 0 days (purged at the
// next pass), otherwise whole days in decimal digits; ok is false for
// anything else.
func retentionDays(s string) (days int, ok bool) {
	if s == "NONE" {
		return 0, true
	}
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	days, err := strconv.Atoi(s)
	return days, err == nil
}

// purgeDomain purges one domain's expired executions, a batch at a time,
// and records the domain's cutoff in cutoffs.
func (p *Purger) purgeDomain(ctx context.Context, d swfd.Domain, cutoffs map[string]time.Time) error {
	days, ok := retentionDays(d.RetentionDays)
	if !ok {
		// Not as RegisterDomain stores it (another tool wrote it): read
		// as none, it would purge every closed execution of the domain.
		p.log.Error("purging closed executions: the domain's retention is not a number of days, so none of its executions is purged; register the domain again or correct its retention",
			"domain", d.Name, "retention", d.RetentionDays)
		return nil
	}
	// Days of 24 hours, counted on the calendar: as a time.Duration, more
	// than 106,751 days (written by a tool; RegisterDomain allows 90)
	// would wrap around to a cutoff in the future, and purge every closed
	// execution of the domain.
	//
	// A run's retention has passed at the instant it is as old as the
	// retention, so a run closed at or before now minus the retention is
	// purged. The stores purge the runs closed before the cutoff, and keep
	// close times as whole milliseconds: the cutoff is the millisecond
	// after. With "NONE" or "0", a run closed in the millisecond of the
	// pass is purged by it; were the cutoff now itself, such a run would
	// wait for a later pass, and on a clock that stands still (--clock
	// manual) for ever.
	cutoff := p.clock.Now().UTC().AddDate(0, 0, -days).Truncate(time.Millisecond).Add(time.Millisecond)
	cutoffs[d.Name] = cutoff
	if p.Purging != nil {
		p.Purging(d.Name, cutoff)
	}
	for {
		n, err := p.store.PurgeClosed(ctx, d.Name, cutoff, batch)
		if err != nil {
			return err
		}
		if n > 0 && p.Purged != nil {
			p.Purged(n)
		}
		if n == 0 {
			return nil
		}
		if n < batch {
			// A short batch: the store bounded the call (each of
			// its writes is short), or nothing more is due, which
			// the next call tells at once.
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
