package keyvault

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Names of the service.
const (
	// Suffix is the DNS suffix of vaults: a vault NAME is https://NAME.vault.azure.net.
	Suffix = ".vault.azure.net"
	// Resource is the audience of the tokens Key Vault accepts, and the resource its challenge
	// names; a client asks for the scope Resource + "/.default".
	Resource = "https://vault.azure.net"
	// ApplicationID is Key Vault's application ID, the audience of tokens requested by it.
	ApplicationID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"
	// APIVersion is the latest api-version, the one azkeys v1.5.0 sends.
	APIVersion = "2025-07-01"
	// StateDir is the directory, under the local Azure's state directory, that holds one file of
	// keys per vault (VAULT.json, mode 0600: it holds private keys).
	StateDir = "keyvault"
	// DefaultPageSize is how many keys or versions a list answers per page, as Key Vault.
	DefaultPageSize = 25
)

// apiVersions are the api-versions of the keys API that Key Vault serves and this emulator
// accepts; the keys API did not change in ways it emulates between them.
var apiVersions = []string{"2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", APIVersion}

// Hosts returns the host patterns the server answers on; register each with the gateway.
func Hosts() []string { return []string{"*" + Suffix} }

// Record describes one request, for tests that count challenges or check a refusal. Nothing
// secret is recorded: no token, no key, no plaintext.
type Record struct {
	// Vault is the vault's name as the directory declares it ("" for an unknown vault).
	Vault string
	// Operation is create, get, list, versions, encrypt, decrypt, wrapkey or unwrapkey ("" when
	// the request named none this emulator serves).
	Operation string
	// Key and Version are as the client named them.
	Key, Version string
	// Principal is the object ID (oid) of the caller once its token checked out.
	Principal string
	// Status is the HTTP status of the answer; Code and InnerCode are the error's code and
	// innererror code ("" on success).
	Status          int
	Code, InnerCode string
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock that key times and token lifetimes are read from. It should be the
// local Entra ID's, whose Verifier checks expiry. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives errors of the key store (never key material). Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithObserver calls fn after each request is answered. fn must be safe for concurrent use.
// Default: none.
func WithObserver(fn func(Record)) Option { return func(s *Server) { s.observe = fn } }

// WithPageSize sets how many keys or versions a list page holds, so that tests can page with few
// keys. Default: DefaultPageSize.
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// Server is the Key Vault emulator: an http.Handler for the vault hosts. It is safe for
// concurrent use.
type Server struct {
	dir      *directory.Directory
	verifier *entra.Verifier
	root     string // STATE/keyvault
	now      func() time.Time
	log      *slog.Logger
	observe  func(Record)
	pageSize int

	mu     sync.Mutex
	stores map[string]*store // by lower-case vault name
}

var _ http.Handler = (*Server)(nil)

// New returns a Key Vault emulator for the vaults of dir, verifying Entra tokens with verifier.
// It keeps keys under stateDir/StateDir; a vault's file is read, and the keys the directory
// declares for it made, when the vault is first used.
func New(dir *directory.Directory, verifier *entra.Verifier, stateDir string, opts ...Option) (*Server, error) {
	if stateDir == "" {
		return nil, fmt.Errorf("keyvault: a state directory is required")
	}
	s := &Server{
		dir: dir, verifier: verifier, root: filepath.Join(stateDir, StateDir),
		now: time.Now, log: slog.Default(), pageSize: DefaultPageSize, stores: map[string]*store{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.pageSize < 1 || s.pageSize > DefaultPageSize {
		return nil, fmt.Errorf("keyvault: page size %d is not between 1 and %d", s.pageSize, DefaultPageSize)
	}
	if err := os.MkdirAll(s.root, 0o700); err != nil {
		return nil, fmt.Errorf("keyvault: %w", err)
	}
	return s, nil
}

// vault is the vault a request addresses.
type vault struct {
	name       string // as declared
	host       string // lower-case host name, without port: the authority of key IDs
	tenant     string
	location   string
	model      string // directory.VaultRBAC or directory.VaultAccessPolicies
	resourceID string
	keys       []directory.VaultKey
}

// baseURL is the vault's URL, the prefix of its key IDs.
func (v vault) baseURL() string { return "https://" + v.host }

// lookup finds the declared vault for a host such as myvault.vault.azure.net.
func (s *Server) lookup(hostport string) (vault, bool) {
	host := strings.ToLower(strings.TrimSuffix(hostOnly(hostport), "."))
	name, ok := strings.CutSuffix(host, Suffix)
	if !ok || name == "" || strings.Contains(name, ".") {
		return vault{}, false
	}
	kv, ok := s.dir.KeyVault(name)
	if !ok {
		return vault{}, false
	}
	return vault{
		name: kv.Name, host: host, tenant: kv.Tenant, location: kv.Location, model: kv.Authorization,
		resourceID: kv.ID(), keys: kv.Keys,
	}, true
}

// ServeHTTP serves the vault named by the request's Host header: first the token (401 with Key
// Vault's challenge), then the api-version, the path, the caller's permission (403) and the
// operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, ok := s.lookup(r.Host)
	if !ok {
		// Azure has no answer for a vault that does not exist: its name does not resolve. The
		// nearest an HTTP server can say is 404, with what to change.
		e := &kvError{status: http.StatusNotFound, code: "VaultNotFound", message: fmt.Sprintf(
			"No key vault '%s' is declared in the local Azure's directory (resources.keyVaults); a vault NAME is served as https://NAME%s. In Azure this name would not resolve.",
			strings.TrimSuffix(strings.ToLower(hostOnly(r.Host)), Suffix), Suffix)}
		writeJSON(w, r, v, e.status, e.body())
		s.record(Record{Status: e.status, Code: e.code})
		return
	}
	rt, routeErr := parseRoute(r.Method, r.URL.Path)
	rec := Record{Vault: v.name, Operation: rt.op.name, Key: rt.key, Version: rt.version}
	defer func() { s.record(rec) }()
	status, e := s.serve(w, r, v, rt, routeErr, &rec)
	rec.Status = status
	if e != nil {
		rec.Code, rec.InnerCode = e.code, e.inner
		if e.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", s.challenge(v))
		}
		writeJSON(w, r, v, e.status, e.body())
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, v vault, rt route, routeErr *kvError, rec *Record) (int, *kvError) {
	c, e := s.authenticate(r, v)
	if e != nil {
		return e.status, e
	}
	rec.Principal = c.objectID
	if av := r.URL.Query().Get("api-version"); !slices.Contains(apiVersions, av) {
		return http.StatusBadRequest, errAPIVersion(av)
	}
	if routeErr != nil {
		return routeErr.status, routeErr
	}
	if e := s.authorize(v, c, rt); e != nil {
		return e.status, e
	}
	st, err := s.store(v)
	if err != nil {
		s.log.Error("keyvault: key store unavailable", "vault", v.name, "error", err)
		e := errInternal(err)
		return e.status, e
	}
	body, e := rt.op.handle(s, r, v, st, rt)
	if e != nil {
		return e.status, e
	}
	writeJSON(w, r, v, http.StatusOK, body)
	return http.StatusOK, nil
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
