package entra

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Options configure a Provider. The zero value is ready to use.
type Options struct {
	// Transport is how credentials reach Entra ID and IMDS (connect-to map, CA). Default: the
	// zero transport.Options.
	Transport *transport.Options
	// CacheMaxSize bounds the number of cached tokens (--token-cache-max-size). Default: 100.
	CacheMaxSize int
	// DisableCache fetches a token on every request (--token-cache-max-size=0). Default: false.
	DisableCache bool
	// CacheMaxDuration bounds how long a token is served from the cache
	// (--token-cache-max-duration). Default and upper limit: 1h.
	CacheMaxDuration time.Duration
	// Registerer receives the cache's metrics. Default: none.
	Registerer prometheus.Registerer
	// RequestTimeout bounds one token request. Default: 30s.
	RequestTimeout time.Duration
	// CustomCloud is the cloud of identities that name no authority host of their own, read
	// from AZURE_ENVIRONMENT_FILEPATH with LoadEnvironmentFile. Default: the cloud of the
	// identity's authority host (the public cloud when it names none).
	CustomCloud *Cloud
}

// Provider makes credentials for identities; all its credentials share one token cache.
type Provider struct {
	// inflight holds the record of each fetch under way, by cache key, for callers that stop
	// waiting before it ends.
	inflight sync.Map
	custom   *Cloud
	cache    *tokenCache
	base     transport.Options
	timeout  time.Duration
	metrics  *Metrics
}

