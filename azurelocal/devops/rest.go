package devops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// REST API resources the emulator serves, by their location IDs (the GUIDs azure-devops-go-api
// looks up in the answer to OPTIONS /{org}/_apis).
const (
	// StatusesLocationID is git's Statuses resource: {project}/_apis/git/repositories/
	// {repositoryId}/commits/{commitId}/statuses.
	StatusesLocationID = "428dd4fb-fda5-4722-af02-9313b80305da"
	// ResourceAreasLocationID is the Location area's ResourceAreas resource: _apis/ResourceAreas/{areaId}.
	ResourceAreasLocationID = "e81700f7-3be2-46de-8624-2eb35882fcaa"
	// GitAreaID is the resource area of git, as azure-devops-go-api's git.ResourceAreaId.
	GitAreaID = "4e080c62-fa21-4fbc-8fef-2a10a2b38049"
)

// Request names of the REST API in Records.
const (
	ReqLocations     = "_apis (OPTIONS)"
	ReqResourceAreas = "ResourceAreas"
	ReqStatuses      = "statuses"
)

// CommitStatus is a commit status as the REST API returns it.
type CommitStatus struct {
	ID           int                 `json:"id"`
	State        string              `json:"state"`
	Description  string              `json:"description,omitempty"`
	Context      CommitStatusContext `json:"context"`
	TargetURL    string              `json:"targetUrl,omitempty"`
	CreationDate time.Time           `json:"creationDate"`
	UpdatedDate  time.Time           `json:"updatedDate"`
	CreatedBy    IdentityRef         `json:"createdBy"`
	URL          string              `json:"url,omitempty"`
}

// CommitStatusContext names a status.
type CommitStatusContext struct {
	Name  string `json:"name"`
	Genre string `json:"genre,omitempty"`
}

// IdentityRef is who created a status.
type IdentityRef struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

// statusStore keeps the statuses of each commit in memory, oldest first.
type statusStore struct {
	mu sync.Mutex
	m  map[string][]CommitStatus // relPath(repo) + "@" + commit
}

// Statuses returns the statuses of a commit of a declared repository, the newest first, for tests
// and the demo to read without the REST API.
func (s *Server) Statuses(org, project, repo, commit string) []CommitStatus {
	r, ok := s.dir.DevOpsRepository(org, project, repo)
	if !ok {
		return nil
	}
	return s.statuses.list(relPath(r) + "@" + strings.ToLower(commit))
}

func (st *statusStore) list(key string) []CommitStatus {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := slices.Clone(st.m[key])
	slices.Reverse(out)
	return out
}

func (st *statusStore) add(key string, c CommitStatus) CommitStatus {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m == nil {
		st.m = map[string][]CommitStatus{}
	}
	c.ID = len(st.m[key]) + 1
	st.m[key] = append(st.m[key], c)
	return c
}

// restError is Azure DevOps' JSON error wrapper.
type restError struct {
	ID             string `json:"$id"`
	InnerException any    `json:"innerException"`
	Message        string `json:"message"`
	TypeName       string `json:"typeName"`
	TypeKey        string `json:"typeKey"`
	ErrorCode      int    `json:"errorCode"`
	EventID        int    `json:"eventId"`
}

var statusesPath = regexp.MustCompile(`^/([^/]+)/([^/]+)/_apis/git/repositories/([^/]+)/commits/([^/]+)/statuses/?$`)

// serveREST serves the REST API paths (those with an _apis segment) and reports whether the path
// was one.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.EscapedPath()
	if !strings.Contains(path, "/_apis") {
		return false
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 2 && strings.EqualFold(parts[1], "_apis") && r.Method == http.MethodOptions:
		s.serveLocations(w, r, parts[0])
	case len(parts) >= 3 && len(parts) <= 4 && strings.EqualFold(parts[1], "_apis") && strings.EqualFold(parts[2], "ResourceAreas") && r.Method == http.MethodGet:
		s.serveResourceAreas(w, r, parts[0], parts[3:])
	case len(parts) == 4 && strings.EqualFold(parts[1], "_apis") && strings.EqualFold(parts[2], "projects"):
		s.serveProject(w, r, parts[0], parts[3])
	case statusesPath.MatchString(path):
		m := statusesPath.FindStringSubmatch(path)
		s.serveStatuses(w, r, m[1], m[2], m[3], m[4])
	default:
		writeJSONError(w, http.StatusNotFound, "The resource cannot be found.", "NotFoundException")
	}
	return true
}

