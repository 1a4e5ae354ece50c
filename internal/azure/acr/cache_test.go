package acr

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// counter is a fetch that counts its calls and answers tokens that expire after lifetime.
type counter struct {
	calls    atomic.Int32
	clock    *clock
	lifetime time.Duration
	err      error
}

func (f *counter) fetch(context.Context) (RefreshToken, error) {
	n := f.calls.Add(1)
	if f.err != nil {
		return RefreshToken{}, f.err
	}
	return RefreshToken{Token: string(rune('a' + n - 1)), ExpiresOn: f.clock.Now().Add(f.lifetime)}, nil
}

func TestCacheExpiry(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		reuse    time.Duration // still served from the cache this long after the fetch
		refetch  time.Duration // fetched again this long after the fetch
	}{
		{"three hours", 3 * time.Hour, 3*time.Hour - 5*time.Minute - time.Second, 3*time.Hour - 5*time.Minute},
		{"short-lived tokens use half their lifetime", 4 * time.Minute, 2*time.Minute - time.Second, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			c := NewCache(&CacheOptions{Clock: clk.Now})
			f := &counter{clock: clk, lifetime: tt.lifetime}
			key := cacheKey{"t/o", "r.azurecr.io"}
			get := func() string {
				rt, err := c.get(t.Context(), key, f.fetch)
				if err != nil {
					t.Fatal(err)
				}
				return rt.Token
			}
			if get() != "a" {
				t.Fatal("first token")
			}
			clk.Advance(tt.reuse)
			if got := get(); got != "a" || f.calls.Load() != 1 {
				t.Errorf("after %v: token %q after %d fetches, want the cached one", tt.reuse, got, f.calls.Load())
			}
			clk.Advance(tt.refetch - tt.reuse)
			if got := get(); got != "b" || f.calls.Load() != 2 {
				t.Errorf("after %v: token %q after %d fetches, want a new one", tt.refetch, got, f.calls.Load())
			}
		})
	}
}

func TestCacheKeysAndInvalidate(t *testing.T) {
	clk := newClock()
	c := NewCache(&CacheOptions{Clock: clk.Now})
	f := &counter{clock: clk, lifetime: time.Hour}
	a, b := cacheKey{"t/o1", "r.azurecr.io"}, cacheKey{"t/o2", "r.azurecr.io"}
	for _, k := range []cacheKey{a, b, a, b} {
		if _, err := c.get(t.Context(), k, f.fetch); err != nil {
			t.Fatal(err)
		}
	}
	if f.calls.Load() != 2 {
		t.Fatalf("%d fetches for two keys", f.calls.Load())
	}
	c.invalidate(a)
	c.get(t.Context(), a, f.fetch)
	c.get(t.Context(), b, f.fetch)
	if f.calls.Load() != 3 {
		t.Errorf("%d fetches after invalidating one key, want 3", f.calls.Load())
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	clk := newClock()
	c := NewCache(&CacheOptions{Clock: clk.Now})
	failing := &counter{clock: clk, lifetime: time.Hour, err: errors.New("refused")}
	key := cacheKey{"t/o", "r.azurecr.io"}
	for range 2 {
		if _, err := c.get(t.Context(), key, failing.fetch); err == nil {
			t.Fatal("no error")
		}
	}
	if failing.calls.Load() != 2 || c.Len() != 0 {
		t.Errorf("%d fetches, %d entries: a failure was cached", failing.calls.Load(), c.Len())
	}
}

// TestCacheOneFetchInFlight: callers that arrive while a fetch runs wait for it; a caller that
// gives up does not fail the others.
func TestCacheOneFetchInFlight(t *testing.T) {
	clk := newClock()
	c := NewCache(&CacheOptions{Clock: clk.Now})
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var calls atomic.Int32
	fetch := func(ctx context.Context) (RefreshToken, error) {
		calls.Add(1)
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			return RefreshToken{}, ctx.Err()
		}
		return RefreshToken{Token: "shared", ExpiresOn: clk.Now().Add(time.Hour)}, nil
	}
	key := cacheKey{"t/o", "r.azurecr.io"}
	impatient, cancel := context.WithCancel(t.Context())
	impatientErr := make(chan error, 1)
	go func() {
		_, err := c.get(impatient, key, fetch)
		impatientErr <- err
	}()
	<-started
	const n = 20
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range n {
		wg.Go(func() {
			rt, err := c.get(t.Context(), key, fetch)
			if err != nil {
				t.Error(err)
			}
			tokens[i] = rt.Token
		})
	}
	cancel()
	if err := <-impatientErr; !errors.Is(err, context.Canceled) {
		t.Errorf("impatient caller: %v", err)
	}
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d fetches, want 1", calls.Load())
	}
	for i, tok := range tokens {
		if tok != "shared" {
			t.Errorf("caller %d got %q", i, tok)
		}
	}
}

func TestCacheBound(t *testing.T) {
	clk := newClock()
	c := NewCache(&CacheOptions{Clock: clk.Now, MaxEntries: 3})
	f := &counter{clock: clk, lifetime: time.Hour}
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		c.get(t.Context(), cacheKey{p, "r"}, f.fetch)
	}
	if n := c.Len(); n > 3 {
		t.Errorf("%d entries, bound 3", n)
	}
}