// NewProvider returns a Provider.
func NewProvider(opts *Options) *Provider {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.CacheMaxSize == 0 {
		o.CacheMaxSize = 100
	}
	if o.DisableCache {
		o.CacheMaxSize = 0
	}
	if o.CacheMaxDuration <= 0 || o.CacheMaxDuration > time.Hour {
		o.CacheMaxDuration = time.Hour
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	p := &Provider{timeout: o.RequestTimeout, metrics: NewMetrics(o.Registerer), custom: o.CustomCloud}
	if o.Transport != nil {
		p.base = *o.Transport
	}
	p.cache = newTokenCache(o.CacheMaxSize, o.CacheMaxDuration, p.metrics)
	return p
}

// CredentialOptions tune one credential.
type CredentialOptions struct {
	// Proxy reaches Entra ID through this proxy (an object's proxySecretRef). Default: the
	// environment's proxy settings.
	Proxy *url.URL
}

// Credential is an azcore.TokenCredential for one identity, served from the Provider's cache.
type Credential struct {
	provider *Provider
	id       identity.Identity
	cloud    Cloud
	proxy    *url.URL
	key      string
	method   string
}

var _ azcore.TokenCredential = (*Credential)(nil)

// Credential returns the credential for id. It fails only for identities that are not Entra
// identities (storage keys).
func (p *Provider) Credential(id identity.Identity, opts *CredentialOptions) (*Credential, error) {
	method, err := methodFor(id)
	if err != nil {
		return nil, err
	}
	c := &Credential{provider: p, id: id, cloud: CloudForAuthority(id.AuthorityHost), method: method}
	if p.custom != nil && id.AuthorityHost == "" {
		c.cloud = *p.custom
	}
	if opts != nil {
		c.proxy = opts.Proxy
	}
	c.key = identityKey(id, c.cloud, c.proxy)
	return c, nil
}

func methodFor(id identity.Identity) (string, error) {
	switch id.Kind {
	case identity.WorkloadIdentity:
		return "ClientAssertionCredential", nil
	case identity.ClientCertificate:
		return "ClientCertificateCredential", nil
	case identity.ClientSecret:
		return "ClientSecretCredential", nil
	case identity.ManagedIdentity, identity.NodeManagedIdentity:
		return "ManagedIdentityCredential", nil
	case identity.ControllerWorkloadIdentity:
		return "WorkloadIdentityCredential", nil
	}
	return "", fmt.Errorf("%s is not a Microsoft Entra ID identity: it cannot get tokens", id)
}

// identityKey hashes everything that makes two identities' tokens different, so two tenants
// never share a token and a rotated secret never serves the old one's token.
func identityKey(id identity.Identity, c Cloud, proxy *url.URL) string {
	h := sha256.New()
	proxyURL := ""
	if proxy != nil {
		proxyURL = proxy.String()
	}
	for _, field := range []string{
		id.Kind.String(), id.TenantID, id.ClientID, c.AuthorityHost, proxyURL,
		id.Namespace, id.ServiceAccount, id.Source, id.TokenFile, id.CertificatePath,
		id.Secret.ClientSecret, string(id.Secret.Certificate), id.Secret.CertificatePassword,
		fmt.Sprint(id.Secret.SendCertificateChain), strings.Join(id.Audiences, "\n"),
	} {
		h.Write([]byte(field))
		h.Write([]byte{0})
	}
	// 16 raw bytes keep collisions out of reach and cache lookups short.
	return string(h.Sum(nil)[:16])
}

// Method names the azidentity credential this identity uses, for diagnostics.
func (c *Credential) Method() string { return c.method }

// Identity returns the identity the credential acts as.
func (c *Credential) Identity() identity.Identity { return c.id }

// String names the identity and where it came from, for messages; never secret material.
func (c *Credential) String() string { return c.id.String() }

// ClientID is the identity's client ID, empty for a node's system-assigned managed identity.
func (c *Credential) ClientID() string { return c.id.ClientID }

// Cloud returns the cloud the identity's authority host names.
func (c *Credential) Cloud() Cloud { return c.cloud }

// GetToken returns a token for opts.Scopes, from the cache when it holds one. Other request
// options (tenant, claims) are not used: the identity decides the tenant.
func (c *Credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	key := cacheKey{identity: c.key, scopes: joinScopes(opts.Scopes)}
	if token, ok := c.provider.cache.Lookup(key); ok {
		return token, nil
	}
	token, err := c.provider.cache.Get(ctx, key, func(ctx context.Context) (azcore.AccessToken, error) {
		return c.fetch(ctx, key, opts.Scopes)
	})
	if err != nil && ctx.Err() != nil {
		return token, c.late(key, ctx.Err())
	}
	return token, err
}

// late explains a caller giving up on a fetch that goes on (throttled, retrying, or unanswered):
// what the fetch has met so far, so that a deadline does not hide a 429 or an outage.
func (c *Credential) late(key cacheKey, err error) error {
	e := &AuthError{Identity: c.id.String(), Method: c.method, err: err,
		Description: fmt.Sprintf("no token before the deadline (%v): Entra ID has not answered yet", err)}
	if r, ok := c.provider.inflight.Load(key); ok {
		if last := r.(*fetchRecord).last(); last != "" {
			e.Description = fmt.Sprintf("no token before the deadline (%v); the request is being retried, and its last answer was %s", err, last)
		}
	}
	return e
}

// Invalidate drops the cached token for scopes. A client calls it when a service rejects a token
// with 401 or 403, so that the next GetToken fetches a fresh one.
func (c *Credential) Invalidate(scopes ...string) {
	c.provider.cache.Invalidate(cacheKey{identity: c.key, scopes: joinScopes(scopes)})
}

// joinScopes avoids allocating for the common single scope, keeping cache hits free of garbage.
func joinScopes(scopes []string) string {
	if len(scopes) == 1 {
		return scopes[0]
	}
	return strings.Join(scopes, " ")
}

// fetch builds a fresh azidentity credential and asks it for a token. A fresh credential per
// fetch keeps azidentity's own cache out of the way: this package's cache decides lifetimes.
func (c *Credential) fetch(ctx context.Context, key cacheKey, scopes []string) (azcore.AccessToken, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.provider.timeout)
	defer cancel()
	record := &fetchRecord{}
	c.provider.inflight.Store(key, record)
	defer c.provider.inflight.CompareAndDelete(key, record)
	token, err := c.fetchWith(ctx, scopes, record)
	code := 0
	if err != nil {
		var authErr *AuthError
		if !errors.As(err, &authErr) {
			authErr = newAuthError(c.id, c.method, err, record)
		}
		code, err = authErr.Code, authErr
	}
	c.provider.metrics.fetched(start, code, err)
	return token, err
}

