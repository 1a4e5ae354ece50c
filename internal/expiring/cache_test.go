package expiring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock               { return &fakeClock{now: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)} }
func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// token is a value that expires at exp.
type token struct {
	name string
	exp  time.Time
}

func tokenExpiry(t token) time.Time { return t.exp }

// counts are what Hooks reported.
type counts struct {
	hits, misses, evictions, size atomic.Int64
}

func (n *counts) hooks() Hooks {
	return Hooks{
		Hit: func() { n.hits.Add(1) }, Miss: func() { n.misses.Add(1) }, Evicted: func() { n.evictions.Add(1) },
		Size: func(s int) { n.size.Store(int64(s)) },
	}
}

// testCache returns a cache of size values on clock, with no margin, reporting to n.
func testCache(size int, clock *fakeClock, n *counts) *Cache[string, token] {
	return New[string](size, tokenExpiry, &Options{Clock: clock.Now, Hooks: n.hooks()})
}

// counter is a fetch that counts its calls and returns tokens valid for life.
type counter struct {
	calls atomic.Int32
	clock *fakeClock
	life  time.Duration
}

func (f *counter) fetch(context.Context) (token, error) {
	n := f.calls.Add(1)
	return token{name: fmt.Sprint("token-", n), exp: f.clock.Now().Add(f.life)}, nil
}

func TestServesUntilMarginBeforeExpiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		life   time.Duration
		opts   Options
		served time.Duration // still served this long after the fetch; fetched again a second later
	}{
		{"no margin: until expiry", time.Hour, Options{}, time.Hour - time.Second},
		{"a fixed margin", 3 * time.Hour, Options{Margin: func(time.Duration) time.Duration { return 5 * time.Minute }}, 3*time.Hour - 5*time.Minute - time.Second},
		{"a margin from the remaining life", 4 * time.Minute, Options{Margin: func(life time.Duration) time.Duration { return life / 2 }}, 2*time.Minute - time.Second},
		{"MaxAge caps a long life", 24 * time.Hour, Options{MaxAge: 5 * time.Minute}, 5*time.Minute - time.Second},
		{"MaxAge above the life does nothing", time.Hour, Options{MaxAge: 2 * time.Hour}, time.Hour - time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			tc.opts.Clock = clock.Now
			c := New[string](10, tokenExpiry, &tc.opts)
			f := &counter{clock: clock, life: tc.life}
			get := func() string {
				tok, err := c.Get(t.Context(), "k", f.fetch)
				if err != nil {
					t.Fatal(err)
				}
				return tok.name
			}
			get()
			clock.Advance(tc.served)
			if got := get(); got != "token-1" || f.calls.Load() != 1 {
				t.Errorf("after %v: %q after %d fetches, want the cached token", tc.served, got, f.calls.Load())
			}
			clock.Advance(time.Second)
			if got := get(); got != "token-2" || f.calls.Load() != 2 {
				t.Errorf("after %v: %q after %d fetches, want a new token", tc.served+time.Second, got, f.calls.Load())
			}
		})
	}
}

func TestDoesNotStoreAValueWithNoTimeLeft(t *testing.T) {
	clock := newFakeClock()
	c := New[string](10, tokenExpiry, &Options{Clock: clock.Now, Margin: func(time.Duration) time.Duration { return time.Hour }})
	f := &counter{clock: clock, life: time.Hour}
	for range 2 {
		if _, err := c.Get(t.Context(), "k", f.fetch); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Load(); n != 2 || c.Len() != 0 {
		t.Errorf("%d fetches and %d values for a token whose margin is its whole life, want 2 and 0", n, c.Len())
	}
}

func TestNeverStoresFailures(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock, &counts{})
	calls := 0
	failing := func(context.Context) (token, error) {
		calls++
		return token{}, errors.New("AADSTS700213")
	}
	for range 3 {
		if _, err := c.Get(t.Context(), "a", failing); err == nil {
			t.Fatal("want the fetch's error")
		}
	}
	if calls != 3 || c.Len() != 0 {
		t.Fatalf("3 gets after failures fetched %d times and kept %d values, want 3 and 0", calls, c.Len())
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	clock := newFakeClock()
	n := &counts{}
	c := testCache(2, clock, n)
	f := &counter{clock: clock, life: time.Hour}
	c.Get(t.Context(), "a", f.fetch)
	c.Get(t.Context(), "b", f.fetch)
	c.Get(t.Context(), "a", f.fetch) // a is now the most recent
	c.Get(t.Context(), "d", f.fetch) // evicts b
	c.Get(t.Context(), "a", f.fetch)
	if got := f.calls.Load(); got != 3 {
		t.Fatalf("fetches = %d, want 3 (a, b, d)", got)
	}
	if c.Len() != 2 || n.evictions.Load() != 1 || n.size.Load() != 2 {
		t.Errorf("%d values, %d evictions, size reported %d: want 2, 1, 2", c.Len(), n.evictions.Load(), n.size.Load())
	}
	c.Get(t.Context(), "b", f.fetch)
	if got := f.calls.Load(); got != 4 {
		t.Fatalf("b should have been evicted: fetches = %d, want 4", got)
	}
	for _, k := range []string{"c", "e", "f"} {
		c.Get(t.Context(), k, f.fetch)
	}
	if c.Len() > 2 {
		t.Errorf("%d values, bound 2", c.Len())
	}
}

func TestZeroSizeStoresNothing(t *testing.T) {
	clock := newFakeClock()
	c := testCache(0, clock, &counts{})
	f := &counter{clock: clock, life: time.Hour}
	for range 3 {
		c.Get(t.Context(), "a", f.fetch)
	}
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("with size 0, 3 gets fetched %d times", n)
	}
}

