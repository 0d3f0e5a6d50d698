package service

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// runCache keeps the latest committed state of recently used runs, so that
// a call on a run costs no read and no decoding. Bounded by entries, least
// recently used first out.
//
// On a single node every commit goes through this process: the cached
// version is always the stored one. In a cluster (guarded) it is the state
// this node last committed, which another node may have moved on from:
// steps decided on it commit only if the stored version still matches
// (see Service.onRun), news from other nodes evicts the runs they changed,
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

	eventBudget int // bytes of events the cache may hold
	eventBytes  int // bytes of events it holds

	guarded bool // a cluster node's cache: entries may be behind the store
}

type cachedRun struct {
	row swfd.Execution // without State bytes
	st  *history.State
	// events is the run's whole history, in order from event 1, or nil
	// when the cache does not have it. It only grows: readers keep the
	// slice they were given while later events are appended past it.
	events []api.HistoryEvent // each with Raw, EventID, EventType and EventTimestamp
	bytes  int                // the events' JSON bytes
}

// Bounds of the history kept in the run cache.
const (
	maxCachedEvents    = 256
	cachedEventsBudget = 64 << 20
)

func newRunCache(max int) *runCache {
	return &runCache{max: max, ll: list.New(), m: map[string]*list.Element{}, eventBudget: cachedEventsBudget}
}

// get returns a private copy of a cached run.
func (c *runCache) get(runID string) (*run, bool) {
	cr, ok := c.lookup(runID, true)
	if !ok {
		return nil, false
	}
	return &run{row: cr.row, st: cr.st.Clone(), cached: true}, true
}

// history returns the cached history of a run: every event it has, in
// order from event 1; false when the cache does not have it.
func (c *runCache) history(runID string) ([]api.HistoryEvent, bool) {
	cr, ok := c.lookup(runID, false)
	if !ok || cr.events == nil {
		return nil, false
	}
	return cr.events, true
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
	if touch {
		c.ll.MoveToFront(e)
	}
	return e.Value.(*cachedRun), true
}

// put records the committed state of a run after a step that appended
// events (create: the step began the run), each carrying its stored JSON in
// Raw. st must not change afterwards.
func (c *runCache) put(row swfd.Execution, st *history.State, events []api.HistoryEvent, create bool) {
	if c == nil {
		return
	}
	row.State = nil
	c.mu.Lock()
	defer c.mu.Unlock()
	cr := &cachedRun{row: row, st: st}
	var prev *cachedRun
	el, ok := c.m[row.RunID]
	if ok {
		prev = el.Value.(*cachedRun)
		el.Value = cr
		c.ll.MoveToFront(el)
	} else {
		c.m[row.RunID] = c.ll.PushFront(cr)
	}
	// The history: new with the run, or the cached one extended. The
	// entry replaced gives its bytes back first.
	var base []api.HistoryEvent
	baseBytes := 0
	if prev != nil {
		c.eventBytes -= prev.bytes
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
			cr.events = append(base, events...)
			if cr.events == nil {
				cr.events = []api.HistoryEvent{}
			}
			cr.bytes = n
			c.eventBytes += n
		}
	}
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.remove(old)
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
	cp.events = append([]api.HistoryEvent{}, events[:n]...)
	cp.bytes = bytes
	el.Value = &cp
	c.eventBytes += bytes
}

