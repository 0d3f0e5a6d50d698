package runs

import (
	"context"
	"fmt"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// HistoryPage reads one page of a run's events: ascending after id
// `after`, or descending before `after` (0: from the end). upTo, if not 0,
// hides events with larger ids. next is the position to resume from, 0 at
// the end.
//
// A step's events are in the store a moment before they are in the run
// cache. A caller that must see every event the store has (the history
// API: the caller may just have seen the run's new state elsewhere) sets
// waitCommits, and the cache is read under the run's lock, which a step
// holds until the cache has its events. Task pages need not: their events
// up to the task's start are in the cache once the task is handed out.
func (s *Store) HistoryPage(ctx context.Context, runID string, after, upTo int64, reverse bool, size int, waitCommits bool) ([]api.HistoryEvent, int64, error) {
	n := HistoryPageSize(size)
	// MaxBytes: the store stops at the event that takes the page past its
	// bytes, the one event past the page that tells there are more.
	q := swfd.HistoryQuery{RunID: runID, AfterID: after, Reverse: reverse, Limit: n + 1, MaxBytes: HistoryPageBytes}
	if reverse && after == 0 && upTo != 0 {
		q.AfterID = upTo + 1
	}
	evs, err := s.readHistory(ctx, q, upTo, waitCommits, 0)
	if err != nil {
		return nil, 0, err
	}
	page, next := cutPage(evs, n, upTo)
	if next == 0 && len(page) == 1 && len(evs) == 1 && len(page[0].Raw) > HistoryPageBytes {
		// One event alone over the budget: a store read stopped after
		// it, so whether any follows is asked of the store on its own.
		more, err := s.store.History(ctx, swfd.HistoryQuery{RunID: runID, AfterID: page[0].EventID, Reverse: reverse, Limit: 1})
		if err != nil {
			return nil, 0, err
		}
		if len(more) > 0 && (upTo == 0 || more[0].ID <= upTo) {
			next = page[0].EventID
		}
	}
	return page, next, nil
}

// StepHistoryPage is HistoryPage (without waitCommits) for a step of a run
// that has yet to commit, as if it had: pending are the step's events
// (history.Result.Events), which follow the run's stored ones. It gives
// each of them its JSON (Raw), which its commit then stores as it is. A
// poll reads its task's first page before the step that starts the task
// commits, so that a read that fails leaves the task unstarted.
func (s *Store) StepHistoryPage(ctx context.Context, runID string, pending []api.HistoryEvent, after, upTo int64, reverse bool, size int) ([]api.HistoryEvent, int64, error) {
	if len(pending) == 0 {
		return s.HistoryPage(ctx, runID, after, upTo, reverse, size, false)
	}
	for i := range pending {
		if len(pending[i].Raw) == 0 {
			b, err := pending[i].EncodeJSON()
			if err != nil {
				return nil, 0, fmt.Errorf("encode event: %w", err)
			}
			pending[i].Raw = b
		}
	}
	n := HistoryPageSize(size)
	last := pending[0].EventID - 1 // the last stored event
	// The step's events the page may show, in the page's order: those
	// after `after` ascending, those before `after` (or upTo+1)
	// descending.
	mine := make([]api.HistoryEvent, 0, len(pending))
	q := swfd.HistoryQuery{RunID: runID, AfterID: after, Reverse: reverse, Limit: n + 1}
	if !reverse {
		for _, ev := range pending {
			if ev.EventID > after {
				mine = append(mine, compact(ev))
			}
		}
	} else {
		if after == 0 && upTo != 0 {
			q.AfterID = upTo + 1
		}
		for i := len(pending) - 1; i >= 0; i-- {
			if q.AfterID == 0 || pending[i].EventID < q.AfterID {
				mine = append(mine, compact(pending[i]))
			}
		}
		if q.AfterID == 0 || q.AfterID > last+1 {
			q.AfterID = last + 1
		}
	}
	storedUpTo := last
	if upTo != 0 && upTo < last {
		storedUpTo = upTo
	}
	var evs []api.HistoryEvent
	switch {
	case !reverse && after < last, reverse && len(mine) < q.Limit && q.AfterID > 1:
		// MaxBytes, as in HistoryPage: the store stops at the event
		// that takes the page past its bytes, counting the step's
		// events before the stored ones (newest first); past that
		// event cutPage reads nothing.
		q.MaxBytes = HistoryPageBytes
		if reverse {
			q.Limit -= len(mine)
			for _, ev := range mine {
				q.MaxBytes -= len(ev.Raw)
			}
			// The step's events alone fill the page: one stored
			// event tells whether any follows.
			q.MaxBytes = max(q.MaxBytes, 1)
		}
		// Read forward, the stored events come with room for the
		// step's after them (when the cache has them), so that the page
		// is put together without a third slice.
		room := 0
		if !reverse {
			room = len(mine)
		}
		stored, err := s.readHistory(ctx, q, storedUpTo, false, room)
		if err != nil {
			return nil, 0, err
		}
		// Only the stored events, whatever the store has by now: the
		// step's version check decides whether they are the ones it
		// follows.
		k := 0
		for k < len(stored) && stored[k].EventID <= last {
			k++
		}
		stored = stored[:k]
		if reverse {
			evs = append(mine, stored...)
		} else {
			evs = append(stored, mine...)
		}
	default:
		evs = mine
	}
	page, next := cutPage(evs, n, upTo)
	if next == 0 && len(page) == 1 && len(page[0].Raw) > HistoryPageBytes {
		// One event alone over the budget: the store read may have
		// stopped after it, before events up to the step's. Event ids
		// have no gaps, so whether any follows is known from its id.
		end := pending[len(pending)-1].EventID
		if upTo != 0 && upTo < end {
			end = upTo
		}
		if id := page[0].EventID; reverse && id > 1 || !reverse && id < end {
			next = id
		}
	}
	return page, next, nil
}

// compact returns ev as RawHistoryEvent would read it back from its JSON.
func compact(ev api.HistoryEvent) api.HistoryEvent {
	return api.HistoryEvent{EventID: ev.EventID, EventType: ev.EventType, EventTimestamp: ev.EventTimestamp, Raw: ev.Raw}
}

// readHistory reads the events of q, from the run cache when it holds them
// (see HistoryPage for waitCommits and cachedHistory for upTo), else from
// the store. A read forward from the cache comes with room for that many
// more events past those it returns.
func (s *Store) readHistory(ctx context.Context, q swfd.HistoryQuery, upTo int64, waitCommits bool, room int) ([]api.HistoryEvent, error) {
	var evs []api.HistoryEvent
	var ok bool
	if waitCommits {
		unlock := s.Lock(q.RunID)
		evs, ok = cachedHistory(s.cache, q, upTo, room)
		unlock()
	} else {
		evs, ok = cachedHistory(s.cache, q, upTo, room)
	}
	if !ok {
		var err error
		if evs, err = s.storedHistory(ctx, q); err != nil {
			return nil, err
		}
		if !q.Reverse && q.AfterID == 0 && len(evs) < q.Limit && !overBudget(evs) {
			// The whole history: the cache may keep it (adopt).
			s.cache.adopt(q.RunID, evs)
		}
	}
	return evs, nil
}

// cutPage cuts a page of at most n events from evs, which it may use,
// hiding events past upTo (when not 0), and returns it with the position
// to resume from (0 at the end).
func cutPage(evs []api.HistoryEvent, n int, upTo int64) ([]api.HistoryEvent, int64) {
	// evs is the caller's own (cachedHistory and storedHistory make it):
	// the page is cut from it.
	var next int64
	bytes, k := 0, 0
	for i, e := range evs {
		if upTo != 0 && e.EventID > upTo {
			break
		}
		bytes += len(e.Raw)
		if i == n || (i > 0 && bytes > HistoryPageBytes) {
			next = evs[i-1].EventID
			break
		}
		k++
	}
	return evs[:k:k], next
}

// overBudget reports whether events take more than HistoryPageBytes: a
// store read with that MaxBytes may then have stopped before the end.
func overBudget(evs []api.HistoryEvent) bool {
	bytes := 0
	for _, e := range evs {
		bytes += len(e.Raw)
	}
	return bytes > HistoryPageBytes
}

// DefaultHistoryPageSize is how many events a page of history holds when
// the request gives no maximumPageSize (GetWorkflowExecutionHistory and
// PollForDecisionTask alike). The API reference calls the page size an
// upper limit only; an earlier edition said 100 events come in a page by
// default, and botoflow's integration suite, written against the real
// service, expects a 131-event history to come in more than one page. So
// 100, not the 1,000 that maximumPageSize allows.
const DefaultHistoryPageSize = 100

// HistoryPageBytes bounds the events of one history page: a page ends
// early, with a nextPageToken, before the event that would take its events
// past this many bytes of JSON (a page always holds at least one event).
// Without it one call for a run of 1,000 signals of 131 KB each answered
// 131 MB. Every SWF client follows nextPageToken, so a shorter page is safe.
const HistoryPageBytes = 1 << 20

// HistoryPageSize is the number of events a history page holds for a
// request's maximumPageSize: DefaultHistoryPageSize when it is 0, at most
// 1,000.
func HistoryPageSize(n int) int {
	if n <= 0 {
		return DefaultHistoryPageSize
	}
	return min(n, 1000)
}

// storedHistory reads events from the store. Stored events go back on the
// wire as they were written; only their id, type and time are decoded.
func (s *Store) storedHistory(ctx context.Context, q swfd.HistoryQuery) ([]api.HistoryEvent, error) {
	stored, err := s.store.History(ctx, q)
	if err != nil {
		return nil, err
	}
	evs := make([]api.HistoryEvent, 0, len(stored))
	for _, e := range stored {
		ev, err := api.RawHistoryEvent(e.JSON)
		if err != nil {
			return nil, fmt.Errorf("decode stored event %d of run %s: %w", e.ID, q.RunID, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// cachedHistory answers a history query from the run cache, as the store
// would, in a new slice (read forward, with room for that many more events
// past those it returns); false when the cache does not hold the run's
// history.
//
// upTo is the last event the caller will use (0: the latest; see
// runCache.knownHistory).
func cachedHistory(c *runCache, q swfd.HistoryQuery, upTo int64, room int) ([]api.HistoryEvent, bool) {
	all, ok := c.knownHistory(q.RunID, upTo)
	if !ok {
		return nil, false
	}
	// Event i (from 1) is all[i-1].
	limit := q.Limit
	if limit <= 0 {
		limit = len(all)
	}
	if !q.Reverse {
		from := int(min(max(q.AfterID, 0), int64(len(all))))
		to := min(from+limit, len(all))
		out := make([]api.HistoryEvent, 0, to-from+room)
		for i := from; i < to; i++ {
			out = append(out, all[i].event())
		}
		return out, true
	}
	end := len(all) // events before all[end]
	if q.AfterID > 0 {
		end = int(min(q.AfterID-1, int64(len(all))))
	}
	out := make([]api.HistoryEvent, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, all[i].event())
	}
	return out, true
}

// scheduledInput is what ActivityInput decodes of an ActivityTaskScheduled
// event: only the input, where decoding into a whole HistoryEvent would
// build every attribute.
type scheduledInput struct {
	Attributes *struct {
		Input *string `json:"input"`
	} `json:"activityTaskScheduledEventAttributes"`
}

// ActivityInput reads the input of an activity of r from its Scheduled
// event, for a step of r that starts the activity: the caller holds r's
// lock and reads the input before the step commits, so that a read that
// fails fails the step and leaves the task unstarted. A run whose history
// is short and not in the cache (read from the store: another node
// scheduled the activity) has its whole history read, and kept with the
// run once the step commits, so that its next decision task here needs no
// read.
func (s *Store) ActivityInput(ctx context.Context, r *Run, scheduledID int64) (*string, error) {
	runID := r.Row.RunID
	q := swfd.HistoryQuery{RunID: runID, AfterID: scheduledID - 1, Limit: 1}
	var raw []byte
	if all, ok := s.cache.knownHistory(runID, scheduledID); ok {
		if scheduledID < 1 || scheduledID > int64(len(all)) {
			return nil, nil
		}
		raw = all[scheduledID-1].raw
	} else if r.State.Open && r.State.NextEventID-1 <= maxCachedEvents {
		evs, err := s.storedHistory(ctx, swfd.HistoryQuery{RunID: runID})
		if err != nil {
			return nil, err
		}
		r.history = evs
		if int(scheduledID) > len(evs) || scheduledID < 1 {
			return nil, nil
		}
		raw = evs[scheduledID-1].Raw
	} else {
		evs, err := s.store.History(ctx, q)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		raw = evs[0].JSON
	}
	var ev scheduledInput
	if err := Decode(raw, &ev); err != nil {
		return nil, err
	}
	if a := ev.Attributes; a != nil {
		return a.Input, nil
	}
	return nil, nil
}
