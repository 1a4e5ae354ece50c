package acr

import (
	"context"
	"sync"
	"time"
)

// CacheOptions configure a Cache. The zero value is valid.
type CacheOptions struct {
	// Clock replaces time.Now. Default: time.Now.
	Clock func() time.Time
	// RefreshBefore is how long before its exp a refresh token is replaced; for a token that lives
	// less than twice as long, half its lifetime is used instead. Default: 5 minutes.
	RefreshBefore time.Duration
	// MaxEntries bounds the number of cached refresh tokens; beyond it, expired entries go first,
	// then arbitrary ones. Default: 1000.
	MaxEntries int
}

// Cache holds ACR refresh tokens per principal and registry. Share one Cache between the
// Keychains of a controller, so that objects using the same identity share refresh tokens. It is
// safe for concurrent use; fetches for different keys run in parallel and there is at most one
// exchange in flight per key. Failures are not cached.
type Cache struct {
	now           func() time.Time
	refreshBefore time.Duration
	maxEntries    int

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
}

// cacheKey is a principal ("tenant/object ID" from its Entra token) and a registry host.
type cacheKey struct{ principal, registry string }

type cacheEntry struct {
	done      chan struct{} // closed when the fetch ends
	token     RefreshToken
	err       error
	refreshAt time.Time
}

// NewCache returns an empty cache.
func NewCache(opts *CacheOptions) *Cache {
	o := CacheOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = 5 * time.Minute
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 1000
	}
	return &Cache{now: o.Clock, refreshBefore: o.RefreshBefore, maxEntries: o.MaxEntries, entries: map[cacheKey]*cacheEntry{}}
}

// get returns the cached token for key, or runs fetch once for all callers that ask meanwhile.
// The fetch runs detached from any one caller's cancellation (it keeps ctx's values), so a caller
// that gives up does not fail the others; each caller waits until its own ctx ends.
func (c *Cache) get(ctx context.Context, key cacheKey, fetch func(context.Context) (RefreshToken, error)) (RefreshToken, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && isDone(e) && (e.err != nil || !c.now().Before(e.refreshAt)) {
		ok = false
	}
	if !ok {
		e = &cacheEntry{done: make(chan struct{})}
		c.entries[key] = e
		c.evictLocked()
		go c.fill(context.WithoutCancel(ctx), key, e, fetch)
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.token, e.err
	case <-ctx.Done():
		return RefreshToken{}, ctx.Err()
	}
}

func (c *Cache) fill(ctx context.Context, key cacheKey, e *cacheEntry, fetch func(context.Context) (RefreshToken, error)) {
	token, err := fetch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	e.token, e.err = token, err
	if err != nil {
		if c.entries[key] == e {
			delete(c.entries, key)
		}
	} else {
		margin := c.refreshBefore
		if half := token.ExpiresOn.Sub(c.now()) / 2; half < margin {
			margin = half
		}
		e.refreshAt = token.ExpiresOn.Add(-margin)
	}
	close(e.done)
}

// invalidate drops key, so that the next get exchanges again.
func (c *Cache) invalidate(key cacheKey) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// evictLocked keeps the cache within maxEntries, dropping stale entries first.
func (c *Cache) evictLocked() {
	if len(c.entries) <= c.maxEntries {
		return
	}
	now := c.now()
	for k, e := range c.entries {
		if isDone(e) && (e.err != nil || !now.Before(e.refreshAt)) {
			delete(c.entries, k)
		}
	}
	for k, e := range c.entries {
		if len(c.entries) <= c.maxEntries {
			return
		}
		if isDone(e) {
			delete(c.entries, k)
		}
	}
}

func isDone(e *cacheEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Len returns the number of cached and in-flight entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
