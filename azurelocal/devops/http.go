package devops

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/url"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// maxUploadPackRequest bounds the negotiation a client sends to git-upload-pack, which is read
// whole to check its capabilities: wants and haves of about 50 bytes each.
const maxUploadPackRequest = 64 << 20

// ServeHTTP serves Git's smart HTTP protocol on dev.azure.com: info/refs for git-upload-pack and
// git-receive-pack, and the two services; and the REST API paths of rest.go (commit statuses and
// the discovery azure-devops-go-api does). Anything else is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := hostOf(r); h == EntitlementsHost || h == GraphHost {
		s.serveOrgServices(w, r, h)
		return
	}
	if s.serveREST(w, r) {
		return
	}
	req, err := parseHTTPPath(r.URL.EscapedPath())
	service := req.Kind
	if req.Kind == reqInfoRefs {
		service = r.URL.Query().Get("service")
	}
	wantMethod := http.MethodPost
	if req.Kind == reqInfoRefs {
		wantMethod = http.MethodGet
	}
	if err != nil || r.Method != wantMethod || service != UploadPack && service != ReceivePack {
		// The dumb protocol (info/refs without a service, objects/...) is not served, as in Azure
		// Repos.
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	rec := Record{Transport: "https", Organization: req.Org, Project: req.Project, Repository: req.Repo, Request: req.Kind, Service: service}
	defer func() { s.record(rec) }()
	tenant, ok := s.dir.DevOpsTenant(req.Org)
	if !ok {
		rec.Status, rec.Code = s.refuse(w, tenant, req, service, &refusal{status: http.StatusNotFound, code: codeNotFound, message: msgNotFound(req.Repo)})
		return
	}
	c, f := s.authenticate(r, req.Org)
	rec.Auth, rec.Principal = c.auth, c.objectID
	if f != nil {
		rec.Status, rec.Code = s.refuse(w, tenant, req, service, f)
		return
	}
	repo, member, f := s.authorize(req.repoRef, service, c)
	if f != nil {
		rec.Status, rec.Code = s.refuse(w, tenant, req, service, f)
		return
	}
	var body []byte
	if req.Kind == reqUploadPack {
		if body, f = readUploadPackRequest(r); f != nil {
			rec.Status, rec.Code = s.refuse(w, tenant, req, service, f)
			return
		}
	}
	rec.Status = s.serveBackend(w, r, repo, req.Kind, member.Name, body)
}

// refuse answers f as Azure DevOps does and returns the status and code for the record. A 401
// carries the challenges that make git and Git Credential Manager retry with credentials, and the
// tenant that tokens must come from.
func (s *Server) refuse(w http.ResponseWriter, tenant string, req httpRequest, service string, f *refusal) (int, string) {
	h := w.Header()
	if f.status == http.StatusUnauthorized {
		if tenant == "" {
			tenant = "common"
		}
		h.Add("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/"+tenant)
		h.Add("WWW-Authenticate", `Basic realm="https://`+Host+`/"`)
		h.Add("WWW-Authenticate", "TFS-Federated")
		h.Set("X-TFS-FedAuthRealm", "https://"+Host+"/")
		h.Set("X-TFS-FedAuthIssuer", "https://"+Host+"/"+url.PathEscape(req.Org)+"/")
		h.Set("X-VSS-ResourceTenant", tenant)
	}
	if f.serviceError != "" {
		h.Set("X-TFS-ServiceError", strings.ReplaceAll(url.QueryEscape(f.serviceError), "+", "%20"))
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	body := f.message + "\n"
	if f.status == http.StatusForbidden && service == ReceivePack {
		// What Azure Repos sends a reader who pushes: the start of a receive-pack advertisement,
		// then the message as a packet and as text. git prints each line after "remote: ".
		body = pktLine("# service="+ReceivePack+"\n") + "0000" + "0000" + pktLine(f.message+"\n") + f.message + "\n"
	}
	w.WriteHeader(f.status)
	io.WriteString(w, body)
	return f.status, f.code
}

// pktLine frames s as a Git packet line.
func pktLine(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// readUploadPackRequest reads a git-upload-pack request and refuses one whose first want does
// not ask for multi_ack or multi_ack_detailed: Azure Repos requires clients to support it, which
// is why go-git, unless told otherwise, cannot clone from it.
func readUploadPackRequest(r *http.Request) ([]byte, *refusal) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUploadPackRequest+1))
	if err != nil {
		return nil, &refusal{status: http.StatusBadRequest, message: "the request body could not be read"}
	}
	if len(body) > maxUploadPackRequest {
		return nil, &refusal{status: http.StatusRequestEntityTooLarge, message: "the request is too large"}
	}
	plain := io.Reader(bytes.NewReader(body))
	if enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc == "gzip" || enc == "x-gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, &refusal{status: http.StatusBadRequest, code: codeProtocol, message: msgMultiAck}
		}
		plain = zr
	}
	if !asksMultiAck(plain) {
		return nil, &refusal{status: http.StatusBadRequest, code: codeProtocol, message: msgMultiAck}
	}
	return body, nil
}

// asksMultiAck reads the first packet of an upload-pack request: a want line must list
// multi_ack or multi_ack_detailed among its capabilities. A request that starts otherwise (a
// flush, a protocol v2 command) passes.
func asksMultiAck(r io.Reader) bool {
	line, err := readPkt(r)
	if err != nil {
		return false
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "want" {
		return true
	}
	for _, c := range fields[min(2, len(fields)):] {
		if c == "multi_ack" || c == "multi_ack_detailed" {
			return true
		}
	}
	return false
}

// readPkt reads one packet line; a flush packet gives "".
func readPkt(r io.Reader) (string, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return "", err
	}
	var n int
	if _, err := fmt.Sscanf(string(head[:]), "%04x", &n); err != nil {
		return "", fmt.Errorf("malformed packet length %q", head[:])
	}
	if n == 0 {
		return "", nil
	}
	if n < 4 || n > 65520 {
		return "", fmt.Errorf("malformed packet length %d", n)
	}
	buf := make([]byte, n-4)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// serveBackend hands the request to git http-backend for the repository, without the
// client's credentials and without protocol v2, which Azure Repos does not speak.
func (s *Server) serveBackend(w http.ResponseWriter, r *http.Request, repo directory.DevOpsRepository, kind, user string, body []byte) int {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	r2.Header.Del("Git-Protocol")
	r2.URL.Path, r2.URL.RawPath = "/"+relPath(repo)+"/"+kind, ""
	if body != nil {
		r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	if _, err := s.ensureRepo(repo); err != nil {
		s.log.Error("devops: repository missing", "repository", relPath(repo), "error", err)
		http.Error(w, "the repository could not be opened", http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	env := append([]string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user}, s.gitEnv...)
	h := &cgi.Handler{
		Path: s.backend, Root: "/", Dir: s.root, Env: env,
		Logger: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		Stderr: logWriter{s.log, relPath(repo)},
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.ServeHTTP(sw, r2)
	return sw.status
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logWriter sends git's error output to the logger, a line at a time.
type logWriter struct {
	log  *slog.Logger
	repo string
}

func (l logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			l.log.Warn("devops: git", "repository", l.repo, "stderr", line)
		}
	}
	return len(p), nil
}