func TestInvalidate(t *testing.T) {
	clock := newFakeClock()
	n := &counts{}
	c := testCache(10, clock, n)
	f := &counter{clock: clock, life: time.Hour}
	for _, k := range []string{"a", "b", "a", "b"} {
		if _, err := c.Get(t.Context(), k, f.fetch); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.calls.Load(); got != 2 {
		t.Fatalf("%d fetches for two keys, want 2", got)
	}
	c.Invalidate("a")
	if n.size.Load() != 1 {
		t.Errorf("size reported %d after Invalidate, want 1", n.size.Load())
	}
	c.Get(t.Context(), "a", f.fetch)
	c.Get(t.Context(), "b", f.fetch)
	if got := f.calls.Load(); got != 3 {
		t.Errorf("%d fetches after invalidating one key, want 3", got)
	}
	c.Invalidate("never stored") // does nothing
}

// TestInvalidateForgetsFetchInFlight: a fetch that started before Invalidate still answers the
// callers waiting on it, but is not stored and not joined by later callers.
func TestInvalidateForgetsFetchInFlight(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock, &counts{})
	release := make(chan struct{})
	started := make(chan struct{})
	old := func(context.Context) (token, error) {
		close(started)
		<-release
		return token{name: "old", exp: clock.Now().Add(time.Hour)}, nil
	}
	first := make(chan token, 1)
	go func() { tok, _ := c.Get(t.Context(), "a", old); first <- tok }()
	<-started
	c.Invalidate("a")
	f := &counter{clock: clock, life: time.Hour}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // joining the old fetch would block
	defer cancel()
	if tok, err := c.Get(ctx, "a", f.fetch); err != nil || tok.name != "token-1" {
		t.Fatalf("a get after Invalidate answered %q, %v: want a fetch of its own", tok.name, err)
	}
	close(release)
	if tok := <-first; tok.name != "old" {
		t.Errorf("the caller of the forgotten fetch got %q, want its result", tok.name)
	}
	if tok, _ := c.Get(t.Context(), "a", f.fetch); tok.name != "token-1" || f.calls.Load() != 1 {
		t.Errorf("after the forgotten fetch ended, the cache serves %q, want token-1", tok.name)
	}
}

func TestSharesOneFetchPerKey(t *testing.T) {
	clock := newFakeClock()
	n := &counts{}
	c := testCache(10, clock, n)
	release := make(chan struct{})
	var calls atomic.Int32
	slow := func(context.Context) (token, error) {
		calls.Add(1)
		<-release
		return token{name: "t", exp: clock.Now().Add(time.Hour)}, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { c.Get(t.Context(), "a", slow) })
	}
	// Wait until every caller is either fetching or waiting on the fetch in flight.
	for {
		c.mu.Lock()
		inflight := len(c.inflight)
		c.mu.Unlock()
		if inflight == 1 && n.misses.Load()+n.hits.Load() >= 20 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Fatalf("20 concurrent gets for one key fetched %d times, want 1", got)
	}
}