// serveLocations answers azure-devops-go-api's route discovery: the resources it may call on
// the organization, with their route templates and API versions.
func (s *Server) serveLocations(w http.ResponseWriter, r *http.Request, orgEscaped string) {
	org, err := url.PathUnescape(orgEscaped)
	rec := Record{Transport: "https", Organization: org, Request: ReqLocations}
	defer func() { s.record(rec) }()
	tenant, ok := s.dir.DevOpsTenant(org)
	if err != nil || !ok {
		rec.Status = writeJSONError(w, http.StatusNotFound, fmt.Sprintf("TF400898: The organization '%s' does not exist.", org), "OrganizationNotFoundException")
		return
	}
	c, f := s.authenticate(r, org)
	rec.Auth, rec.Principal = c.auth, c.objectID
	if f != nil {
		rec.Status, rec.Code = s.refuseREST(w, tenant, org, f)
		return
	}
	type location struct {
		ID              string `json:"id"`
		Area            string `json:"area"`
		ResourceName    string `json:"resourceName"`
		RouteTemplate   string `json:"routeTemplate"`
		ResourceVersion int    `json:"resourceVersion"`
		MinVersion      string `json:"minVersion"`
		MaxVersion      string `json:"maxVersion"`
		ReleasedVersion string `json:"releasedVersion"`
	}
	locs := []location{
		{StatusesLocationID, "git", "statuses", "{project}/_apis/{area}/repositories/{repositoryId}/commits/{commitId}/{resource}", 1, "1.0", "7.1", "7.1"},
		{ResourceAreasLocationID, "Location", "ResourceAreas", "_apis/{resource}/{areaId}", 1, "3.2", "7.1", "0.0"},
	}
	rec.Status = writeJSON(w, http.StatusOK, map[string]any{"count": len(locs), "value": locs})
}

// serveResourceAreas answers the resource area lookup (anonymous, as Azure DevOps answers it):
// git, served at the organization's URL.
func (s *Server) serveResourceAreas(w http.ResponseWriter, r *http.Request, orgEscaped string, rest []string) {
	org, err := url.PathUnescape(orgEscaped)
	rec := Record{Transport: "https", Organization: org, Request: ReqResourceAreas}
	defer func() { s.record(rec) }()
	if _, ok := s.dir.DevOpsTenant(org); err != nil || !ok {
		rec.Status = writeJSONError(w, http.StatusNotFound, fmt.Sprintf("TF400898: The organization '%s' does not exist.", org), "OrganizationNotFoundException")
		return
	}
	area := map[string]string{"id": GitAreaID, "name": "git", "locationUrl": "https://" + Host + "/" + url.PathEscape(org) + "/"}
	if len(rest) == 1 {
		if !strings.EqualFold(rest[0], GitAreaID) {
			rec.Status = writeJSONError(w, http.StatusNotFound, "The resource area "+rest[0]+" is not emulated: only git's.", "ResourceAreaNotFoundException")
			return
		}
		rec.Status = writeJSON(w, http.StatusOK, area)
		return
	}
	rec.Status = writeJSON(w, http.StatusOK, map[string]any{"count": 1, "value": []any{area}})
}

