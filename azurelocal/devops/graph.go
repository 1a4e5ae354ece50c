package devops

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Hosts of Azure DevOps' organization-level services.
const (
	// EntitlementsHost serves member entitlements (vsaex: user and service principal
	// entitlements).
	EntitlementsHost = "vsaex.dev.azure.com"
	// GraphHost serves the graph: descriptors, groups and memberships (vssps).
	GraphHost = "vssps.dev.azure.com"
)

// Request names of the graph and entitlement APIs in Records.
const (
	ReqEntitlements = "serviceprincipalentitlements"
	ReqProjects     = "projects"
	ReqDescriptors  = "graph/descriptors"
	ReqGroups       = "graph/groups"
	ReqMemberships  = "graph/memberships"
)

// ProjectAdministrators is listed among a project's groups; its membership is not emulated.
const ProjectAdministrators = "Project Administrators"

// Azure DevOps' refusals of the graph and entitlement APIs.
func msgNoPermission(account, permission string) string {
	return fmt.Sprintf("TF50309: The following account does not have sufficient permissions to complete the operation: %s. The following permissions are needed to perform this operation: %s.", account, permission)
}

func msgNoProject(name string) string {
	return fmt.Sprintf("TF200016: The following project does not exist: %s. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", name)
}

// maxGraphBody bounds the JSON body of an entitlement request.
const maxGraphBody = 64 << 10

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// restContext is a REST request whose organization exists and whose caller is one of its
// members.
type restContext struct {
	org, tenant string
	caller      caller
	member      directory.DevOpsMember
	rec         *Record
}

// begin checks what every organization-level REST call checks: the organization, the
// api-version, the credential, and that the caller belongs to the organization.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, orgEscaped string, rec *Record) (restContext, bool) {
	org, err := url.PathUnescape(orgEscaped)
	rec.Organization = org
	tenant, ok := s.dir.DevOpsTenant(org)
	if err != nil || !ok {
		rec.Status = writeJSONError(w, http.StatusNotFound, fmt.Sprintf("TF400898: The organization '%s' does not exist.", org), "OrganizationNotFoundException")
		return restContext{}, false
	}
	if apiVersion(r) == "" {
		rec.Status = writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("No api-version was supplied for the \"%s\" request. The version must be supplied either as part of "+
			"the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. '?api-version=1.0').", r.Method), "VssVersionNotSpecifiedException")
		return restContext{}, false
	}
	c, f := s.authenticate(r, org)
	rec.Auth, rec.Principal = c.auth, c.objectID
	if f != nil {
		rec.Status, rec.Code = s.refuseREST(w, tenant, org, f)
		return restContext{}, false
	}
	m, ok := s.dir.DevOpsMember(org, c.objectID)
	if !ok || !strings.EqualFold(c.tenantID, tenant) {
		rec.Status, rec.Code = s.refuseREST(w, tenant, org, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgNotAuthorized(c.name)})
		return restContext{}, false
	}
	return restContext{org: org, tenant: tenant, caller: c, member: m, rec: rec}, true
}

// requireAdmin refuses a write by anyone but a Project Collection Administrator.
func (s *Server) requireAdmin(w http.ResponseWriter, rc restContext, permission string) bool {
	if s.dir.DevOpsAdministrator(rc.org, rc.caller.objectID) {
		return true
	}
	rc.rec.Status = writeJSONError(w, http.StatusForbidden, msgNoPermission(rc.member.Name, permission), "UnauthorizedRequestException")
	rc.rec.Code = "TF50309"
	return false
}

// serveOrgServices serves vsaex.dev.azure.com and vssps.dev.azure.com.
func (s *Server) serveOrgServices(w http.ResponseWriter, r *http.Request, host string) {
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	rec := Record{Transport: "https"}
	defer func() { s.record(rec) }()
	if len(parts) < 3 || !strings.EqualFold(parts[1], "_apis") {
		rec.Status = writeJSONError(w, http.StatusNotFound, "The resource cannot be found.", "NotFoundException")
		return
	}
	route, method := strings.ToLower(strings.Join(parts[2:min(len(parts), 4)], "/")), r.Method
	switch {
	case host == EntitlementsHost && len(parts) == 3 && route == ReqEntitlements && method == http.MethodPost:
		rec.Request = ReqEntitlements
		if rc, ok := s.begin(w, r, parts[0], &rec); ok && s.requireAdmin(w, rc, "Add users to the organization") {
			s.addEntitlement(w, r, rc)
		}
	case host == GraphHost && len(parts) == 5 && route == ReqDescriptors && method == http.MethodGet:
		rec.Request = ReqDescriptors
		if rc, ok := s.begin(w, r, parts[0], &rec); ok {
			s.getDescriptor(w, rc, parts[4])
		}
	case host == GraphHost && len(parts) == 4 && route == ReqGroups && method == http.MethodGet:
		rec.Request = ReqGroups
		if rc, ok := s.begin(w, r, parts[0], &rec); ok {
			s.listGroups(w, r, rc)
		}
	case host == GraphHost && len(parts) == 6 && route == ReqMemberships && (method == http.MethodPut || method == http.MethodGet || method == http.MethodHead):
		rec.Request = ReqMemberships
		if rc, ok := s.begin(w, r, parts[0], &rec); ok {
			s.serveMembership(w, r, rc, parts[4], parts[5])
		}
	default:
		rec.Status = writeJSONError(w, http.StatusNotFound, "The resource cannot be found.", "NotFoundException")
	}
}

