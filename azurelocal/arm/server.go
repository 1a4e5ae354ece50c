package arm

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Host is the host name of Azure Resource Manager in the public cloud.
const Host = "management.azure.com"

// Hosts returns the host patterns the server answers on; register each with the gateway.
func Hosts() []string { return []string{Host} }

// The api-versions each resource provider of this emulator accepts: those the SDK clients send
// (armauthorization/v2 2022-04-01, armmsi v1.3.0 2024-11-30, armresources v1.2.0 2021-04-01,
// armcontainerservice/v6 v6.6.0 2025-02-01), and those of the az CLI, azurerm and ASO releases
// still in use. The wire format did not change between them in ways this emulator serves.
var (
	authorizationVersions = []string{
		"2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-03-01-preview", "2020-04-01-preview",
		"2020-08-01-preview", "2020-10-01-preview", "2021-04-01-preview", "2022-01-01-preview", "2022-04-01",
		"2022-05-01-preview",
	}
	managedIdentityVersions = []string{
		"2018-11-30", "2021-09-30-preview", "2022-01-31-preview", "2023-01-31", "2023-07-31-preview", "2024-11-30",
		"2025-01-31-preview",
	}
	// Microsoft.ContainerService: AKS's stable versions, 2017-08-31 to 2025-10-01.
	containerServiceVersions = []string{
		"2017-08-31", "2018-03-31", "2019-02-01", "2019-04-01", "2019-06-01", "2019-08-01", "2019-10-01",
		"2019-11-01", "2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01", "2020-06-01", "2020-07-01",
		"2020-09-01", "2020-11-01", "2020-12-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-07-01",
		"2021-08-01", "2021-09-01", "2021-10-01", "2022-01-01", "2022-02-01", "2022-03-01", "2022-04-01",
		"2022-06-01", "2022-07-01", "2022-08-01", "2022-09-01", "2022-11-01", "2023-01-01", "2023-02-01",
		"2023-03-01", "2023-04-01", "2023-05-01", "2023-06-01", "2023-07-01", "2023-08-01", "2023-09-01",
		"2023-10-01", "2023-11-01", "2024-01-01", "2024-02-01", "2024-05-01", "2024-07-01", "2024-08-01",
		"2024-09-01", "2024-10-01", "2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01",
		"2025-06-01", "2025-07-01", "2025-08-01", "2025-09-01", "2025-10-01",
	}
	resourcesVersions = []string{
		"2019-10-01", "2020-06-01", "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01",
		"2024-07-01", "2024-11-01", "2025-04-01",
	}
)

// maxBody bounds a request body; ARM's largest here is a role assignment of a few hundred bytes.
const maxBody = 64 << 10

// defaultLocation is the region of resources whose directory entry names none.
const defaultLocation = "eastus"

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock that token lifetimes and creation times are read from. It should be
// the local Entra ID's. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives the server's errors (never a token). Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// Server is Azure Resource Manager over a directory: an http.Handler for management.azure.com.
// It is safe for concurrent use.
type Server struct {
	dir      *directory.Directory
	verifier *entra.Verifier
	now      func() time.Time
	log      *slog.Logger
	started  time.Time
	// writeMu makes each write's checks and change one step: a duplicate assignment or
	// credential cannot slip between them.
	writeMu sync.Mutex
	stampMu sync.Mutex
	// created records who created which role assignment and when, by lower-case name.
	created map[string]stamp
}

type stamp struct {
	at time.Time
	by string
}

// New returns ARM over dir, checking tokens with verifier.
func New(dir *directory.Directory, verifier *entra.Verifier, opts ...Option) *Server {
	s := &Server{dir: dir, verifier: verifier, now: time.Now, log: slog.Default(), created: map[string]stamp{}}
	for _, o := range opts {
		o(s)
	}
	s.started = s.now().UTC()
	return s
}

// request is one request once its path is read and its caller known.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	target Target
	caller caller
}

// ServeHTTP authenticates the caller, reads the path and hands the request to its provider.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, aerr := s.authenticate(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	t, err := ParsePath(r.URL.Path)
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "InvalidRequestUri", "%s.", capitalize(err.Error())))
		return
	}
	req := &request{w: w, r: r, target: t, caller: c}
	if aerr := s.route(req); aerr != nil {
		writeError(w, r, aerr)
	}
}

func (s *Server) route(req *request) *armError {
	t := req.target
	switch {
	case eq(t.Namespace, "Microsoft.Authorization"):
		if aerr := s.prepare(req, authorizationVersions); aerr != nil {
			return aerr
		}
		return s.authorization(req)
	case eq(t.Namespace, "Microsoft.ManagedIdentity"):
		if aerr := s.prepare(req, managedIdentityVersions); aerr != nil {
			return aerr
		}
		return s.managedIdentity(req)
	case eq(t.Namespace, "Microsoft.ContainerService"):
		if aerr := s.prepare(req, containerServiceVersions); aerr != nil {
			return aerr
		}
		return s.containerService(req)
	case t.Namespace == "" && len(t.Rest) == 1 && eq(t.Rest[0], "resources"):
		if aerr := s.prepare(req, resourcesVersions); aerr != nil {
			return aerr
		}
		return s.resources(req)
	}
	return errNotEmulated(req.r.Method, req.r.URL.Path)
}

// prepare checks what every request needs before its provider looks at it: an api-version the
// provider accepts, a subscription the directory declares, and a token of the subscription's
// tenant.
func (s *Server) prepare(req *request, versions []string) *armError {
	v, ok := req.r.URL.Query()["api-version"]
	switch {
	case !ok || len(v) == 0 || v[0] == "":
		return errMissingAPIVersion()
	case !slices.Contains(versions, v[0]):
		return errAPIVersion(v[0], versions)
	}
	sub := req.target.Scope.Subscription
	if sub == "" {
		return nil
	}
	tenant, ok := s.dir.SubscriptionTenant(sub)
	if !ok {
		return errSubscriptionNotFound(sub)
	}
	if !strings.EqualFold(tenant, req.caller.tenantID) {
		return errWrongTenant(req.caller.issuer, tenant)
	}
	return nil
}

// authorize asks the directory whether the caller may perform action at scope; the refusal
// names id, the full ID of what was asked for, as ARM's does.
func (s *Server) authorize(c caller, action string, scope Scope, id string) *armError {
	if s.dir.Authorize(c.objectID, action, scope.String()) {
		return nil
	}
	return errAuthorization(c, action, id)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