func (c *runCache) remove(e *list.Element) {
	cr := e.Value.(*cachedRun)
	c.eventBytes -= cr.bytes
	c.ll.Remove(e)
	delete(c.m, cr.row.RunID)
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

// registryCache keeps domains and types read from the store; every registry
// write of the service clears it. On a single node that keeps it exact. In
// a cluster a registry write also tells the other nodes to clear theirs,
// and entries expire after ttl in case that news is lost: a change made on
// another node is seen once the news arrives (milliseconds), at worst after
// ttl.
type registryCache struct {
	mu      sync.Mutex
	ttl     time.Duration // 0: entries never expire
	domains map[string]cachedEntry[swfd.Domain]
	types   map[typeCacheKey]cachedEntry[swfd.TypeRecord]
}

type cachedEntry[T any] struct {
	v  T
	at time.Time // when read from the store (monotonic)
}

// clusterRegistryTTL bounds how long a node of a cluster trusts a cached
// domain or type.
const clusterRegistryTTL = 2 * time.Second

type typeCacheKey struct {
	kind                  swfd.TypeKind
	domain, name, version string
}

func newRegistryCache(ttl time.Duration) *registryCache {
	return &registryCache{ttl: ttl, domains: map[string]cachedEntry[swfd.Domain]{}, types: map[typeCacheKey]cachedEntry[swfd.TypeRecord]{}}
}

func (c *registryCache) fresh(at time.Time) bool {
	return c.ttl == 0 || time.Since(at) < c.ttl
}

func (c *registryCache) domain(name string) (swfd.Domain, bool) {
	if c == nil {
		return swfd.Domain{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.domains[name]
	if !ok || !c.fresh(e.at) {
		return swfd.Domain{}, false
	}
	return e.v, true
}

func (c *registryCache) putDomain(d swfd.Domain) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.domains) > 1000 {
		clear(c.domains)
	}
	c.domains[d.Name] = cachedEntry[swfd.Domain]{d, time.Now()}
}

func (c *registryCache) typ(k typeCacheKey) (swfd.TypeRecord, bool) {
	if c == nil {
		return swfd.TypeRecord{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.types[k]
	if !ok || !c.fresh(e.at) {
		return swfd.TypeRecord{}, false
	}
	return e.v, true
}

func (c *registryCache) putType(t swfd.TypeRecord) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.types) > 10000 {
		clear(c.types)
	}
	c.types[typeCacheKey{t.Kind, t.Domain, t.Name, t.Version}] = cachedEntry[swfd.TypeRecord]{t, time.Now()}
}

// clear forgets everything (after any registry write).
func (c *registryCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.domains)
	clear(c.types)
}

// cachingStore serves registry reads from a registryCache and clears it on
// every registry write (then calls written, if set: a cluster tells the
// other nodes).
type cachingStore struct {
	swfd.Store
	cache   *registryCache
	written func()
}

// wrote clears the cache after a registry write.
func (c *cachingStore) wrote() {
	c.cache.clear()
	if c.written != nil {
		c.written()
	}
}

func (c *cachingStore) GetDomain(ctx context.Context, name string) (swfd.Domain, error) {
	if d, ok := c.cache.domain(name); ok {
		return d, nil
	}
	d, err := c.Store.GetDomain(ctx, name)
	if err == nil {
		c.cache.putDomain(d)
	}
	return d, err
}

func (c *cachingStore) GetType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	if t, ok := c.cache.typ(typeCacheKey{kind, domain, name, version}); ok {
		return t, nil
	}
	t, err := c.Store.GetType(ctx, kind, domain, name, version)
	if err == nil {
		c.cache.putType(t)
	}
	return t, err
}

func (c *cachingStore) CreateDomain(ctx context.Context, d swfd.Domain, max int) error {
	defer c.wrote()
	return c.Store.CreateDomain(ctx, d, max)
}

func (c *cachingStore) SetDomainStatus(ctx context.Context, name, status string, at time.Time) error {
	defer c.wrote()
	return c.Store.SetDomainStatus(ctx, name, status, at)
}

func (c *cachingStore) SetDomainTags(ctx context.Context, name string, tags []swfd.Tag) error {
	defer c.wrote()
	return c.Store.SetDomainTags(ctx, name, tags)
}

func (c *cachingStore) CreateType(ctx context.Context, t swfd.TypeRecord, max int) error {
	defer c.wrote()
	return c.Store.CreateType(ctx, t, max)
}

func (c *cachingStore) SetTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string, at time.Time) error {
	defer c.wrote()
	return c.Store.SetTypeStatus(ctx, kind, domain, name, version, status, at)
}

func (c *cachingStore) DeleteType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) error {
	defer c.wrote()
	return c.Store.DeleteType(ctx, kind, domain, name, version)
}
