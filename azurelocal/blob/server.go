package blob

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Names of the service.
const (
	// Suffix is the DNS suffix of storage accounts' Blob service: an account NAME is
	// https://NAME.blob.core.windows.net.
	Suffix = ".blob.core.windows.net"
	// Resource is the audience of Azure Storage's tokens, and the resource its challenge names;
	// a client asks for the scope Resource + "/.default".
	Resource = "https://storage.azure.com"
	// ApplicationID is Azure Storage's application ID, also accepted as an audience.
	ApplicationID = "e406a681-f3d4-42a8-90b6-c2b029497af1"
)

// Hosts returns the host patterns the server answers on; register each with the gateway.
func Hosts() []string { return []string{"*" + Suffix} }

// How a request authenticates, as Record.Auth names it.
const (
	AuthBearer    = "Bearer"
	AuthSharedKey = "SharedKey"
	AuthSAS       = "SAS"
	AuthAnonymous = "Anonymous"
)

// Record describes one request, for tests that check who was refused and why. Nothing secret is
// recorded: no token, no key, no signature.
type Record struct {
	// Account is the storage account's name as the directory declares it ("" for an unknown
	// account). Container and Blob are as the URL names them.
	Account, Container, Blob string
	// Operation is the Blob REST operation, such as ListBlobs or GetBlob ("" for one the
	// emulator's table does not name).
	Operation string
	// Auth is AuthBearer, AuthSharedKey (SharedKey and SharedKeyLite), AuthSAS or AuthAnonymous.
	Auth string
	// Principal is the object ID (oid) of a Bearer token that checked out.
	Principal string
	// Status is the HTTP status of the answer, and Code its x-ms-error-code ("" on success);
	// both are Azurite's when the request reached it.
	Status int
	Code   string
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock token lifetimes are judged by, to tell an expired token from a
// forged one in the 401. It should be the local Entra ID's, whose Verifier checks expiry.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger receives the errors of forwarding to Azurite. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithObserver calls fn after each request is answered. fn must be safe for concurrent use.
// Default: none.
func WithObserver(fn func(Record)) Option { return func(s *Server) { s.observe = fn } }

// Server is the Blob service of the local Azure: an http.Handler for the blob hosts that checks
// Bearer tokens and roles itself and forwards every request it lets through to Azurite. It is
// safe for concurrent use.
type Server struct {
	dir      *directory.Directory
	verifier *entra.Verifier
	azurite  *Azurite
	proxy    *httputil.ReverseProxy
	now      func() time.Time
	log      *slog.Logger
	observe  func(Record)
}

var _ http.Handler = (*Server)(nil)

// New returns the Blob service for the storage accounts of dir, verifying Entra tokens with
// verifier and forwarding to azurite, which must serve the same accounts.
func New(dir *directory.Directory, verifier *entra.Verifier, azurite *Azurite, opts ...Option) (*Server, error) {
	if azurite == nil {
		return nil, fmt.Errorf("blob: no Azurite to forward to (StartAzurite starts one)")
	}
	target, err := url.Parse(azurite.URL())
	if err != nil {
		return nil, fmt.Errorf("blob: Azurite's address: %w", err)
	}
	s := &Server{dir: dir, verifier: verifier, azurite: azurite, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// Azurite reads the account from a host name that is not an IP address, so the
			// request keeps the path its client signed: /CONTAINER/BLOB, not Azurite's path
			// style /ACCOUNT/CONTAINER/BLOB, whose canonicalized resource differs.
			// Host names ignore case; Azurite's account names do not.
			pr.Out.Host = strings.ToLower(pr.In.Host)
		},
		Transport:      azurite.Transport(),
		ModifyResponse: translate,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away; there is no one to answer
			}
			// A url.Error would print the URL, and with it a SAS.
			if ue := (*url.Error)(nil); errors.As(err, &ue) {
				err = ue.Err
			}
			s.log.Error("blob: forwarding to Azurite failed", "method", r.Method, "host", r.Host, "path", r.URL.Path, "error", err)
			errAzurite(err).write(w, r, "")
		},
	}
	return s, nil
}

// Azurite returns the Azurite this server forwards to.
func (s *Server) Azurite() *Azurite { return s.azurite }

// account is the storage account a request addresses.
type account struct {
	name, id, tenant string
}

// lookup finds the declared account for a host such as myaccount.blob.core.windows.net.
func (s *Server) lookup(host string) (account, bool) {
	name, ok := strings.CutSuffix(host, Suffix)
	if !ok || name == "" || strings.Contains(name, ".") {
		return account{}, false
	}
	sa, ok := s.dir.StorageAccount(name)
	if !ok {
		return account{}, false
	}
	tenant, _ := s.dir.SubscriptionTenant(sa.Subscription)
	return account{name: sa.Name, id: sa.ID(), tenant: tenant}, true
}

// ServeHTTP serves the account named by the request's Host header. A Bearer token is checked
// here, and the caller's role for the operation (401 and 403 in Azure Storage's words); every
// request that passes, and every request with a shared key, a SAS or no credentials at all, goes
// on to Azurite, whose answer is the client's.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(strings.TrimSuffix(hostOnly(r.Host), "."))
	req := classify(r.Method, r.URL.Path, r.URL.Query())
	rec := Record{Container: req.Container, Blob: req.Blob, Operation: req.Op.Name, Auth: authKind(r)}
	acct, ok := s.lookup(host)
	if !ok {
		s.refuse(w, r, errNoAccount(host), "", &rec)
		return
	}
	rec.Account = acct.name
	if rec.Auth == AuthBearer {
		c, e := s.authenticate(r, acct)
		if e != nil {
			s.refuse(w, r, e, s.challenge(acct), &rec)
			return
		}
		rec.Principal = c.objectID
		if e := s.authorize(acct, c, req); e != nil {
			s.refuse(w, r, e, "", &rec)
			return
		}
	}
	rw := &statusWriter{ResponseWriter: w}
	s.proxy.ServeHTTP(rw, r)
	rec.Status, rec.Code = rw.status, rw.code
	s.record(rec)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, e *storageError, challenge string, rec *Record) {
	e.write(w, r, challenge)
	rec.Status, rec.Code = e.status, e.code
	s.record(*rec)
}

func (s *Server) record(rec Record) {
	if s.observe != nil {
		s.observe(rec)
	}
}

// authKind tells how a request authenticates: its Authorization scheme, else a SAS signature in
// the query, else nothing.
func authKind(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, _, _ := strings.Cut(strings.TrimSpace(auth), " ")
		if strings.EqualFold(scheme, "Bearer") {
			return AuthBearer
		}
		return AuthSharedKey
	}
	if r.URL.Query().Has("sig") {
		return AuthSAS
	}
	return AuthAnonymous
}

// statusWriter keeps the status and error code of Azurite's answer for the Record.
type statusWriter struct {
	http.ResponseWriter
	status int
	code   string
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status, w.code = status, w.Header().Get(headerErrorCode)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection, for the proxy's flushes.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// NotRunning answers every request with 501 NotImplemented, saying that Blob was not started:
// what the local Azure serves on the blob hosts when Azurite is not wanted.
func NotRunning() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { errNotStarted.write(w, r, "") })
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(hostport, "[]")
}
