package acr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// KeychainOptions configure a Keychain. The zero value is valid.
type KeychainOptions struct {
	// Transport carries the exchange requests. Pass the transport the registry client uses
	// (internal/transport.New with the object's proxy and CA), so both reach the registry the same
	// way. Default: transport.New(nil).
	Transport http.RoundTripper
	// Cloud decides which hosts are registries and the scope of the Entra token (ScopeFor).
	// Default: the credential's Cloud() when it has one (*entra.Credential), else
	// entra.AzurePublic.
	Cloud *entra.Cloud
	// Cache shares refresh tokens with other keychains. A controller makes one Cache and gives it
	// to every keychain, since keychains live for one reconcile. Default: a cache for this
	// keychain alone.
	Cache *Cache
	// Timeout bounds one exchange, the Entra token included. Default: 30s.
	Timeout time.Duration
}

// Keychain is a go-containerregistry authn.Keychain for Azure Container Registry, built from an
// Entra credential. For an ACR host it answers username 00000000-0000-0000-0000-000000000000 and
// a refresh token exchanged for the credential's Entra token; for any other host,
// authn.Anonymous. It is safe for concurrent use.
type Keychain struct {
	cred    azcore.TokenCredential
	client  *http.Client
	cloud   entra.Cloud
	scope   string
	cache   *Cache
	timeout time.Duration

	mu         sync.Mutex
	principals map[string]principal // the principal last seen, by registry host
}

type principal struct{ key, objectID string }

var (
	_ authn.Keychain        = (*Keychain)(nil)
	_ authn.ContextKeychain = (*Keychain)(nil)
)

// What *entra.Credential offers beyond azcore.TokenCredential; other credentials work without.
type (
	invalidator interface{ Invalidate(scopes ...string) }
	// described names the identity for messages (its String) and for role commands.
	described interface {
		String() string
		ClientID() string
	}
	clouded interface{ Cloud() entra.Cloud }
)

// NewKeychain returns a keychain that acts as cred.
func NewKeychain(cred azcore.TokenCredential, opts *KeychainOptions) *Keychain {
	o := KeychainOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Transport == nil {
		o.Transport = defaultTransport()
	}
	cloud := entra.AzurePublic
	if c, ok := cred.(clouded); ok {
		cloud = c.Cloud()
	}
	if o.Cloud != nil {
		cloud = *o.Cloud
	}
	if o.Cache == nil {
		o.Cache = NewCache(nil)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &Keychain{
		cred: cred, client: &http.Client{Transport: o.Transport}, cloud: cloud, scope: ScopeFor(cloud),
		cache: o.Cache, timeout: o.Timeout, principals: map[string]principal{},
	}
}

// defaultTransport is internal/transport's zero configuration, which cannot fail: only extra CAs
// that hold no certificate make transport.New fail.
func defaultTransport() http.RoundTripper {
	t, err := transport.New(nil)
	if err != nil {
		panic("internal/transport rejected its zero options: " + err.Error())
	}
	return t
}

// Resolve implements authn.Keychain; it is ResolveContext without a deadline.
func (k *Keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

// ResolveContext implements authn.ContextKeychain: refresh-token credentials for an ACR host,
// authn.Anonymous for any other.
func (k *Keychain) ResolveContext(ctx context.Context, target authn.Resource) (authn.Authenticator, error) {
	host := registryHost(target.RegistryStr())
	if !IsRegistry(host, k.cloud) {
		return authn.Anonymous, nil
	}
	rt, err := k.RefreshToken(ctx, host)
	if err != nil {
		return nil, err
	}
	return authn.FromConfig(authn.AuthConfig{Username: Username, Password: rt.Token}), nil
}

// RefreshToken returns a refresh token for registry (a host), from the cache or from a new
// exchange.
func (k *Keychain) RefreshToken(ctx context.Context, registry string) (RefreshToken, error) {
	host := registryHost(registry)
	tok, err := k.entraToken(ctx, host)
	if err != nil {
		return RefreshToken{}, err
	}
	key, oid := principalOf(tok.Token)
	k.mu.Lock()
	k.principals[host] = principal{key: key, objectID: oid}
	k.mu.Unlock()
	return k.cache.tokens.Get(ctx, cacheKey{principal: key, registry: host}, func(ctx context.Context) (RefreshToken, error) {
		ctx, cancel := context.WithTimeout(ctx, k.timeout)
		defer cancel()
		return k.exchange(ctx, host, tok.Token)
	})
}

func (k *Keychain) entraToken(ctx context.Context, host string) (azcore.AccessToken, error) {
	tok, err := k.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{k.scope}})
	if err != nil {
		return azcore.AccessToken{}, fmt.Errorf("get a Microsoft Entra ID token for registry %s: %w", host, err)
	}
	return tok, nil
}

// exchange trades token, and once more a fresh Entra token when the registry refuses the first
// with 401 (a token revoked or signed with a rotated key).
func (k *Keychain) exchange(ctx context.Context, host, token string) (RefreshToken, error) {
	rt, err := Exchange(ctx, k.client, host, token)
	var xe *ExchangeError
	if errors.As(err, &xe) && xe.StatusCode == http.StatusUnauthorized {
		if inv, ok := k.cred.(invalidator); ok {
			inv.Invalidate(k.scope)
			fresh, ferr := k.entraToken(ctx, host)
			if ferr != nil {
				return RefreshToken{}, ferr
			}
			if fresh.Token != token {
				rt, err = Exchange(ctx, k.client, host, fresh.Token)
			}
		}
	}
	if errors.As(err, &xe) {
		xe.Identity, xe.Scope = k.identity(), k.scope
	}
	return rt, err
}

// Invalidate drops the refresh token of registry and the credential's Entra token for the
// registry scope, so that the next Resolve exchanges a fresh Entra token. Call it when the
// registry answers 401; Retry does.
func (k *Keychain) Invalidate(registry string) {
	host := registryHost(registry)
	k.mu.Lock()
	p, ok := k.principals[host]
	k.mu.Unlock()
	if ok {
		k.cache.tokens.Invalidate(cacheKey{principal: p.key, registry: host})
	}
	if inv, ok := k.cred.(invalidator); ok {
		inv.Invalidate(k.scope)
	}
}

// Retry runs op, a go-containerregistry operation on registry that resolves its credentials
// from this keychain (remote.Get, remote.Write, remote.List, ...). When op fails because the
// registry answered 401 (the registry no longer accepts the refresh token or an access token made
// from it), Retry invalidates the registry's refresh token and the Entra token and runs op once
// more. It does nothing special for hosts that are not ACR.
//
// A 401 that survives the retry means the identity lacks the role: pass the error to Explain.
func (k *Keychain) Retry(registry string, op func() error) error {
	err := op()
	if err == nil || !IsRegistry(registryHost(registry), k.cloud) || !isStatus(err, http.StatusUnauthorized) {
		return err
	}
	k.Invalidate(registry)
	return op()
}

// identity names the credential's identity for messages.
func (k *Keychain) identity() string {
	if id, ok := k.cred.(described); ok {
		return id.String()
	}
	return ""
}
