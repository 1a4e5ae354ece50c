package entra

import (
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/azimuth-gitops/azimuth/internal/expiring"
)

// cacheKey names one token: an identity (its kind, tenant, client, cloud, proxy and, for object
// level, namespace and service account, hashed) and the scopes it is for.
type cacheKey struct {
	identity string
	scopes   string
}

// tokenCache is the Provider's token cache: an expiring.Cache that serves a token for 80% of its
// remaining lifetime, at most maxDuration, and counts its work in Metrics.
type tokenCache struct {
	*expiring.Cache[cacheKey, azcore.AccessToken]
	now     func() time.Time // the cache's clock; tests replace it
	metrics *Metrics
}

// newTokenCache returns a cache of at most maxSize tokens; 0 stores none, though callers that
// ask while a fetch is in flight still share it.
func newTokenCache(maxSize int, maxDuration time.Duration, m *Metrics) *tokenCache {
	c := &tokenCache{now: time.Now, metrics: m}
	c.Cache = expiring.New[cacheKey](maxSize, tokenExpiry, &expiring.Options{
		Margin: rotationMargin,
		MaxAge: maxDuration,
		Clock:  func() time.Time { return c.now() },
		Hooks:  m.cacheHooks(),
	})
	return c
}

func tokenExpiry(t azcore.AccessToken) time.Time { return t.ExpiresOn }

// rotationMargin stops serving a token at 80% of its remaining lifetime, the point at which
// kubelet rotates projected tokens.
func rotationMargin(life time.Duration) time.Duration { return life - life*8/10 }
