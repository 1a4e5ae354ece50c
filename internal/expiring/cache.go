package expiring

import (
	"context"
	"sync"
	"time"
)

// Options configure a Cache. The zero value is valid.
type Options struct {
	// Margin returns how long before its expiry a value stops being served, given the lifetime
	// the value has left when it is stored, so that no caller receives a value about to expire.
	// Default: none; a value is served until it expires.
	Margin func(life time.Duration) time.Duration
	// MaxAge bounds how long a value is served after it is stored, whatever its expiry.
	// Default: no bound.
	MaxAge time.Duration
	// Clock replaces time.Now. Default: time.Now.
	Clock func() time.Time
	// Hooks report the cache's work, for metrics. Default: none.
	Hooks Hooks
}

// Hooks report what a Cache does; each may be nil. A hook runs on the goroutine of the call that
// caused it, Miss, Evicted and Size with the cache's lock held: a hook must be quick and must not
// call the cache.
type Hooks struct {
	// Hit: Lookup or Get served a stored value.
	Hit func()
	// Miss: Get found no live value and starts a fetch or waits on the one in flight. A Lookup
	// that finds nothing reports no miss: the Get that follows it does.
	Miss func()
	// Evicted: a value was dropped to keep the cache within its size.
	Evicted func()
	// Size: the number of stored values changed to n.
	Size func(n int)
}

// Cache keeps values of type V by key K until a margin before they expire. It is safe for
// concurrent use. Its lock is held only to read and update its maps, never during a fetch: a hit
// never waits on another key's miss, and fetches for different keys run in parallel, while the
// callers of one key share a single fetch. A failed fetch is returned to its callers and never
// stored.
type Cache[K comparable, V any] struct {
	maxSize int
	expiry  func(V) time.Time
	margin  func(time.Duration) time.Duration
	maxAge  time.Duration
	now     func() time.Time
	hooks   Hooks

	mu       sync.Mutex
	entries  map[K]*entry[K, V]
	lru      entry[K, V] // the sentinel of a ring: lru.next is the most recently used entry
	inflight map[K]*call[V]
}

// entry is a stored value, linked into the cache's LRU ring. The ring is intrusive, rather than a
// container/list, so that a hit needs no type assertion and a store one allocation.
type entry[K comparable, V any] struct {
	key        K
	value      V
	deadline   time.Time // when the value stops being served; carries a monotonic reading
	prev, next *entry[K, V]
}

// call is a fetch in flight; every caller for its key waits for it.
type call[V any] struct {
	done  chan struct{} // closed once value and err are set
	value V
	err   error
}

// New returns an empty cache that keeps at most maxSize values and serves each until its
// expiry(v) less opts.Margin. With maxSize zero or less it keeps none: callers that ask while a
// fetch is in flight still share it, but every later Get fetches again. opts may be nil.
func New[K comparable, V any](maxSize int, expiry func(V) time.Time, opts *Options) *Cache[K, V] {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	c := &Cache[K, V]{
		maxSize: maxSize, expiry: expiry, margin: o.Margin, maxAge: o.MaxAge, now: o.Clock, hooks: o.Hooks,
		entries: map[K]*entry[K, V]{}, inflight: map[K]*call[V]{},
	}
	c.lru.prev, c.lru.next = &c.lru, &c.lru
	return c
}

// Lookup returns the stored value for key, if there is a live one. It is Get's fast path, for
// callers whose fetch is a closure: a hit builds no closure and allocates nothing.
func (c *Cache[K, V]) Lookup(key K) (V, bool) {
	c.mu.Lock()
	e := c.liveLocked(key)
	if e == nil {
		c.mu.Unlock()
		var zero V
		return zero, false
	}
	v := e.value
	c.mu.Unlock()
	if c.hooks.Hit != nil {
		c.hooks.Hit()
	}
	return v, true
}