// serveStatuses lists (Readers) and creates (Contributors, with a PAT that writes) the statuses
// of a commit.
func (s *Server) serveStatuses(w http.ResponseWriter, r *http.Request, orgE, projectE, repoE, commitE string) {
	ref, err := decodeRef(orgE, projectE, repoE)
	commit, cerr := url.PathUnescape(commitE)
	rec := Record{Transport: "https", Organization: ref.Org, Project: ref.Project, Repository: ref.Repo, Request: ReqStatuses}
	defer func() { s.record(rec) }()
	if err != nil || cerr != nil {
		rec.Status = writeJSONError(w, http.StatusNotFound, "The resource cannot be found.", "NotFoundException")
		return
	}
	service := UploadPack
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		service = ReceivePack
	default:
		rec.Status = writeJSONError(w, http.StatusMethodNotAllowed, fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method), "")
		return
	}
	rec.Service = service
	if apiVersion(r) == "" {
		rec.Status = writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("No api-version was supplied for the \"%s\" request. The version must be supplied either as part of "+
			"the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. '?api-version=1.0').", r.Method), "VssVersionNotSpecifiedException")
		return
	}
	tenant, ok := s.dir.DevOpsTenant(ref.Org)
	if !ok {
		rec.Status, rec.Code = s.refuseREST(w, tenant, ref.Org, &refusal{status: http.StatusNotFound, code: codeNotFound, message: msgNotFound(ref.Repo)})
		return
	}
	c, f := s.authenticate(r, ref.Org)
	rec.Auth, rec.Principal = c.auth, c.objectID
	if f != nil {
		rec.Status, rec.Code = s.refuseREST(w, tenant, ref.Org, f)
		return
	}
	repo, member, f := s.authorize(ref, service, c)
	if f != nil {
		rec.Status, rec.Code = s.refuseREST(w, tenant, ref.Org, f)
		return
	}
	commit = strings.ToLower(commit)
	if !s.hasCommit(repo, commit) {
		rec.Status = writeJSONError(w, http.StatusNotFound, fmt.Sprintf("TF401175: The version descriptor <Commit: %s> could not be resolved to a version in the repository %s", commit, repo.Name), "GitUnresolvableToCommitException")
		return
	}
	key := relPath(repo) + "@" + commit
	if r.Method == http.MethodGet {
		list := s.statuses.list(key)
		rec.Status = writeJSON(w, http.StatusOK, map[string]any{"count": len(list), "value": list})
		return
	}
	var in CommitStatus
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	if err := dec.Decode(&in); err != nil {
		rec.Status = writeJSONError(w, http.StatusBadRequest, "The body of the request is not a GitStatus: "+err.Error(), "InvalidArgumentValueException")
		return
	}
	state, ok := statusState(in.State)
	if !ok || in.Context.Name == "" {
		rec.Status = writeJSONError(w, http.StatusBadRequest, "Value cannot be null or invalid. Parameter name: the status needs a context name and a state of notSet, pending, succeeded, failed, error or notApplicable.", "ArgumentException")
		return
	}
	now := s.now().UTC()
	in.State, in.CreationDate, in.UpdatedDate = state, now, now
	in.CreatedBy = IdentityRef{ID: member.ObjectID, DisplayName: member.Name, UniqueName: member.Name}
	out := s.statuses.add(key, in)
	out.URL = "https://" + Host + "/" + url.PathEscape(repo.Organization) + "/" + url.PathEscape(repo.Project) + "/_apis/git/repositories/" + url.PathEscape(repo.Name) + "/commits/" + commit + "/statuses/" + fmt.Sprint(out.ID)
	rec.Status = writeJSON(w, http.StatusCreated, out)
}

// statusState reads a state in any case, as Azure DevOps does, and returns its spelling.
func statusState(s string) (string, bool) {
	for _, v := range []string{"notSet", "pending", "succeeded", "failed", "error", "notApplicable"} {
		if strings.EqualFold(s, v) {
			return v, true
		}
	}
	return "", false
}

// apiVersion is the api-version of a REST request, from its query or its Accept header.
func apiVersion(r *http.Request) string {
	if v := r.URL.Query().Get("api-version"); v != "" {
		return v
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(k, "api-version") {
			return v
		}
	}
	return ""
}

// hasCommit reports whether the repository holds the commit.
func (s *Server) hasCommit(repo directory.DevOpsRepository, commit string) bool {
	if len(commit) < 4 || strings.Trim(commit, "0123456789abcdef") != "" {
		return false
	}
	path, err := s.ensureRepo(repo)
	if err != nil {
		return false
	}
	cmd := exec.Command(s.git, "-C", path, "cat-file", "-e", commit+"^{commit}")
	cmd.Env = append(os.Environ(), s.gitEnv...)
	return cmd.Run() == nil
}

// refuseREST answers a refusal as the REST API does: the JSON error wrapper, and on 401 the
// challenges and tenant of the Git endpoint.
func (s *Server) refuseREST(w http.ResponseWriter, tenant, org string, f *refusal) (int, string) {
	h := w.Header()
	if f.status == http.StatusUnauthorized {
		if tenant == "" {
			tenant = "common"
		}
		h.Add("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/"+tenant)
		h.Add("WWW-Authenticate", `Basic realm="https://`+Host+`/"`)
		h.Add("WWW-Authenticate", "TFS-Federated")
		h.Set("X-TFS-FedAuthRealm", "https://"+Host+"/")
		h.Set("X-TFS-FedAuthIssuer", "https://"+Host+"/"+url.PathEscape(org)+"/")
		h.Set("X-VSS-ResourceTenant", tenant)
	}
	if f.serviceError != "" {
		h.Set("X-TFS-ServiceError", strings.ReplaceAll(url.QueryEscape(f.serviceError), "+", "%20"))
	}
	typeKey := map[string]string{
		codeNotAuthorized: "UnauthorizedRequestException",
		codeNotFound:      "GitRepositoryNotFoundException",
		codeNoPermission:  "GitNeedsPermissionException",
	}[f.code]
	return writeJSONError(w, f.status, f.message, typeKey), f.code
}

func writeJSONError(w http.ResponseWriter, status int, message, typeKey string) int {
	typeName := ""
	if typeKey != "" {
		typeName = "Microsoft.TeamFoundation." + typeKey + ", Microsoft.TeamFoundation.Server.Core"
	}
	return writeJSON(w, status, restError{ID: "1", Message: message, TypeName: typeName, TypeKey: typeKey, EventID: 3000})
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
	return status
}