func (c *Credential) fetchWith(ctx context.Context, scopes []string, record *fetchRecord) (azcore.AccessToken, error) {
	co, client, err := c.clientOptions(record)
	if err != nil {
		return azcore.AccessToken{}, &AuthError{Identity: c.id.String(), Method: c.method, Description: err.Error(), err: err}
	}
	// The client lives for this fetch only: left open, its idle connections (and their
	// goroutines) would linger after every fetch until the transport's idle timeout.
	defer client.CloseIdleConnections()
	cred, err := c.build(co, record)
	if err != nil {
		return azcore.AccessToken{}, &AuthError{Identity: c.id.String(), Method: c.method, Description: err.Error(), err: err}
	}
	opts := policy.TokenRequestOptions{Scopes: scopes}
	if c.id.Kind == identity.ManagedIdentity || c.id.Kind == identity.NodeManagedIdentity {
		// MSAL keeps managed identity tokens in one cache per process, shared by every
		// credential, so a fresh credential is not enough to reach IMDS: without this, Invalidate
		// would be answered with the token a service just refused. MSAL reads claims only to skip
		// that cache; IMDS is never sent them.
		opts.Claims = bypassMSALCache
	}
	return cred.GetToken(ctx, opts)
}

// bypassMSALCache is an empty claims request: it asks for nothing beyond a fresh token.
const bypassMSALCache = "{}"

func (c *Credential) clientOptions(record *fetchRecord) (azcore.ClientOptions, *http.Client, error) {
	t := c.provider.base
	if c.proxy != nil {
		t.Proxy = c.proxy
	}
	client, err := transport.NewClient(&t, c.provider.timeout)
	if err != nil {
		return azcore.ClientOptions{}, nil, err
	}
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: c.cloud.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
		Transport: recordingTransport{client: client, record: record},
		Retry:     policy.RetryOptions{ShouldRetry: shouldRetry},
	}, client, nil
}

func (c *Credential) build(co azcore.ClientOptions, record *fetchRecord) (azcore.TokenCredential, error) {
	id := c.id
	switch id.Kind {
	case identity.WorkloadIdentity:
		assertion := func(ctx context.Context) (string, error) {
			jwt, err := id.Assertion(ctx)
			record.presented(jwt)
			return jwt, err
		}
		return azidentity.NewClientAssertionCredential(id.TenantID, id.ClientID, assertion, &azidentity.ClientAssertionCredentialOptions{ClientOptions: co})
	case identity.ClientSecret:
		return azidentity.NewClientSecretCredential(id.TenantID, id.ClientID, id.Secret.ClientSecret, &azidentity.ClientSecretCredentialOptions{ClientOptions: co})
	case identity.ClientCertificate:
		return c.certificateCredential(co)
	case identity.ManagedIdentity, identity.NodeManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if id.ClientID != "" {
			o.ID = azidentity.ClientID(id.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case identity.ControllerWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, ClientID: id.ClientID, TenantID: id.TenantID, TokenFilePath: id.TokenFile,
		})
	}
	return nil, fmt.Errorf("%s is not a Microsoft Entra ID identity", id)
}

func (c *Credential) certificateCredential(co azcore.ClientOptions) (azcore.TokenCredential, error) {
	id := c.id
	data := id.Secret.Certificate
	if id.CertificatePath != "" {
		var err error
		if data, err = os.ReadFile(id.CertificatePath); err != nil {
			return nil, fmt.Errorf("reading AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
		}
	}
	certs, key, err := identity.ParseCertificate(data, id.Secret.CertificatePassword)
	if err != nil {
		return nil, fmt.Errorf("the certificate of %s must hold a certificate and its private key, as PEM or PKCS#12 with the right password", id.Source)
	}
	return azidentity.NewClientCertificateCredential(id.TenantID, id.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: co, SendCertificateChain: id.Secret.SendCertificateChain,
	})
}