// Get returns the stored value for key, or the result of fetch. Concurrent callers for one key
// share a single fetch. The fetch belongs to all of them, not to the first: it runs detached from
// the first caller's cancellation (keeping ctx's values; bound it with a timeout of its own), and
// each caller waits until the fetch ends or its own ctx is done.
func (c *Cache[K, V]) Get(ctx context.Context, key K, fetch func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	if e := c.liveLocked(key); e != nil {
		v := e.value
		c.mu.Unlock()
		if c.hooks.Hit != nil {
			c.hooks.Hit()
		}
		return v, nil
	}
	if c.hooks.Miss != nil {
		c.hooks.Miss()
	}
	cl, waiting := c.inflight[key]
	if !waiting {
		cl = &call[V]{done: make(chan struct{})}
		c.inflight[key] = cl
	}
	c.mu.Unlock()
	if !waiting {
		go c.fill(context.WithoutCancel(ctx), key, cl, fetch)
	}
	select {
	case <-cl.done:
		return cl.value, cl.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// fill runs a fetch and stores its value, unless it failed or Invalidate forgot the call meanwhile.
func (c *Cache[K, V]) fill(ctx context.Context, key K, cl *call[V], fetch func(context.Context) (V, error)) {
	v, err := fetch(ctx)
	c.mu.Lock()
	cl.value, cl.err = v, err
	if c.inflight[key] == cl {
		delete(c.inflight, key)
		if err == nil {
			c.storeLocked(key, v)
		}
	}
	c.mu.Unlock()
	close(cl.done)
}

// Invalidate drops the value for key and forgets its fetch in flight, if any: the next Get
// fetches anew. Callers already waiting on the forgotten fetch still receive its result, but it
// is not stored.
func (c *Cache[K, V]) Invalidate(key K) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.removeLocked(e)
	}
	delete(c.inflight, key)
	c.mu.Unlock()
}

// Len returns the number of stored values, live or not yet dropped.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// liveLocked returns key's entry if it may still be served, making it the most recently used,
// or nil; an entry past its deadline is dropped.
func (c *Cache[K, V]) liveLocked(key K) *entry[K, V] {
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	if !c.now().Before(e.deadline) {
		c.removeLocked(e)
		return nil
	}
	if c.lru.next != e {
		e.unlink()
		c.pushFrontLocked(e)
	}
	return e
}

// storeLocked keeps v until its expiry less the margin, at most maxAge, and evicts the least
// recently used values beyond maxSize. A value with no time left is not kept.
func (c *Cache[K, V]) storeLocked(key K, v V) {
	if c.maxSize <= 0 {
		return
	}
	now := c.now()
	keep := c.expiry(v).Sub(now)
	if c.margin != nil {
		keep -= c.margin(keep)
	}
	if c.maxAge > 0 && keep > c.maxAge {
		keep = c.maxAge
	}
	if keep <= 0 {
		return
	}
	if e, ok := c.entries[key]; ok {
		e.value, e.deadline = v, now.Add(keep)
		e.unlink()
		c.pushFrontLocked(e)
		return
	}
	e := &entry[K, V]{key: key, value: v, deadline: now.Add(keep)}
	c.entries[key] = e
	c.pushFrontLocked(e)
	for len(c.entries) > c.maxSize {
		c.removeLocked(c.lru.prev)
		if c.hooks.Evicted != nil {
			c.hooks.Evicted()
		}
	}
	c.sizeChangedLocked()
}

func (c *Cache[K, V]) removeLocked(e *entry[K, V]) {
	delete(c.entries, e.key)
	e.unlink()
	c.sizeChangedLocked()
}

func (c *Cache[K, V]) sizeChangedLocked() {
	if c.hooks.Size != nil {
		c.hooks.Size(len(c.entries))
	}
}

func (c *Cache[K, V]) pushFrontLocked(e *entry[K, V]) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

func (e *entry[K, V]) unlink() {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}
