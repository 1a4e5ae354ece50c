package entra

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func newFakeClock() *fakeClock               { return &fakeClock{now: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)} }
func testCache(size int, clock *fakeClock) *tokenCache {
	c := newTokenCache(size, time.Hour, NewMetrics(nil))
	c.now = clock.Now
	return c
}

// counter is a fetch that counts its calls and returns tokens valid for life.
type counter struct {
	calls atomic.Int32
	clock *fakeClock
	life  time.Duration
}

func (f *counter) fetch(context.Context) (azcore.AccessToken, error) {
	n := f.calls.Add(1)
	return azcore.AccessToken{Token: fmt.Sprint("token-", n), ExpiresOn: f.clock.Now().Add(f.life)}, nil
}

func TestCacheServesHitsUntil80PercentOfLifetime(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	f := &counter{clock: clock, life: time.Hour}
	key := cacheKey{identity: "a", scopes: "s"}
	for range 5 {
		if _, err := c.get(t.Context(), key, f.fetch); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("5 gets fetched %d times, want 1", n)
	}
	clock.Advance(47 * time.Minute)
	c.get(t.Context(), key, f.fetch)
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("at 47m of a 1h token: %d fetches, want 1", n)
	}
	clock.Advance(time.Minute + time.Second) // past 48m, 80% of 1h
	tok, _ := c.get(t.Context(), key, f.fetch)
	if n := f.calls.Load(); n != 2 || tok.Token != "token-2" {
		t.Fatalf("past 80%% of the lifetime: %d fetches and %q, want a second fetch", n, tok.Token)
	}
}

func TestCacheCapsLifetimeAtMaxDuration(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	c.maxDuration = 5 * time.Minute
	f := &counter{clock: clock, life: 24 * time.Hour}
	key := cacheKey{identity: "a"}
	c.get(t.Context(), key, f.fetch)
	clock.Advance(5*time.Minute + time.Second)
	c.get(t.Context(), key, f.fetch)
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("a day-long token was served past the 5m cap: %d fetches", n)
	}
}

func TestCacheNeverStoresFailures(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	calls := 0
	failing := func(context.Context) (azcore.AccessToken, error) {
		calls++
		return azcore.AccessToken{}, errors.New("AADSTS700213")
	}
	key := cacheKey{identity: "a"}
	for range 3 {
		if _, err := c.get(t.Context(), key, failing); err == nil {
			t.Fatal("want the fetch's error")
		}
	}
	if calls != 3 {
		t.Fatalf("3 gets after failures fetched %d times, want 3", calls)
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	clock := newFakeClock()
	c := testCache(2, clock)
	f := &counter{clock: clock, life: time.Hour}
	a, b, d := cacheKey{identity: "a"}, cacheKey{identity: "b"}, cacheKey{identity: "d"}
	c.get(t.Context(), a, f.fetch)
	c.get(t.Context(), b, f.fetch)
	c.get(t.Context(), a, f.fetch) // a is now the most recent
	c.get(t.Context(), d, f.fetch) // evicts b
	c.get(t.Context(), a, f.fetch)
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3 (a, b, d)", n)
	}
	c.get(t.Context(), b, f.fetch)
	if n := f.calls.Load(); n != 4 {
		t.Fatalf("b should have been evicted: fetches = %d, want 4", n)
	}
}

func TestCacheDisabledFetchesEveryTime(t *testing.T) {
	clock := newFakeClock()
	c := testCache(0, clock)
	f := &counter{clock: clock, life: time.Hour}
	for range 3 {
		c.get(t.Context(), cacheKey{identity: "a"}, f.fetch)
	}
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("with the cache off, 3 gets fetched %d times", n)
	}
}

func TestCacheInvalidate(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	f := &counter{clock: clock, life: time.Hour}
	key := cacheKey{identity: "a", scopes: "s"}
	c.get(t.Context(), key, f.fetch)
	c.invalidate(key)
	c.get(t.Context(), key, f.fetch)
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("after Invalidate: %d fetches, want 2", n)
	}
}

func TestCacheSharesOneFetchPerKey(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	release := make(chan struct{})
	var calls atomic.Int32
	slow := func(context.Context) (azcore.AccessToken, error) {
		calls.Add(1)
		<-release
		return azcore.AccessToken{Token: "t", ExpiresOn: clock.Now().Add(time.Hour)}, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { c.get(t.Context(), cacheKey{identity: "a"}, slow) })
	}
	// Wait until every caller is either fetching or waiting on the fetch in flight.
	for {
		c.mu.Lock()
		inflight := len(c.inflight)
		c.mu.Unlock()
		if inflight == 1 && gets(c) >= 20 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("20 concurrent gets for one key fetched %d times, want 1", n)
	}
}

// TestCacheFetchesDistinctKeysInParallel proves misses for different keys do not queue behind
// each other: each fetch waits until the other has started, which deadlocks if they are
// serialised.
func TestCacheFetchesDistinctKeysInParallel(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	started := make(chan string, 2)
	both := make(chan struct{})
	var once sync.Once
	fetch := func(name string) func(context.Context) (azcore.AccessToken, error) {
		return func(ctx context.Context) (azcore.AccessToken, error) {
			started <- name
			if len(started) == 2 {
				once.Do(func() { close(both) })
			}
			select {
			case <-both:
			case <-ctx.Done():
				return azcore.AccessToken{}, ctx.Err()
			}
			return azcore.AccessToken{Token: name, ExpiresOn: clock.Now().Add(time.Hour)}, nil
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, name := range []string{"a", "b"} {
		wg.Go(func() {
			_, err := c.get(ctx, cacheKey{identity: name}, fetch(name))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("fetches for distinct keys did not overlap: %v", err)
		}
	}

	// And a hit is served while another key's fetch is in flight.
	block := make(chan struct{})
	go c.get(t.Context(), cacheKey{identity: "slow"}, func(context.Context) (azcore.AccessToken, error) {
		<-block
		return azcore.AccessToken{}, errors.New("done")
	})
	defer close(block)
	hit := make(chan struct{})
	go func() { c.get(t.Context(), cacheKey{identity: "a"}, fetch("never")); close(hit) }()
	select {
	case <-hit:
	case <-ctx.Done():
		t.Fatal("a cache hit waited on another key's fetch")
	}
}

// gets reports how many gets have counted as a hit or a miss.
func gets(c *tokenCache) int {
	return int(testutil.ToFloat64(c.metrics.misses) + testutil.ToFloat64(c.metrics.hits))
}

// TestCacheCancelledCallerDoesNotFailOthers: the first caller of a key gives up, yet the fetch
// it started completes for the callers still waiting, and is cached.
func TestCacheCancelledCallerDoesNotFailOthers(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock)
	release := make(chan struct{})
	fetch := func(ctx context.Context) (azcore.AccessToken, error) {
		<-release
		if err := ctx.Err(); err != nil {
			return azcore.AccessToken{}, err
		}
		return azcore.AccessToken{Token: "t", ExpiresOn: clock.Now().Add(time.Hour)}, nil
	}
	key := cacheKey{identity: "a"}
	first, cancel := context.WithCancel(t.Context())
	firstErr := make(chan error, 1)
	go func() { _, err := c.get(first, key, fetch); firstErr <- err }()
	for gets(c) < 1 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() { _, err := c.get(t.Context(), key, fetch); second <- err }()
	for gets(c) < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("a waiting caller failed because the first one gave up: %v", err)
	}
	if tok, err := c.get(t.Context(), key, fetch); err != nil || tok.Token != "t" {
		t.Fatalf("the detached fetch was not cached: %v", err)
	}
}
