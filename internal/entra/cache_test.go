package entra

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// The cache's generic behaviour (one fetch per key, parallel keys, LRU, failures, invalidation,
// cancelled callers) is tested in internal/expiring; these tests cover what entra chooses: the
// token lifetime, the size and duration options, and the metrics.

// testCache returns a cache whose clock stands still until the test moves *now, and a fetch
// that counts its calls in *fetches and answers tokens valid for life from *now.
func testCache(size int, maxDuration, life time.Duration) (c *tokenCache, now *time.Time, fetches *int, fetch func(context.Context) (azcore.AccessToken, error)) {
	now, fetches = new(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)), new(0)
	c = newTokenCache(size, maxDuration, NewMetrics(nil))
	c.now = func() time.Time { return *now }
	return c, now, fetches, func(context.Context) (azcore.AccessToken, error) {
		*fetches++
		return azcore.AccessToken{Token: fmt.Sprint("token-", *fetches), ExpiresOn: now.Add(life)}, nil
	}
}

func TestCacheServesHitsUntil80PercentOfLifetime(t *testing.T) {
	c, now, fetches, fetch := testCache(10, time.Hour, time.Hour)
	key := cacheKey{identity: "a", scopes: "s"}
	for range 5 {
		if _, err := c.Get(t.Context(), key, fetch); err != nil {
			t.Fatal(err)
		}
	}
	if *fetches != 1 {
		t.Fatalf("5 gets fetched %d times, want 1", *fetches)
	}
	*now = now.Add(47 * time.Minute)
	c.Get(t.Context(), key, fetch)
	if *fetches != 1 {
		t.Fatalf("at 47m of a 1h token: %d fetches, want 1", *fetches)
	}
	*now = now.Add(time.Minute + time.Second) // past 48m, 80% of 1h
	tok, _ := c.Get(t.Context(), key, fetch)
	if *fetches != 2 || tok.Token != "token-2" {
		t.Fatalf("past 80%% of the lifetime: %d fetches and %q, want a second fetch", *fetches, tok.Token)
	}
}

func TestCacheCapsLifetimeAtMaxDuration(t *testing.T) {
	c, now, fetches, fetch := testCache(10, 5*time.Minute, 24*time.Hour)
	key := cacheKey{identity: "a"}
	c.Get(t.Context(), key, fetch)
	*now = now.Add(5*time.Minute + time.Second)
	c.Get(t.Context(), key, fetch)
	if *fetches != 2 {
		t.Fatalf("a day-long token was served past the 5m cap: %d fetches", *fetches)
	}
}

func TestCacheDisabledFetchesEveryTime(t *testing.T) {
	c, _, fetches, fetch := testCache(0, time.Hour, time.Hour)
	for range 3 {
		c.Get(t.Context(), cacheKey{identity: "a"}, fetch)
	}
	if *fetches != 3 {
		t.Fatalf("with the cache off, 3 gets fetched %d times", *fetches)
	}
}

// TestCacheCountsInMetrics: hits (through Lookup and Get), misses, evictions and the number of
// cached tokens reach the Prometheus metrics.
func TestCacheCountsInMetrics(t *testing.T) {
	c, _, _, fetch := testCache(2, time.Hour, time.Hour)
	a, b, d := cacheKey{identity: "a"}, cacheKey{identity: "b"}, cacheKey{identity: "d"}
	c.Get(t.Context(), a, fetch) // miss
	c.Get(t.Context(), a, fetch) // hit
	if _, ok := c.Lookup(a); !ok {
		t.Fatal("Lookup missed a cached token")
	}
	if _, ok := c.Lookup(b); ok { // neither a hit nor a miss: the Get that follows counts
		t.Fatal("Lookup found a token never fetched")
	}
	c.Get(t.Context(), b, fetch) // miss
	c.Get(t.Context(), d, fetch) // miss; evicts a, the least recently used
	m := c.metrics
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"hits", testutil.ToFloat64(m.hits), 2},
		{"misses", testutil.ToFloat64(m.misses), 3},
		{"evictions", testutil.ToFloat64(m.evictions), 1},
		{"cached items", testutil.ToFloat64(m.items), 2},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	c.Invalidate(b)
	if n := testutil.ToFloat64(m.items); n != 1 {
		t.Errorf("cached items after Invalidate = %v, want 1", n)
	}
}

// gets reports how many gets have counted as a hit or a miss.
func gets(c *tokenCache) int {
	return int(testutil.ToFloat64(c.metrics.misses) + testutil.ToFloat64(c.metrics.hits))
}

// Two workload identities of one service account whose tokens carry other audiences are two
// identities to the cache: a ConfigMap's 'audiences' never gets another's cached token.
func TestIdentityKeyHoldsAudiences(t *testing.T) {
	base := identity.Identity{Kind: identity.WorkloadIdentity, TenantID: "t", ClientID: "c", Namespace: "ns", ServiceAccount: "sa"}
	other := base
	other.Audiences = []string{"api://fleet-east"}
	if identityKey(base, AzurePublic, nil) == identityKey(other, AzurePublic, nil) {
		t.Error("the audiences do not change the identity's cache key")
	}
}
