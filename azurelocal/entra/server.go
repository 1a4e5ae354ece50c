package entra

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Login hosts served, by cloud. Tenants answer only on their own cloud's host.
var cloudHosts = map[string]string{
	"login.microsoftonline.com": directory.CloudPublic,
	"login.microsoftonline.us":  directory.CloudUSGovernment,
	"login.chinacloudapi.cn":    directory.CloudChina,
}

var loginHosts = []string{"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"}

// Hosts returns the host names the server answers on; register each with the gateway.
func Hosts() []string { return append([]string(nil), loginHosts...) }

// Record describes one token request, for tests that count requests to Entra or check that two
// fetches overlapped. Nothing secret is recorded.
type Record struct {
	// Host and Path of the request, such as login.microsoftonline.com and
	// /TENANT/oauth2/v2.0/token, or 169.254.169.254 and /metadata/identity/oauth2/token.
	Host, Path string
	TenantID   string
	ClientID   string
	// Grant is GrantClientSecret, GrantCertificate, GrantFederated or GrantManagedIdentity; empty
	// when the request failed before the credential was known.
	Grant    string
	Resource string
	// Status is the HTTP status of the answer; ErrorCode its AADSTS code (0 on success).
	Status    int
	ErrorCode int
	Start     time.Time
	End       time.Time
}

// Grant kinds reported in Record.Grant.
const (
	GrantClientSecret    = "client_secret"
	GrantCertificate     = "client_certificate"
	GrantFederated       = "federated"
	GrantManagedIdentity = "managed_identity"
)

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for token times and assertion checks. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenLifetime sets the lifetime of issued access tokens. Default: one hour.
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.lifetime = d } }

// WithKeys shares a signing key store, so several servers (or a server and an IMDS emulator in
// another process of a test) issue verifiable tokens. Default: a new store.
func WithKeys(k *Keys) Option { return func(s *Server) { s.keys = k } }

// WithIssuerCAs adds PEM CA certificates trusted, on top of the system roots, when fetching an
// external issuer's discovery document and keys (such as a test kube-apiserver's CA). Default:
// system roots only.
func WithIssuerCAs(pems ...[]byte) Option {
	return func(s *Server) { s.issuers.pendingCAs = append(s.issuers.pendingCAs, pems...) }
}

// WithIssuerHTTPClient replaces the HTTP client used for external issuers entirely; WithIssuerCAs
// and TrustIssuerCA then have no effect. Default: a client with the system roots plus the issuer
// CAs.
func WithIssuerHTTPClient(c *http.Client) Option { return func(s *Server) { s.issuers.fixed = c } }

// WithObserver calls fn after each token request is answered. fn must be safe for concurrent use.
// Default: none.
func WithObserver(fn func(Record)) Option { return func(s *Server) { s.observe = fn } }

// WithGate calls fn when a token request arrives, after its form is read and before it is
// processed; fn may block (until ctx ends) to hold requests, for example to prove that two
// fetches overlap. Default: none.
func WithGate(fn func(ctx context.Context, r Record)) Option { return func(s *Server) { s.gate = fn } }

// Server is the Entra ID emulator: an http.Handler for the login hosts.
type Server struct {
	dir      *directory.Directory
	keys     *Keys
	now      func() time.Time
	lifetime time.Duration
	observe  func(Record)
	gate     func(context.Context, Record)
	issuers  *issuerSet
	mux      *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// New returns an Entra ID emulator for the tenants of dir.
func New(dir *directory.Directory, opts ...Option) (*Server, error) {
	s := &Server{dir: dir, now: time.Now, lifetime: time.Hour, issuers: &issuerSet{}}
	for _, o := range opts {
		o(s)
	}
	if s.keys == nil {
		s.keys = NewKeys()
	}
	if err := s.issuers.init(); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /common/discovery/instance", s.handleInstanceDiscovery)
	s.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenIDConfiguration)
	s.mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", s.handleV1OpenIDConfiguration)
	s.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.handleKeys)
	s.mux.HandleFunc("GET /{tenant}/discovery/keys", s.handleKeys)
	s.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	return s, nil
}

// TrustIssuerCA adds a PEM CA to the roots used for external issuers, for an issuer that appears
// after the server started (such as a cluster `azimuth dev up` creates).
func (s *Server) TrustIssuerCA(pemCerts []byte) error { return s.issuers.trust(pemCerts) }

// ServeHTTP serves the login hosts. Requests for other hosts get 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, ok := cloudHosts[requestHost(r)]; !ok {
		http.Error(w, "azurelocal/entra serves only "+strings.Join(loginHosts, ", "), http.StatusNotFound)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(host)
}

// tenantFor resolves the {tenant} path segment on host, enforcing the tenant's cloud.
func (s *Server) tenantFor(host, segment string) (directory.Tenant, *aadError) {
	t, ok := s.dir.Tenant(segment)
	if !ok || cloudHosts[host] != t.Cloud {
		return directory.Tenant{}, errTenantNotFound(segment)
	}
	return t, nil
}

// isCommonTenant reports the multi-tenant aliases, which cannot identify a tenant for the client
// credentials grant.
func isCommonTenant(segment string) bool {
	switch strings.ToLower(segment) {
	case "common", "organizations", "consumers":
		return true
	}
	return false
}

// correlationID is the client's client-request-id when it sent one, as Entra echoes it.
func correlationID(r *http.Request) string {
	if id := r.Header.Get("client-request-id"); id != "" && len(id) <= 64 && !strings.ContainsAny(id, "\r\n\"") {
		return id
	}
	return newUUID()
}

func newUUID() string { return uuid.NewString() }