// hostOf is the request's host name in lower case, without a port.
func hostOf(r *http.Request) string {
	h := r.Host
	if name, _, err := net.SplitHostPort(h); err == nil {
		h = name
	}
	return strings.ToLower(h)
}

// ProjectID is the ID of a project: a GUID derived from the organization's and project's names
// (Azure DevOps draws one at random when the project is made; here it is stable across restarts).
func ProjectID(org, project string) string {
	h := sha1.Sum([]byte("azurelocal/devops/project|" + strings.ToLower(org) + "|" + strings.ToLower(project)))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// projectByID finds a project of org by its ID or its name, and returns its name as declared.
func (s *Server) projectByID(org, idOrName string) (string, bool) {
	for _, p := range s.dir.DevOpsProjects(org) {
		if strings.EqualFold(p, idOrName) || strings.EqualFold(ProjectID(org, p), idOrName) {
			return p, true
		}
	}
	return "", false
}

// serveProject answers GET https://dev.azure.com/{org}/_apis/projects/{projectId or name}.
func (s *Server) serveProject(w http.ResponseWriter, r *http.Request, orgEscaped, projectEscaped string) {
	rec := Record{Transport: "https", Request: ReqProjects}
	defer func() { s.record(rec) }()
	if r.Method != http.MethodGet {
		rec.Status = writeJSONError(w, http.StatusMethodNotAllowed, fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method), "")
		return
	}
	rc, ok := s.begin(w, r, orgEscaped, &rec)
	if !ok {
		return
	}
	ref, _ := url.PathUnescape(projectEscaped)
	rec.Project = ref
	name, ok := s.projectByID(rc.org, ref)
	if !ok {
		rec.Status = writeJSONError(w, http.StatusNotFound, msgNoProject(ref), "ProjectDoesNotExistWithNameException")
		return
	}
	id := ProjectID(rc.org, name)
	rec.Status = writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "name": name, "url": "https://" + Host + "/" + url.PathEscape(rc.org) + "/_apis/projects/" + id,
		"state": "wellFormed", "revision": 1, "visibility": "private",
		"defaultTeam": map[string]string{"id": ProjectID(rc.org, name+" Team"), "name": name + " Team"},
	})
}

// Descriptors: a subject type, a dot, and the base64url encoding of what it names.
const (
	descUser             = "aad"
	descServicePrincipal = "aadsp"
	descGroup            = "vssgp"
	descScope            = "scp"
)

