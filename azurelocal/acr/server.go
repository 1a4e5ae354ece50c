package acr

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Suffixes are the registry DNS suffixes served, by the host patterns the gateway routes here.
var suffixes = []string{".azurecr.io", ".azurecr.us", ".azurecr.cn"}

// Hosts returns the host patterns the server answers on; register each with the gateway.
func Hosts() []string {
	out := make([]string, len(suffixes))
	for i, s := range suffixes {
		out[i] = "*" + s
	}
	return out
}

// Record describes one request to /oauth2/exchange or /oauth2/token, for tests that count
// exchanges or check what was granted. Nothing secret is recorded.
type Record struct {
	// Host is the registry's host name; Path is /oauth2/exchange or /oauth2/token.
	Host, Path string
	Method     string
	// Grant is access_token (exchange), refresh_token, password (admin user), or basic_refresh_token
	// and basic_password for GET with Basic credentials.
	Grant string
	// PrincipalID and TenantID name the caller once its token was verified; PrincipalID is the
	// admin user's name for the admin user.
	PrincipalID, TenantID string
	// Scopes were requested; Granted are the scopes the access token carries, in the same form
	// ("repository:hello:pull"). Both are empty for exchanges.
	Scopes, Granted []string
	// Status is the HTTP status of the answer, Code the ACR error code ("" on success).
	Status int
	Code   string
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for token times. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRefreshTokenLifetime sets the lifetime of refresh tokens. Default: three hours, as ACR.
func WithRefreshTokenLifetime(d time.Duration) Option {
	return func(s *Server) { s.refreshLifetime = d }
}

// WithAccessTokenLifetime sets the lifetime of access tokens. Default: 75 minutes, as ACR.
func WithAccessTokenLifetime(d time.Duration) Option {
	return func(s *Server) { s.accessLifetime = d }
}

// WithObserver calls fn after each exchange or token request is answered. fn must be safe for
// concurrent use. Default: none.
func WithObserver(fn func(Record)) Option { return func(s *Server) { s.observe = fn } }

// WithLogger receives the registry stores' request log at debug level. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithAdminUser enables the admin user of the named registry, as `az acr update --admin-enabled`
// does: Basic credentials username:password at /oauth2/token get every action they ask for.
// Default: no admin user. The directory file has no field for it yet.
func WithAdminUser(registryName, username, password string) Option {
	return func(s *Server) {
		s.admins[strings.ToLower(registryName)] = adminUser{username: username, password: password}
	}
}

// WithoutARMAudience makes the named registries refuse Resource Manager tokens at
// /oauth2/exchange, as registries with authentication-as-arm disabled do (`az acr config
// authentication-as-arm update --status disabled`); only tokens for
// https://containerregistry.azure.net are accepted then. Default: both audiences are accepted.
// The directory file has no field for it yet.
func WithoutARMAudience(registryNames ...string) Option {
	return func(s *Server) {
		for _, n := range registryNames {
			s.noARM[strings.ToLower(n)] = true
		}
	}
}

type adminUser struct{ username, password string }

// Server is the ACR emulator: an http.Handler for the registry hosts. It is safe for concurrent
// use.
type Server struct {
	dir             *directory.Directory
	verifier        *entra.Verifier
	entra           http.Handler // Entra ID, for service principal logins; nil without WithEntra
	now             func() time.Time
	refreshLifetime time.Duration
	accessLifetime  time.Duration
	observe         func(Record)
	log             *slog.Logger
	admins          map[string]adminUser
	noARM           map[string]bool

	key atomic.Pointer[signingKey]

	mu     sync.Mutex
	stores map[string]http.Handler // by lower-case registry name
}

var _ http.Handler = (*Server)(nil)

type signingKey struct {
	key *rsa.PrivateKey
	kid string
}

// New returns an ACR emulator for the registries of dir, verifying Entra tokens with verifier.
func New(dir *directory.Directory, verifier *entra.Verifier, opts ...Option) (*Server, error) {
	s := &Server{
		dir: dir, verifier: verifier, now: time.Now,
		refreshLifetime: 3 * time.Hour, accessLifetime: 75 * time.Minute,
		log: slog.Default(), admins: map[string]adminUser{}, noARM: map[string]bool{},
		stores: map[string]http.Handler{},
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.RotateKey(); err != nil {
		return nil, err
	}
	return s, nil
}

// RotateKey replaces the key that signs refresh and access tokens. Every token issued before no
// longer verifies: clients see 401 and must exchange again, as after a real key rollover. Tests
// use it to prove that a client recovers.
func (s *Server) RotateKey() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("acr: generate signing key: %w", err)
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	s.key.Store(&signingKey{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:12])})
	return nil
}

// target is the registry a request addresses.
type target struct {
	name       string // as the directory declares it
	host       string // lower-case host name, the token service
	resourceID string
	resource   directory.Resource
}

// ServeHTTP serves the registry host named by the request's Host header.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.lookup(r.Host)
	if !ok {
		http.Error(w, fmt.Sprintf("azurelocal/acr: no registry '%s' is declared in the directory (resources.registries); "+
			"a registry NAME is served as NAME.azurecr.io\n", hostOnly(r.Host)), http.StatusNotFound)
		return
	}
	switch path := r.URL.Path; {
	case path == "/oauth2/exchange":
		s.handleExchange(w, r, reg)
	case path == "/oauth2/token":
		s.handleToken(w, r, reg)
	case path == "/v2" || strings.HasPrefix(path, "/v2/"):
		s.serveRegistry(w, r, reg)
	default:
		writeErrors(w, http.StatusNotFound, acrError{Code: "NOT_FOUND", Message: "the requested resource was not found"})
	}
}

// lookup finds the declared registry for a host such as myreg.azurecr.io.
func (s *Server) lookup(hostport string) (target, bool) {
	host := strings.ToLower(strings.TrimSuffix(hostOnly(hostport), "."))
	for _, suffix := range suffixes {
		name, ok := strings.CutSuffix(host, suffix)
		if !ok || name == "" || strings.Contains(name, ".") {
			continue
		}
		res, ok := s.dir.Resource(directory.KindRegistry, name)
		if !ok {
			return target{}, false
		}
		return target{name: res.Name, host: host, resourceID: res.ID(), resource: res}, true
	}
	return target{}, false
}

// store returns the registry's content store, made on first use.
func (s *Server) store(name string) http.Handler {
	key := strings.ToLower(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.stores[key]
	if !ok {
		logger := log.New(io.Discard, "", 0)
		if s.log.Enabled(context.Background(), slog.LevelDebug) {
			logger = slog.NewLogLogger(s.log.With("registry", name).Handler(), slog.LevelDebug)
		}
		h = registry.New(registry.Logger(logger))
		s.stores[key] = h
	}
	return h
}

// tenantOf returns the tenant that holds the registry's subscription.
func (s *Server) tenantOf(res directory.Resource) string {
	for _, sub := range s.dir.Spec().Subscriptions {
		if strings.EqualFold(sub.ID, res.Subscription) {
			return sub.Tenant
		}
	}
	return ""
}

func (s *Server) record(rec Record) {
	if s.observe != nil {
		s.observe(rec)
	}
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(hostport, "[]")
}