// TestCallerThatGivesUpDoesNotFailOthers: the first caller of a key gives up, yet the fetch it
// started completes for the callers still waiting, and is stored.
func TestCallerThatGivesUpDoesNotFailOthers(t *testing.T) {
	clock := newFakeClock()
	n := &counts{}
	c := testCache(10, clock, n)
	release := make(chan struct{})
	var calls atomic.Int32
	fetch := func(ctx context.Context) (token, error) {
		calls.Add(1)
		<-release
		if err := ctx.Err(); err != nil {
			return token{}, err
		}
		return token{name: "shared", exp: clock.Now().Add(time.Hour)}, nil
	}
	first, cancel := context.WithCancel(t.Context())
	firstErr := make(chan error, 1)
	go func() { _, err := c.Get(first, "a", fetch); firstErr <- err }()
	for n.misses.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	const waiters = 20
	var wg sync.WaitGroup
	tokens := make([]string, waiters)
	for i := range waiters {
		wg.Go(func() {
			tok, err := c.Get(t.Context(), "a", fetch)
			if err != nil {
				t.Errorf("a waiting caller failed because the first one gave up: %v", err)
			}
			tokens[i] = tok.name
		})
	}
	for n.misses.Load() < 1+waiters {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	for i, tok := range tokens {
		if tok != "shared" {
			t.Errorf("caller %d got %q, want the shared fetch's token", i, tok)
		}
	}
	if tok, err := c.Get(t.Context(), "a", fetch); err != nil || tok.name != "shared" || calls.Load() != 1 {
		t.Fatalf("the detached fetch was not stored: %q, %v after %d fetches", tok.name, err, calls.Load())
	}
}

// TestFetchesDistinctKeysInParallel proves misses for different keys do not queue behind each
// other: each fetch waits until the other has started, which deadlocks if they are serialised.
// Then a hit is served while another key's fetch is in flight.
func TestFetchesDistinctKeysInParallel(t *testing.T) {
	clock := newFakeClock()
	c := testCache(10, clock, &counts{})
	started := make(chan string, 2)
	both := make(chan struct{})
	var once sync.Once
	fetch := func(name string) func(context.Context) (token, error) {
		return func(ctx context.Context) (token, error) {
			started <- name
			if len(started) == 2 {
				once.Do(func() { close(both) })
			}
			select {
			case <-both:
			case <-ctx.Done():
				return token{}, ctx.Err()
			}
			return token{name: name, exp: clock.Now().Add(time.Hour)}, nil
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, name := range []string{"a", "b"} {
		wg.Go(func() {
			_, err := c.Get(ctx, name, fetch(name))
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

	block := make(chan struct{})
	go c.Get(t.Context(), "slow", func(context.Context) (token, error) {
		<-block
		return token{}, errors.New("done")
	})
	defer close(block)
	hit := make(chan struct{})
	go func() {
		c.Get(t.Context(), "a", fetch("never"))
		c.Lookup("a")
		close(hit)
	}()
	select {
	case <-hit:
	case <-ctx.Done():
		t.Fatal("a cache hit waited on another key's fetch")
	}
}

func TestLookup(t *testing.T) {
	clock := newFakeClock()
	n := &counts{}
	c := testCache(10, clock, n)
	if _, ok := c.Lookup("a"); ok {
		t.Fatal("Lookup found a value never fetched")
	}
	f := &counter{clock: clock, life: time.Hour}
	c.Get(t.Context(), "a", f.fetch)
	if tok, ok := c.Lookup("a"); !ok || tok.name != "token-1" {
		t.Fatalf("Lookup = %q, %v; want token-1", tok.name, ok)
	}
	clock.Advance(time.Hour)
	if _, ok := c.Lookup("a"); ok {
		t.Fatal("Lookup served an expired value")
	}
	if c.Len() != 0 || n.size.Load() != 0 {
		t.Errorf("an expired value found by Lookup is still held: %d values, size reported %d", c.Len(), n.size.Load())
	}
	if h, m := n.hits.Load(), n.misses.Load(); h != 1 || m != 1 {
		t.Errorf("hits %d and misses %d, want 1 and 1 (a Lookup that finds nothing reports no miss)", h, m)
	}
}

func TestNilOptions(t *testing.T) {
	c := New[string](1, tokenExpiry, nil)
	tok, err := c.Get(t.Context(), "a", func(context.Context) (token, error) {
		return token{name: "t", exp: time.Now().Add(time.Hour)}, nil
	})
	if err != nil || tok.name != "t" {
		t.Fatal(tok, err)
	}
	if _, ok := c.Lookup("a"); !ok {
		t.Error("a cache made with nil options did not keep a live value")
	}
}