func descriptor(kind, key string) string {
	return kind + "." + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// parseDescriptor splits a descriptor into its subject type (1 to 16 ASCII letters) and what it
// names.
func parseDescriptor(d string) (kind, key string, ok bool) {
	kind, enc, ok := strings.Cut(d, ".")
	if !ok || len(d) > 512 || len(kind) == 0 || len(kind) > 16 || strings.Trim(strings.ToLower(kind), "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return "", "", false
	}
	return strings.ToLower(kind), string(raw), true
}

// subjectDescriptor is the graph descriptor of a user or principal.
func subjectDescriptor(m directory.DevOpsMember) string {
	if m.Kind == directory.KindUser {
		return descriptor(descUser, m.ObjectID)
	}
	return descriptor(descServicePrincipal, m.ObjectID)
}

// getDescriptor resolves a storage key (a project ID) to its descriptor.
func (s *Server) getDescriptor(w http.ResponseWriter, rc restContext, keyEscaped string) {
	key, _ := url.PathUnescape(keyEscaped)
	name, ok := s.projectByID(rc.org, key)
	if !ok || !guidPattern.MatchString(key) {
		rc.rec.Status = writeJSONError(w, http.StatusNotFound, fmt.Sprintf("VS860018: The storage key %s was not found.", key), "StorageKeyNotFoundException")
		return
	}
	rc.rec.Project = name
	d := descriptor(descScope, ProjectID(rc.org, name))
	rc.rec.Status = writeJSON(w, http.StatusOK, map[string]any{
		"value": d, "_links": map[string]any{"self": map[string]string{"href": "https://" + GraphHost + "/" + url.PathEscape(rc.org) + "/_apis/Graph/Descriptors/" + key}},
	})
}

// projectGroups are the groups each project has, with their descriptions.
var projectGroups = []struct{ name, description string }{
	{string(directory.DevOpsReaders), "Members of this group have access to the team project."},
	{string(directory.DevOpsContributors), "Members of this group can add, modify, and delete items within the team project."},
	{ProjectAdministrators, "Members of this group can perform all operations in the team project."},
}

func (s *Server) group(org, project, name string) map[string]any {
	id := ProjectID(org, project)
	d := descriptor(descGroup, id+`\`+name)
	for _, g := range projectGroups {
		if g.name == name {
			return map[string]any{
				"subjectKind": "group", "description": g.description, "domain": "vstfs:///Classification/TeamProject/" + id,
				"principalName": "[" + project + `]\` + name, "origin": "vsts", "originId": ProjectID(org, project+`\`+name),
				"displayName": name, "descriptor": d,
				"url": "https://" + GraphHost + "/" + url.PathEscape(org) + "/_apis/Graph/Groups/" + d,
			}
		}
	}
	return nil
}

// listGroups lists the groups of the project that scopeDescriptor names, or of every project.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, rc restContext) {
	projects := s.dir.DevOpsProjects(rc.org)
	if sd := r.URL.Query().Get("scopeDescriptor"); sd != "" {
		kind, id, ok := parseDescriptor(sd)
		name, found := s.projectByID(rc.org, id)
		if !ok || kind != descScope || !found || !guidPattern.MatchString(id) {
			rc.rec.Status = writeJSONError(w, http.StatusNotFound, fmt.Sprintf("VS860019: The scope %s was not found.", sd), "GraphScopeNotFoundException")
			return
		}
		projects = []string{name}
	}
	var groups []map[string]any
	for _, p := range projects {
		for _, g := range projectGroups {
			groups = append(groups, s.group(rc.org, p, g.name))
		}
	}
	rc.rec.Status = writeJSON(w, http.StatusOK, map[string]any{"count": len(groups), "value": groups})
}

// serveMembership checks (GET, HEAD) and adds (PUT, Project Collection Administrators only) a
// member of a project group.
func (s *Server) serveMembership(w http.ResponseWriter, r *http.Request, rc restContext, subjectEscaped, containerEscaped string) {
	subject, _ := url.PathUnescape(subjectEscaped)
	container, _ := url.PathUnescape(containerEscaped)
	notFound := func(msg, typeKey string) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			rc.rec.Status = http.StatusNotFound
			return
		}
		rc.rec.Status = writeJSONError(w, http.StatusNotFound, msg, typeKey)
	}
	kind, oid, ok := parseDescriptor(subject)
	m, known := s.dir.DevOpsMember(rc.org, oid)
	if !ok || kind != descUser && kind != descServicePrincipal || !known || subjectDescriptor(m) != subject {
		notFound(fmt.Sprintf("VS860015: The subject %s was not found in the organization; add it first (a user or service principal entitlement).", subject), "GraphSubjectNotFoundException")
		return
	}
	kind, key, ok := parseDescriptor(container)
	projectID, group, _ := strings.Cut(key, `\`)
	project, found := s.projectByID(rc.org, projectID)
	if !ok || kind != descGroup || !found || s.group(rc.org, project, group) == nil {
		notFound(fmt.Sprintf("VS860017: The group %s was not found.", container), "GraphSubjectNotFoundException")
		return
	}
	rc.rec.Project = project
	if group == ProjectAdministrators {
		rc.rec.Status = writeJSONError(w, http.StatusBadRequest, "azurelocal: membership of "+ProjectAdministrators+" is not emulated; use Readers or Contributors.", "NotSupportedException")
		return
	}
	body := map[string]any{
		"containerDescriptor": container, "memberDescriptor": subject,
		"_links": map[string]any{
			"self":      map[string]string{"href": "https://" + GraphHost + "/" + url.PathEscape(rc.org) + "/_apis/Graph/Memberships/" + subject + "/" + container},
			"container": map[string]string{"href": "https://" + GraphHost + "/" + url.PathEscape(rc.org) + "/_apis/Graph/Groups/" + container},
		},
	}
	if r.Method != http.MethodPut {
		if !s.dir.DevOpsInGroup(rc.org, project, directory.DevOpsGroup(group), oid) {
			notFound(fmt.Sprintf("VS860021: The membership of %s in %s was not found.", subject, container), "GraphMembershipNotFoundException")
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			rc.rec.Status = http.StatusOK
			return
		}
		rc.rec.Status = writeJSON(w, http.StatusOK, body)
		return
	}
	if !s.requireAdmin(w, rc, "Manage group membership") {
		return
	}
	if _, err := s.dir.AddDevOpsGroupMember(rc.org, project, directory.DevOpsGroup(group), oid); err != nil {
		rc.rec.Status = writeJSONError(w, http.StatusBadRequest, err.Error(), "InvalidArgumentValueException")
		return
	}
	rc.rec.Status = writeJSON(w, http.StatusCreated, body)
}
