package runs

import (
	"container/list"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// runCache keeps the latest committed state of recently used runs, so that
// a call on a run costs no read and no decoding. Bounded by entries and by
// bytes (an estimate of the memory each entry holds, its state's and its
// history's, made whenever the entry is replaced), least recently used
// first out. A run not in it is read from the store, so what it evicts
// changes nothing but the cost of the next call on the run.
//
// On a single node every commit goes through this process: the cached
// version is always the stored one. In a cluster (guarded) it is the state
// this node last committed, which another node may have moved on from:
// steps decided on it commit only if the stored version still matches
// (see Store.Step), news from other nodes evicts the runs they changed,
// and history is served from it only up to events it is known to hold.
//
// For open runs it began itself (so that it saw every event), it also keeps
// the whole history, up to maxEvents events per run and eventBudget bytes in
// all: a decision task's page then comes from memory instead of the store.
type runCache struct {
	mu  sync.Mutex
	max int
	ll  *list.List
	m   map[string]*list.Element

	maxBytes int // the estimated bytes the entries may hold in all
	size     int // the estimated bytes they hold (cachedRun.size)

	eventBudget int // bytes of events' JSON the cache may hold
	eventBytes  int // bytes of events' JSON it holds

	guarded bool // a cluster node's cache: entries may be behind the store

	// purged is each domain's latest purge cutoff (forgetClosed): its
	// closed runs that closed before it are purged, or about to be, and
	// are never answered from the cache.
	purged map[string]time.Time
}

type cachedRun struct {
	row swfd.Execution // without State bytes
	st  *history.State
	// memo encodes the run's states (nil if none has been worth one): it
	// goes from each entry of the run to the next, and goes with the
	// entry when the run leaves the cache.
	memo *history.JSONMemo
	// events is the run's whole history, in order from event 1, or nil
	// when the cache does not have it. It only grows: readers keep the
	// slice they were given while later events are appended past it.
	events []cachedEvent
	bytes  int // the events' JSON bytes
	size   int // estimated bytes of memory the entry holds (see cachesize.go)
}

// cachedEvent is what the cache keeps of an event: its stored JSON and the
// members read from it without decoding it (RawHistoryEvent's). An
// api.HistoryEvent is over 500 bytes, nearly all of them its 54 attribute
// pointers; this is a seventh of that, and a run's history grows by
// appending, which copies it.
type cachedEvent struct {
	id   int64
	typ  api.EventType
	time api.Time
	raw  []byte
}

func compactEvent(ev *api.HistoryEvent) cachedEvent {
	return cachedEvent{id: ev.EventID, typ: ev.EventType, time: ev.EventTimestamp, raw: ev.Raw}
}

// event returns the event as RawHistoryEvent would: its stored JSON in
// Raw, with its id, type and time.
func (e *cachedEvent) event() api.HistoryEvent {
	return api.HistoryEvent{EventID: e.id, EventType: e.typ, EventTimestamp: e.time, Raw: e.raw}
}

// Bounds of the history kept in the run cache: events per run; and the
// share of the cache's bytes that histories may hold (a quarter: runs'
// states are what spares most reads).
const (
	maxCachedEvents  = 256
	eventBudgetShare = 4
	maxEntryShare    = 16 // an entry over maxBytes/maxEntryShare is not kept
)

// DefaultCacheBytes bounds the memory the run cache holds (as estimated,
// the states and histories of its runs) when Options.CacheBytes is not
// set.
const DefaultCacheBytes = 256 << 20

// newRunCache returns a cache of at most max runs holding at most maxBytes
// (estimated) in all.
func newRunCache(max, maxBytes int) *runCache {
	return &runCache{max: max, ll: list.New(), m: map[string]*list.Element{},
		maxBytes: maxBytes, eventBudget: maxBytes / eventBudgetShare}
}

// get returns a private copy of a cached run.
func (c *runCache) get(runID string) (*Run, bool) {
	cr, ok := c.lookup(runID, true)
	if !ok {
		return nil, false
	}
	return &Run{Row: cr.row, State: cr.st.Clone(), cached: true, memo: cr.memo}, true
}

// history returns the cached history of a run: every event it has, in
// order from event 1; false when the cache does not have it.
func (c *runCache) history(runID string) ([]cachedEvent, bool) {
	cr, ok := c.lookup(runID, false)
	if !ok || cr.events == nil {
		return nil, false
	}
	return cr.events, true
}

// knownHistory is history for a caller that will use the events up to
// upTo (0: the latest). A cluster node's cache may lack events other nodes
// added since, so there it answers only for a known last event it holds
// (events never change).
func (c *runCache) knownHistory(runID string, upTo int64) ([]cachedEvent, bool) {
	all, ok := c.history(runID)
	if !ok || c.guarded && (upTo == 0 || int64(len(all)) < upTo) {
		return nil, false
	}
	return all, true
}

// lookup returns a run's entry (touch: as recently used). The entry must
// not be changed: put replaces entries whole.
func (c *runCache) lookup(runID string, touch bool) (*cachedRun, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[runID]
	if !ok {
		return nil, false
	}
	if row := &e.Value.(*cachedRun).row; !row.Open {
		if cutoff, ok := c.purged[row.Domain]; ok && row.CloseTime.Before(cutoff) {
			c.remove(e)
			return nil, false
		}
	}
	if touch {
		c.ll.MoveToFront(e)
	}
	return e.Value.(*cachedRun), true
}

// put records the committed state of a run after a step that appended
// events (create: the step began the run), each carrying its stored JSON in
// Raw (the cache keeps only that, with the event's id, type and time), and
// the memo its state was encoded with (nil if none). st must not change
// afterwards.
func (c *runCache) put(row swfd.Execution, st *history.State, events []api.HistoryEvent, create bool, memo *history.JSONMemo) {
	if c == nil {
		return
	}
	row.State = nil
	// The estimate of the state is made outside the lock: st is the
	// caller's, and no longer changes.
	fixed := entryOverhead + rowSize(&row) + stateSize(st) + memo.Size()
	c.mu.Lock()
	defer c.mu.Unlock()
	cr := &cachedRun{row: row, st: st, memo: memo}
	var prev *cachedRun
	el, ok := c.m[row.RunID]
	if ok {
		prev = el.Value.(*cachedRun)
		el.Value = cr
		c.ll.MoveToFront(el)
	} else {
		el = c.ll.PushFront(cr)
		c.m[row.RunID] = el
	}
	// The history: new with the run, or the cached one extended. The
	// entry replaced gives its bytes back first.
	var base []cachedEvent
	baseBytes := 0
	if prev != nil {
		c.eventBytes -= prev.bytes
		c.size -= prev.size
	}
	keep := row.Open
	switch {
	case create:
	case prev != nil && prev.events != nil && prev.row.Version == row.Version-1:
		// The cached history is the one this step extends.
		base, baseBytes = prev.events, prev.bytes
	default:
		keep = false
	}
	if keep && len(base)+len(events) <= maxCachedEvents {
		n := baseBytes
		for _, ev := range events {
			n += len(ev.Raw)
		}
		if c.eventBytes+n <= c.eventBudget {
			cr.events = base
			for i := range events {
				cr.events = append(cr.events, compactEvent(&events[i]))
			}
			if cr.events == nil {
				cr.events = []cachedEvent{}
			}
			cr.bytes = n
			c.eventBytes += n
		}
	}
	cr.size = fixed + historySize(cr.events, cr.bytes)
	c.size += cr.size
	if cr.size > c.maxBytes/maxEntryShare {
		// One run alone would take too much of the budget: it is read
		// from the store each time instead of pushing out many others.
		c.remove(el)
	}
	c.trim()
}

// trim evicts the least recently used runs until the cache is within its
// bounds.
func (c *runCache) trim() {
	for c.ll.Len() > c.max || c.size > c.maxBytes {
		c.remove(c.ll.Back())
	}
}

// wantsHistory reports whether a run is cached without its history, at a
// length the cache would keep: a read of the whole history may then be
// given to it (adopt), sparing later steps their reads.
func (c *runCache) wantsHistory(runID string) bool {
	cr, ok := c.lookup(runID, false)
	return ok && cr.events == nil && cr.row.Open && cr.st.NextEventID-1 <= maxCachedEvents
}

// adopt gives a cached run that has no history the events read from the
// store, from event 1: those of its cached state (the first
// NextEventID-1), if the read has them all and they fit the cache's bounds.
// Stored events never change, so the read may be of any time after the
// state was committed.
func (c *runCache) adopt(runID string, events []api.HistoryEvent) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[runID]
	if !ok {
		return
	}
	cr := el.Value.(*cachedRun)
	n := int(cr.st.NextEventID - 1)
	if cr.events != nil || !cr.row.Open || n > maxCachedEvents || len(events) < n {
		return
	}
	bytes := 0
	for i, ev := range events[:n] {
		if ev.EventID != int64(i+1) {
			return
		}
		bytes += len(ev.Raw)
	}
	if c.eventBytes+bytes > c.eventBudget {
		return
	}
	// Entries are replaced whole, never changed: readers may hold this one.
	cp := *cr
	cp.events = make([]cachedEvent, n)
	for i := range events[:n] {
		cp.events[i] = compactEvent(&events[i])
	}
	cp.bytes = bytes
	added := historySize(cp.events, bytes)
	if cp.size+added > c.maxBytes/maxEntryShare {
		return
	}
	cp.size += added
	el.Value = &cp
	c.eventBytes += bytes
	c.size += added
	c.trim()
}

