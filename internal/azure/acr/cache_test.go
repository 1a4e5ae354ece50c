package acr

import (
	"context"
	"testing"
	"time"
)

// The cache's generic behaviour (one exchange in flight per key, a caller that gives up, failures,
// invalidation, distinct keys) is tested in internal/expiring; these tests cover what acr chooses:
// when a refresh token is replaced, and the bound.

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
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			now := start
			c := NewCache(&CacheOptions{Clock: func() time.Time { return now }})
			var tokens []string // one a fetch: a, b, ...
			get := func() string {
				rt, err := c.tokens.Get(t.Context(), cacheKey{"t/o", "r.azurecr.io"}, func(context.Context) (RefreshToken, error) {
					tokens = append(tokens, string(rune('a'+len(tokens))))
					return RefreshToken{Token: tokens[len(tokens)-1], ExpiresOn: now.Add(tt.lifetime)}, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return rt.Token
			}
			if get() != "a" {
				t.Fatal("first token")
			}
			now = start.Add(tt.reuse)
			if got := get(); got != "a" || len(tokens) != 1 {
				t.Errorf("after %v: token %q after %d fetches, want the cached one", tt.reuse, got, len(tokens))
			}
			now = start.Add(tt.refetch)
			if got := get(); got != "b" || len(tokens) != 2 {
				t.Errorf("after %v: token %q after %d fetches, want a new one", tt.refetch, got, len(tokens))
			}
		})
	}
}

func TestCacheBound(t *testing.T) {
	c := NewCache(&CacheOptions{MaxEntries: 3})
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		c.tokens.Get(t.Context(), cacheKey{p, "r"}, func(context.Context) (RefreshToken, error) {
			return RefreshToken{Token: p, ExpiresOn: time.Now().Add(time.Hour)}, nil
		})
	}
	if n := c.Len(); n > 3 {
		t.Errorf("%d entries, bound 3", n)
	}
}
