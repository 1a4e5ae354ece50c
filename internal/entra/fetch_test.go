package entra

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	localentra "github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// secretIdentity resolves a fresh identity from a Bucket secret in ns, as each reconcile does.
func secretIdentity(t *testing.T, la *localAzure, ns, secret string) identity.Identity {
	t.Helper()
	r := la.resolver(t, identity.Options{}, nil)
	return la.resolve(t, r, identity.Request{Namespace: ns, SecretName: secret})
}

func credential(t *testing.T, p *Provider, id identity.Identity, opts *CredentialOptions) *Credential {
	t.Helper()
	cred, err := p.Credential(id, opts)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func getToken(ctx context.Context, cred *Credential, scope string) error {
	_, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	return err
}

// TestOneIdentityOneRequest resolves one identity N times, as N reconciles do, and asks each
// fresh credential for a token at once: the local Entra ID sees one request.
func TestOneIdentityOneRequest(t *testing.T) {
	la := local(t)
	const n = 20
	cases := []struct {
		name     string
		clientID string
		setup    func(t *testing.T, ns string) *identity.Resolver
		req      func(ns string) identity.Request
	}{
		{"client secret", secretApp, func(t *testing.T, ns string) *identity.Resolver {
			la.secret(t, ns, "azure", bytesOf(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}))
			return la.resolver(t, identity.Options{}, nil)
		}, func(ns string) identity.Request { return identity.Request{Namespace: ns, SecretName: "azure"} }},
		{"object-level workload identity", wiObject, func(t *testing.T, ns string) *identity.Resolver {
			la.serviceAccount(t, ns, "source", wiObject)
			la.federate(t, wiObject, ns, "source")
			return la.resolver(t, identity.Options{ObjectLevelWorkloadIdentity: true}, nil)
		}, func(ns string) identity.Request { return identity.Request{Namespace: ns, ServiceAccountName: "source"} }},
		{"managed identity by client ID", secretMI, func(t *testing.T, ns string) *identity.Resolver {
			la.secret(t, ns, "azure", bytesOf(map[string]string{"clientId": secretMI}))
			return la.resolver(t, identity.Options{}, nil)
		}, func(ns string) identity.Request { return identity.Request{Namespace: ns, SecretName: "azure"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := la.namespace(t)
			r := tc.setup(t, ns)
			p := la.provider(nil)
			creds := make([]*Credential, n)
			for i := range creds {
				creds[i] = credential(t, p, la.resolve(t, r, tc.req(ns)), nil)
			}
			// Hold the Entra request until every caller has asked, so all of them miss together.
			la.setGate(t, func(ctx context.Context, rec localentra.Record) {
				for rec.ClientID == tc.clientID && gets(p.cache) < n && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
			})
			mark := la.mark()
			var wg sync.WaitGroup
			for _, cred := range creds {
				wg.Go(func() {
					if err := getToken(t.Context(), cred, StorageScope); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for _, cred := range creds {
				if err := getToken(t.Context(), cred, StorageScope); err != nil {
					t.Fatal(err)
				}
			}
			if got := la.requests(mark, tc.clientID); got != 1 {
				t.Errorf("%d concurrent and %d later GetToken calls made %d token requests, want 1", n, n, got)
			}
			// IMDS has no gate: there, late callers may find the token already cached.
			hits, misses := testutil.ToFloat64(p.metrics.hits), testutil.ToFloat64(p.metrics.misses)
			if hits+misses != 2*n || (tc.clientID != secretMI && misses != n) {
				t.Errorf("cache hits %v and misses %v, want %d and %d", hits, misses, n, n)
			}
			if ok := testutil.ToFloat64(p.metrics.fetches.WithLabelValues("success", "")); ok != 1 {
				t.Errorf("successful fetches = %v, want 1", ok)
			}
			// Another scope is another token.
			if err := getToken(t.Context(), creds[0], ContainerRegistryScope); err != nil {
				t.Fatal(err)
			}
			if got := la.requests(mark, tc.clientID); got != 2 {
				t.Errorf("a second scope made %d requests in all, want 2", got)
			}
		})
	}
}

// TestDistinctIdentitiesFetchInParallel holds each identity's first token request at the local
// Entra ID until the other's has arrived: if the fetches were serialised, the first would never
// see the second start before it ended.
func TestDistinctIdentitiesFetchInParallel(t *testing.T) {
	la := local(t)
	ns := la.namespace(t)
	la.secret(t, ns, "app-1", bytesOf(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}))
	la.secret(t, ns, "app-2", bytesOf(map[string]string{"tenantId": tenantID, "clientId": secretApp2, "clientSecret": app2Secret}))
	p := la.provider(nil)
	creds := []*Credential{
		credential(t, p, secretIdentity(t, la, ns, "app-1"), nil),
		credential(t, p, secretIdentity(t, la, ns, "app-2"), nil),
	}
	var arrived atomic.Int32
	both := make(chan struct{})
	la.setGate(t, func(ctx context.Context, rec localentra.Record) {
		if rec.ClientID != secretApp && rec.ClientID != secretApp2 {
			return
		}
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-ctx.Done():
		case <-time.After(10 * time.Second): // a guard against a deadlock, never an assertion
		}
	})
	mark := la.mark()
	var wg sync.WaitGroup
	for _, cred := range creds {
		wg.Go(func() {
			if err := getToken(t.Context(), cred, ContainerRegistryScope); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	// In the order the local Entra ID saw them, each request started before the other ended.
	start, end := map[string]int{}, map[string]int{}
	for i, e := range la.eventsSince(mark) {
		if e.rec.ClientID != secretApp && e.rec.ClientID != secretApp2 {
			continue
		}
		if e.end {
			end[e.rec.ClientID] = i
		} else {
			start[e.rec.ClientID] = i
		}
	}
	if len(start) != 2 || len(end) != 2 {
		t.Fatalf("requests seen: starts %v, ends %v; want one of each per identity", start, end)
	}
	if !(start[secretApp] < end[secretApp2] && start[secretApp2] < end[secretApp]) {
		t.Errorf("the fetches did not overlap at the local Entra ID: starts %v, ends %v", start, end)
	}
}

// clock is a cache clock that runs from the real time, moved by hand.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestExpiredCacheEntryIsFetchedAgain(t *testing.T) {
	la := local(t)
	ns := la.namespace(t)
	la.secret(t, ns, "azure", bytesOf(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}))
	for _, tc := range []struct {
		name        string
		maxDuration time.Duration
		fresh, old  time.Duration // still served at fresh; fetched again at old
	}{
		{"80% of the token's lifetime", 0, 47 * time.Minute, 49 * time.Minute},
		{"--token-cache-max-duration", 2 * time.Minute, 119 * time.Second, 121 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := la.provider(&Options{CacheMaxDuration: tc.maxDuration})
			c := &clock{}
			p.cache.now = c.now
			cred := credential(t, p, secretIdentity(t, la, ns, "azure"), nil)
			mark := la.mark()
			for range 2 {
				if err := getToken(t.Context(), cred, StorageScope); err != nil {
					t.Fatal(err)
				}
			}
			c.advance(tc.fresh)
			if err := getToken(t.Context(), cred, StorageScope); err != nil {
				t.Fatal(err)
			}
			if got := la.requests(mark, secretApp); got != 1 {
				t.Fatalf("%d requests before the entry expired, want 1", got)
			}
			c.advance(tc.old - tc.fresh)
			if err := getToken(t.Context(), cred, StorageScope); err != nil {
				t.Fatal(err)
			}
			if got := la.requests(mark, secretApp); got != 2 {
				t.Fatalf("%d requests after the entry expired, want 2", got)
			}
		})
	}
}

// TestInvalidateFetchesAgain covers an application and a managed identity: azidentity keeps
// managed identity tokens in a cache of its own, shared by the whole process, which must not
// answer in place of the local Azure after Invalidate.
func TestInvalidateFetchesAgain(t *testing.T) {
	la := local(t)
	for _, tc := range []struct {
		name, clientID string
		data           map[string]string
	}{
		{"client secret", secretApp, map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}},
		{"managed identity", secretMI, map[string]string{"clientId": secretMI}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := la.namespace(t)
			la.secret(t, ns, "azure", bytesOf(tc.data))
			p := la.provider(nil)
			cred := credential(t, p, secretIdentity(t, la, ns, "azure"), nil)
			mark := la.mark()
			first, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{ContainerRegistryScope}})
			if err != nil {
				t.Fatal(err)
			}
			cred.Invalidate(ContainerRegistryScope)
			second, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{ContainerRegistryScope}})
			if err != nil {
				t.Fatal(err)
			}
			if got := la.requests(mark, tc.clientID); got != 2 || first.Token == second.Token {
				t.Errorf("after Invalidate: %d requests (want 2), same token again: %v", got, first.Token == second.Token)
			}
		})
	}
}

