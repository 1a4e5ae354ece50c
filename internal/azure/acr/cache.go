package acr

import (
	"time"

	"github.com/azimuth-gitops/azimuth/internal/expiring"
)

// CacheOptions configure a Cache. The zero value is valid.
type CacheOptions struct {
	// Clock replaces time.Now. Default: time.Now.
	Clock func() time.Time
	// RefreshBefore is how long before its exp a refresh token is replaced; for a token that lives
	// less than twice as long, half its lifetime is used instead. Default: 5 minutes.
	RefreshBefore time.Duration
	// MaxEntries bounds the number of cached refresh tokens; beyond it, the least recently used
	// go first. Default: 1000.
	MaxEntries int
}

// Cache holds ACR refresh tokens per principal and registry. Share one Cache between the
// Keychains of a controller, so that objects using the same identity share refresh tokens. It is
// safe for concurrent use; fetches for different keys run in parallel and there is at most one
// exchange in flight per key. Failures are not cached.
type Cache struct {
	tokens *expiring.Cache[cacheKey, RefreshToken]
}

// cacheKey is a principal ("tenant/object ID" from its Entra token) and a registry host.
type cacheKey struct{ principal, registry string }

// NewCache returns an empty cache.
func NewCache(opts *CacheOptions) *Cache {
	o := CacheOptions{}
	if opts != nil {
		o = *opts
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = 5 * time.Minute
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 1000
	}
	margin := func(life time.Duration) time.Duration { return min(o.RefreshBefore, life/2) }
	expiry := func(rt RefreshToken) time.Time { return rt.ExpiresOn }
	return &Cache{tokens: expiring.New[cacheKey](o.MaxEntries, expiry, &expiring.Options{Clock: o.Clock, Margin: margin})}
}

// Len returns the number of cached refresh tokens.
func (c *Cache) Len() int { return c.tokens.Len() }
