package entra

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// cacheKey names one token: an identity (its kind, tenant, client, cloud, proxy and, for object
// level, namespace and service account, hashed) and the scopes it is for.
type cacheKey struct {
	identity string
	scopes   string
}

type cacheEntry struct {
	key      cacheKey
	token    azcore.AccessToken
	deadline time.Time // when the entry stops being served; carries a monotonic reading
}

// call is a fetch in flight; every caller for its key waits for it.
type call struct {
	done  chan struct{}
	token azcore.AccessToken
	err   error
}

// tokenCache is an LRU of tokens. Its lock is held only to read and update maps, never during a
// fetch, so a hit never waits on another key's miss and misses for different keys run in
// parallel.
type tokenCache struct {
	maxSize     int // 0 disables storing; fetches are still shared while in flight
	maxDuration time.Duration
	now         func() time.Time
	metrics     *Metrics

	mu       sync.Mutex
	entries  map[cacheKey]*list.Element // of *cacheEntry
	lru      *list.List                 // front: most recently used
	inflight map[cacheKey]*call
}

func newTokenCache(maxSize int, maxDuration time.Duration, m *Metrics) *tokenCache {
	return &tokenCache{
		maxSize: maxSize, maxDuration: maxDuration, now: time.Now, metrics: m,
		entries: map[cacheKey]*list.Element{}, lru: list.New(), inflight: map[cacheKey]*call{},
	}
}

// lookup returns the cached token for key, if there is a live one. It is get's fast path, kept
// apart so that a hit builds no fetch closure and allocates nothing.
func (c *tokenCache) lookup(key cacheKey) (azcore.AccessToken, bool) {
	c.mu.Lock()
	el, ok := c.entries[key]
	if !ok {
		c.mu.Unlock()
		return azcore.AccessToken{}, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.deadline) {
		c.mu.Unlock()
		return azcore.AccessToken{}, false
	}
	if c.lru.Front() != el {
		c.lru.MoveToFront(el)
	}
	token := e.token
	c.mu.Unlock()
	c.metrics.hit()
	return token, true
}

// get returns the cached token for key, or fetches one. Concurrent callers for one key share a
// single fetch. A failed fetch is returned to its callers and never stored.
func (c *tokenCache) get(ctx context.Context, key cacheKey, fetch func(context.Context) (azcore.AccessToken, error)) (azcore.AccessToken, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if c.now().Before(e.deadline) {
			if c.lru.Front() != el {
				c.lru.MoveToFront(el)
			}
			token := e.token
			c.mu.Unlock()
			c.metrics.hit()
			return token, nil
		}
		c.removeLocked(el)
	}
	c.metrics.miss()
	if cl, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		return cl.wait(ctx)
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[key] = cl
	c.mu.Unlock()

	// The fetch belongs to every caller of the key, not to the first: it runs detached from
	// the first caller's cancellation (its own timeout still bounds it), and each caller waits
	// on its own context.
	go func() {
		cl.token, cl.err = fetch(context.WithoutCancel(ctx))
		c.mu.Lock()
		delete(c.inflight, key)
		if cl.err == nil {
			c.storeLocked(key, cl.token)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	return cl.wait(ctx)
}

func (cl *call) wait(ctx context.Context) (azcore.AccessToken, error) {
	select {
	case <-cl.done:
		return cl.token, cl.err
	case <-ctx.Done():
		return azcore.AccessToken{}, ctx.Err()
	}
}

// storeLocked keeps a token for 80% of its remaining lifetime (the point at which kubelet
// rotates projected tokens), at most maxDuration.
func (c *tokenCache) storeLocked(key cacheKey, token azcore.AccessToken) {
	if c.maxSize <= 0 {
		return
	}
	now := c.now()
	life := token.ExpiresOn.Sub(now) * 8 / 10
	if life > c.maxDuration {
		life = c.maxDuration
	}
	if life <= 0 {
		return
	}
	e := &cacheEntry{key: key, token: token, deadline: now.Add(life)}
	if el, ok := c.entries[key]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[key] = c.lru.PushFront(e)
	for c.lru.Len() > c.maxSize {
		c.removeLocked(c.lru.Back())
		c.metrics.evicted()
	}
	c.metrics.setSize(c.lru.Len())
}

func (c *tokenCache) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*cacheEntry).key)
	c.lru.Remove(el)
	c.metrics.setSize(c.lru.Len())
}

// invalidate drops the token for key, so the next get fetches a new one.
func (c *tokenCache) invalidate(key cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
}