func (c *runCache) remove(e *list.Element) {
	cr := e.Value.(*cachedRun)
	c.eventBytes -= cr.bytes
	c.size -= cr.size
	c.ll.Remove(e)
	delete(c.m, cr.row.RunID)
}

// len returns how many runs the cache holds, and their estimated bytes.
func (c *runCache) len() (runs, bytes int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len(), c.size
}

// forgetClosed removes the closed runs of the domains in cutoffs that
// closed before their domain's cutoff, in one pass over the cache, and from
// then on answers none such (nor any such a later read puts back) from the
// cache: a purge may delete them at any moment after. A domain's cutoff
// only moves forward.
func (c *runCache) forgetClosed(cutoffs map[string]time.Time) {
	if c == nil || len(cutoffs) == 0 {
		return
	}
	c.purging(cutoffs)
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.ll.Front(); e != nil; {
		next := e.Next()
		row := &e.Value.(*cachedRun).row
		if cutoff, ok := cutoffs[row.Domain]; ok && !row.Open && row.CloseTime.Before(cutoff) {
			c.remove(e)
		}
		e = next
	}
}

// purging records the domains' purge cutoffs (each only moves forward):
// lookup answers no closed run that closed before its domain's.
func (c *runCache) purging(cutoffs map[string]time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.purged == nil {
		c.purged = map[string]time.Time{}
	}
	for d, cutoff := range cutoffs {
		if prev, ok := c.purged[d]; !ok || cutoff.After(prev) {
			c.purged[d] = cutoff
		}
	}
}

func (c *runCache) evict(runID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[runID]; ok {
		c.remove(e)
	}
}
