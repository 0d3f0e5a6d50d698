package registry

import (
	"context"
	"sync"
	"time"

	"github.com/swfd/swfd"
)

// cache keeps domains and types read from the store; every registry write
// through the Cache clears it. On a single node that keeps it exact. In
// a cluster a registry write also tells the other nodes to clear theirs,
// and entries expire after ttl in case that news is lost: a change made on
// another node is seen once the news arrives (milliseconds), at worst after
// ttl.
//
// A read of the store that began before a clear may return what the store
// held before the write that cleared: gen counts the clears, a reader takes
// it before reading the store, and its answer is kept only if no clear came
// in between.
type cache struct {
	mu      sync.Mutex
	ttl     time.Duration // 0: entries never expire
	gen     uint64        // clears so far
	domains map[string]cachedEntry[swfd.Domain]
	types   map[typeCacheKey]cachedEntry[swfd.TypeRecord]
}

type cachedEntry[T any] struct {
	v  T
	at time.Time // when read from the store (monotonic)
}

type typeCacheKey struct {
	kind                  swfd.TypeKind
	domain, name, version string
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, domains: map[string]cachedEntry[swfd.Domain]{}, types: map[typeCacheKey]cachedEntry[swfd.TypeRecord]{}}
}

func (c *cache) fresh(at time.Time) bool {
	return c.ttl == 0 || time.Since(at) < c.ttl
}

func (c *cache) domain(name string) (swfd.Domain, bool) {
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

// generation returns the count of clears, to give to a put after reading
// the store.
func (c *cache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// putDomain keeps d, read from the store after generation returned gen,
// unless the cache was cleared since.
func (c *cache) putDomain(d swfd.Domain, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.domains) > 1000 {
		clear(c.domains)
	}
	c.domains[d.Name] = cachedEntry[swfd.Domain]{d, time.Now()}
}

func (c *cache) typ(k typeCacheKey) (swfd.TypeRecord, bool) {
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

// putType keeps t, read from the store after generation returned gen,
// unless the cache was cleared since.
func (c *cache) putType(t swfd.TypeRecord, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.types) > 10000 {
		clear(c.types)
	}
	c.types[typeCacheKey{t.Kind, t.Domain, t.Name, t.Version}] = cachedEntry[swfd.TypeRecord]{t, time.Now()}
}

// clear forgets everything (after any registry write).
func (c *cache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.domains)
	clear(c.types)
}

// Cache is a swfd.Store that serves domain and type reads from memory and
// forgets them on every registry write made through it (then calls the
// written function it was given: a cluster tells its other nodes).
// Everything else passes through to the store it wraps. Give it to the
// Registry, so that registry writes go through it, and read types through
// it elsewhere.
type Cache struct {
	swfd.Store
	cache   *cache
	written func()
}

// NewCache returns a Cache over store. ttl bounds how long a cached domain
// or type is trusted (0: until the next write through the Cache, right for
// a single node, which sees every write); written, if not nil, is called
// after each registry write.
func NewCache(store swfd.Store, ttl time.Duration, written func()) *Cache {
	return &Cache{Store: store, cache: newCache(ttl), written: written}
}

// Clear forgets every cached domain and type (another node changed one).
func (c *Cache) Clear() { c.cache.clear() }

// wrote clears the cache after a registry write.
func (c *Cache) wrote() {
	c.cache.clear()
	if c.written != nil {
		c.written()
	}
}

// GetDomain serves a domain from the cache, reading it on a miss.
func (c *Cache) GetDomain(ctx context.Context, name string) (swfd.Domain, error) {
	if d, ok := c.cache.domain(name); ok {
		return d, nil
	}
	gen := c.cache.generation()
	d, err := c.Store.GetDomain(ctx, name)
	if err == nil {
		c.cache.putDomain(d, gen)
	}
	return d, err
}

// GetType serves a type from the cache, reading it on a miss.
func (c *Cache) GetType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	if t, ok := c.cache.typ(typeCacheKey{kind, domain, name, version}); ok {
		return t, nil
	}
	gen := c.cache.generation()
	t, err := c.Store.GetType(ctx, kind, domain, name, version)
	if err == nil {
		c.cache.putType(t, gen)
	}
	return t, err
}

// CreateDomain creates a domain and clears the cache.
func (c *Cache) CreateDomain(ctx context.Context, d swfd.Domain, max int) error {
	defer c.wrote()
	return c.Store.CreateDomain(ctx, d, max)
}

// SetDomainStatus changes a domain's status and clears the cache.
func (c *Cache) SetDomainStatus(ctx context.Context, name, status string, at time.Time) error {
	defer c.wrote()
	return c.Store.SetDomainStatus(ctx, name, status, at)
}

// UpdateDomainTags changes a domain's tags and clears the cache.
func (c *Cache) UpdateDomainTags(ctx context.Context, name string, add []swfd.Tag, remove []string, maxTags int) error {
	defer c.wrote()
	return c.Store.UpdateDomainTags(ctx, name, add, remove, maxTags)
}

// CreateType creates a type and clears the cache.
func (c *Cache) CreateType(ctx context.Context, t swfd.TypeRecord, max int) error {
	defer c.wrote()
	return c.Store.CreateType(ctx, t, max)
}

// SetTypeStatus changes a type's status and clears the cache.
func (c *Cache) SetTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string, at time.Time) error {
	defer c.wrote()
	return c.Store.SetTypeStatus(ctx, kind, domain, name, version, status, at)
}

// DeleteType deletes a type and clears the cache.
func (c *Cache) DeleteType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) error {
	defer c.wrote()
	return c.Store.DeleteType(ctx, kind, domain, name, version)
}