func TestCacheOffFetchesEveryTime(t *testing.T) {
	la := local(t)
	ns := la.namespace(t)
	la.secret(t, ns, "azure", bytesOf(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}))
	reg := prometheus.NewRegistry()
	p := la.provider(&Options{DisableCache: true, Registerer: reg})
	cred := credential(t, p, secretIdentity(t, la, ns, "azure"), nil)
	mark := la.mark()
	for range 3 {
		if err := getToken(t.Context(), cred, StorageScope); err != nil {
			t.Fatal(err)
		}
	}
	if got := la.requests(mark, secretApp); got != 3 {
		t.Errorf("with the cache off, 3 GetToken calls made %d requests", got)
	}
	want := `
# HELP azimuth_token_cache_requests_total Token requests served by the Entra ID token cache, by result (hit or miss).
# TYPE azimuth_token_cache_requests_total counter
azimuth_token_cache_requests_total{result="hit"} 0
azimuth_token_cache_requests_total{result="miss"} 3
# HELP azimuth_token_fetches_total Tokens fetched from Entra ID, by outcome and AADSTS error code (empty when none).
# TYPE azimuth_token_fetches_total counter
azimuth_token_fetches_total{aadsts="",outcome="success"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "azimuth_token_cache_requests_total", "azimuth_token_fetches_total"); err != nil {
		t.Error(err)
	}
}

// connectProxy is an HTTPS proxy (HTTP CONNECT) that reaches the Azure hosts through the
// connect-to map, as a corporate proxy reaches the real ones.
type connectProxy struct {
	srv      *httptest.Server
	connects atomic.Int32
}

func newConnectProxy(t *testing.T, la *localAzure) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		p.connects.Add(1)
		upstream, err := la.transport.Dial(r.Context(), "tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { io.Copy(upstream, buf); upstream.(*net.TCPConn).CloseWrite() }()
		io.Copy(conn, upstream)
		conn.Close()
		upstream.Close()
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *connectProxy) url(t *testing.T) *url.URL {
	u, err := url.Parse(p.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestProxyIsPartOfTheCacheKey: an object's proxy changes the route to Entra ID, so its token
// is its own.
func TestProxyIsPartOfTheCacheKey(t *testing.T) {
	la := local(t)
	ns := la.namespace(t)
	la.secret(t, ns, "azure", bytesOf(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": appSecret}))
	one, two := newConnectProxy(t, la), newConnectProxy(t, la)
	p := la.provider(nil)
	mark := la.mark()
	for _, proxy := range []*connectProxy{one, two, one} {
		cred := credential(t, p, secretIdentity(t, la, ns, "azure"), &CredentialOptions{Proxy: proxy.url(t)})
		if err := getToken(t.Context(), cred, StorageScope); err != nil {
			t.Fatal(err)
		}
	}
	if got := la.requests(mark, secretApp); got != 2 {
		t.Errorf("two proxies (one used twice) made %d token requests, want 2", got)
	}
	if one.connects.Load() == 0 || two.connects.Load() == 0 {
		t.Errorf("CONNECTs through the proxies: %d and %d; every fetch must go through its proxy", one.connects.Load(), two.connects.Load())
	}
}
