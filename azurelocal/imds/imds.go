// Package imds emulates the managed identity endpoint of the Azure Instance Metadata Service,
// http://169.254.169.254/metadata/identity/oauth2/token, for the identities the directory assigns
// to the local node.
//
// In DESIGN.md's flow it is the node level of identity resolution: ManagedIdentityCredential on a
// VM or AKS node asks IMDS, and the connect-to map sends 169.254.169.254:80 to this handler. The
// tokens come from azurelocal/entra, so they verify like any other.
//
// Not emulated:
//   - the instance metadata endpoints (/metadata/instance, attested data, scheduled events);
//   - IMDS's rate limits and the X-Forwarded-For rejection;
//   - token caching inside IMDS (each request mints a new token).
package imds

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// TokenPath is the managed identity token path.
const TokenPath = "/metadata/identity/oauth2/token"

// Issuer mints managed identity tokens; *entra.Server is one.
type Issuer interface {
	IssueManagedIdentityToken(p directory.Principal, resource string) (entra.AccessToken, error)
}

// Option configures a Server.
type Option func(*Server)

// WithObserver calls fn after each token request is answered. Default: none.
func WithObserver(fn func(entra.Record)) Option { return func(s *Server) { s.observe = fn } }

// WithClock sets the clock for expires_in and records. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is the IMDS emulator, an http.Handler.
type Server struct {
	dir     *directory.Directory
	issuer  Issuer
	observe func(entra.Record)
	now     func() time.Time
}

var _ http.Handler = (*Server)(nil)

// New returns an IMDS emulator for dir's node identities.
func New(dir *directory.Directory, issuer Issuer, opts ...Option) *Server {
	s := &Server{dir: dir, issuer: issuer, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// imdsError is IMDS's error body.
type imdsError struct {
	Status      int    `json:"-"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func badRequest(description string) *imdsError {
	return &imdsError{Status: http.StatusBadRequest, Error: "invalid_request", Description: description}
}

// ServeHTTP answers GET /metadata/identity/oauth2/token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "IMDS/150.870.65.1854")
	if r.URL.Path != TokenPath {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	rec := entra.Record{Host: hostOnly(r.Host), Path: r.URL.Path, Grant: entra.GrantManagedIdentity, Start: s.now()}
	resp, ierr := s.token(r, &rec)
	if ierr != nil {
		rec.Status = ierr.Status
		writeJSON(w, ierr.Status, ierr)
	} else {
		rec.Status = http.StatusOK
		writeJSON(w, http.StatusOK, resp)
	}
	rec.End = s.now()
	if s.observe != nil {
		s.observe(rec)
	}
}

func (s *Server) token(r *http.Request, rec *entra.Record) (map[string]string, *imdsError) {
	if r.Method != http.MethodGet {
		return nil, &imdsError{Status: http.StatusMethodNotAllowed, Error: "invalid_request", Description: "The request method is not supported; use GET"}
	}
	if !strings.EqualFold(r.Header.Get("Metadata"), "true") {
		return nil, badRequest("Required metadata header not specified")
	}
	q := r.URL.Query()
	if q.Get("api-version") == "" {
		return nil, badRequest("Required query variable 'api-version' is missing")
	}
	resource := q.Get("resource")
	if resource == "" {
		return nil, badRequest("Required audience parameter not specified")
	}
	rec.Resource = resource
	p, ierr := s.identity(q.Get("client_id"), q.Get("object_id"), firstNonEmpty(q.Get("msi_res_id"), q.Get("mi_res_id")))
	if ierr != nil {
		return nil, ierr
	}
	rec.TenantID, rec.ClientID = p.TenantID, p.ClientID
	tok, err := s.issuer.IssueManagedIdentityToken(p, resource)
	switch {
	case errors.Is(err, entra.ErrUnknownResource):
		return nil, &imdsError{Status: http.StatusBadRequest, Error: "invalid_resource",
			Description: "AADSTS500011: The resource principal named " + resource + " was not found in the tenant named " + p.TenantID + ". This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."}
	case err != nil:
		return nil, &imdsError{Status: http.StatusInternalServerError, Error: "unknown_error", Description: err.Error()}
	}
	expiresIn := strconv.Itoa(int(tok.Lifetime.Seconds()))
	return map[string]string{
		"access_token":   tok.Token,
		"client_id":      p.ClientID,
		"expires_in":     expiresIn,
		"expires_on":     strconv.FormatInt(tok.ExpiresOn.Unix(), 10),
		"ext_expires_in": expiresIn,
		"not_before":     strconv.FormatInt(tok.NotBefore.Unix(), 10),
		"resource":       resource,
		"token_type":     "Bearer",
	}, nil
}

// identity picks the node identity a request names, or the default one: the system-assigned
// identity if the node has one, else its only user-assigned identity.
func (s *Server) identity(clientID, objectID, resourceID string) (directory.Principal, *imdsError) {
	system, user := s.dir.NodeIdentities()
	all := user
	if system != nil {
		all = append([]directory.Principal{*system}, user...)
	}
	if clientID == "" && objectID == "" && resourceID == "" {
		switch {
		case system != nil:
			return *system, nil
		case len(user) == 1:
			return user[0], nil
		case len(user) > 1:
			return directory.Principal{}, badRequest("Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request")
		}
		return directory.Principal{}, badRequest("Identity not found")
	}
	for _, p := range all {
		if (clientID == "" || strings.EqualFold(clientID, p.ClientID)) &&
			(objectID == "" || strings.EqualFold(objectID, p.PrincipalID)) &&
			(resourceID == "" || strings.EqualFold(resourceID, p.ResourceID) && p.Kind == directory.KindManagedIdentity) {
			return p, nil
		}
	}
	return directory.Principal{}, badRequest("Identity not found")
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
