package arm

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// assignmentFilter is what a role assignment list's $filter asks for.
type assignmentFilter struct {
	atScope   bool   // atScope(): at the scope and above it only
	principal string // principalId eq '...' or assignedTo('...')
}

var (
	filterAtScope    = regexp.MustCompile(`(?i)^atScope\(\)$`)
	filterPrincipal  = regexp.MustCompile(`(?i)^principalId\s+eq\s+'?([0-9a-fA-F-]{36})'?$`)
	filterAssignedTo = regexp.MustCompile(`(?i)^assignedTo\('([0-9a-fA-F-]{36})'\)$`)
	filterRoleName   = regexp.MustCompile(`(?i)^roleName\s+eq\s+'([^']{1,200})'$`)
)

// parseAssignmentFilter reads $filter: atScope(), principalId eq 'ID', assignedTo('ID'), or
// atScope() and one of the others.
func parseAssignmentFilter(f string) (assignmentFilter, *armError) {
	var out assignmentFilter
	if strings.TrimSpace(f) == "" {
		return out, nil
	}
	if len(f) > 512 {
		return out, errBadRequest("The $filter is longer than 512 characters.")
	}
	for _, term := range splitWord(f, "and") {
		term = strings.TrimSpace(term)
		switch {
		case filterAtScope.MatchString(term):
			out.atScope = true
		case filterPrincipal.MatchString(term) && out.principal == "":
			out.principal = filterPrincipal.FindStringSubmatch(term)[1]
		case filterAssignedTo.MatchString(term) && out.principal == "":
			out.principal = filterAssignedTo.FindStringSubmatch(term)[1]
		default:
			return out, newError(http.StatusBadRequest, "UnsupportedQuery",
				"The filter '%s' is not supported. Supported filters are atScope(), principalId eq '{value}', assignedTo('{value}'), and atScope() with one of the others.", f)
		}
	}
	return out, nil
}

// listAssignments answers GET SCOPE/providers/Microsoft.Authorization/roleAssignments: the
// assignments at the scope, above it and (without atScope()) below it.
func (s *Server) listAssignments(req *request) *armError {
	if req.r.Method != http.MethodGet {
		return errMethod(req.r.Method)
	}
	sc := req.target.Scope
	f, aerr := parseAssignmentFilter(req.r.URL.Query().Get("$filter"))
	if aerr != nil {
		return aerr
	}
	if aerr := s.authorize(req.caller, actionAssignmentRead, sc, req.target.Path()); aerr != nil {
		return aerr
	}
	if aerr := s.exists(sc); aerr != nil {
		return aerr
	}
	parents := hierarchy(s.dir.Spec())
	here := chain(sc.String(), parents)
	out := []assignmentBody{}
	for _, a := range s.dir.RoleAssignments() {
		if f.principal != "" && !eq(a.PrincipalID, f.principal) {
			continue
		}
		above := here[normalize(a.Scope)]
		below := !f.atScope && chain(a.Scope, parents)[normalize(sc.String())]
		if above || below {
			out = append(out, s.render(a))
		}
	}
	writeJSON(req.w, req.r, http.StatusOK, map[string]any{"value": out})
	return nil
}

// hierarchy maps subscription and management group scopes (normalized) to their parent group.
func hierarchy(spec directory.Spec) map[string]string {
	parents := map[string]string{}
	for _, mg := range spec.ManagementGroups {
		scope := normalize(rbac.ManagementGroupScope(mg.Name))
		if mg.Parent != "" {
			parents[scope] = normalize(rbac.ManagementGroupScope(mg.Parent))
		}
		for _, sub := range mg.Subscriptions {
			parents[normalize(rbac.SubscriptionScope(sub))] = scope
		}
	}
	return parents
}

// chain returns scope and every scope above it (normalized): its prefixes, the management
// groups above its subscription or management group, and the root.
func chain(scope string, parents map[string]string) map[string]bool {
	id := normalize(scope)
	out := map[string]bool{"/": true}
	for i := 1; i <= len(id); i++ {
		if i == len(id) || id[i] == '/' {
			out[id[:i]] = true
		}
	}
	start := ""
	const mgPrefix = "/providers/microsoft.management/managementgroups/"
	if rest, ok := strings.CutPrefix(id, mgPrefix); ok {
		name, _, _ := strings.Cut(rest, "/")
		start = mgPrefix + name
	} else if rest, ok := strings.CutPrefix(id, "/subscriptions/"); ok {
		sub, _, _ := strings.Cut(rest, "/")
		start = "/subscriptions/" + sub
	}
	for n := 0; start != "" && n < 16; n++ { // the directory rejects cycles; the bound is a guard
		out[start] = true
		start = parents[start]
	}
	return out
}

func normalize(scope string) string {
	s := strings.ToLower(strings.TrimSpace(scope))
	if len(s) > 1 {
		s = strings.TrimRight(s, "/")
	}
	return s
}

// definitionBody is a role definition on the wire (api-version 2022-04-01).
type definitionBody struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Type       string               `json:"type"`
	Properties definitionProperties `json:"properties"`
}

type definitionProperties struct {
	RoleName         string       `json:"roleName"`
	Type             string       `json:"type"`
	Description      string       `json:"description"`
	AssignableScopes []string     `json:"assignableScopes"`
	Permissions      []permission `json:"permissions"`
	CreatedOn        string       `json:"createdOn"`
	UpdatedOn        string       `json:"updatedOn"`
	CreatedBy        *string      `json:"createdBy"`
	UpdatedBy        *string      `json:"updatedBy"`
}

func (s *Server) renderDefinition(sc Scope, r rbac.Role) definitionBody {
	kind := "CustomRole"
	if r.BuiltIn {
		kind = "BuiltInRole"
	}
	perms := make([]permission, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = permission{
			Actions: nonNil(p.Actions), NotActions: nonNil(p.NotActions),
			DataActions: nonNil(p.DataActions), NotDataActions: nonNil(p.NotDataActions),
		}
	}
	at := s.started.Format("2006-01-02T15:04:05.0000000Z")
	return definitionBody{
		ID: definitionID(sc.Subscription, r.ID), Name: r.ID, Type: typeDefinition,
		Properties: definitionProperties{
			RoleName: r.Name, Type: kind, Description: r.Description,
			AssignableScopes: nonNil(r.AssignableScopes), Permissions: perms, CreatedOn: at, UpdatedOn: at,
		},
	}
}

// permission is rbac.Permission as ARM writes it: every list present, empty or not.
type permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// getDefinition answers GET SCOPE/providers/Microsoft.Authorization/roleDefinitions/ID.
func (s *Server) getDefinition(req *request, id string) *armError {
	if req.r.Method != http.MethodGet {
		return errMethod(req.r.Method)
	}
	sc := req.target.Scope
	if sc.Level() != LevelRoot {
		if aerr := s.authorize(req.caller, actionDefinitionRead, sc, req.target.Path()); aerr != nil {
			return aerr
		}
		if aerr := s.exists(sc); aerr != nil {
			return aerr
		}
	}
	r, ok := findRole(s.dir.Roles(), id)
	if !ok {
		return newError(http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", id)
	}
	writeJSON(req.w, req.r, http.StatusOK, s.renderDefinition(sc, r))
	return nil
}

// listDefinitions answers GET SCOPE/providers/Microsoft.Authorization/roleDefinitions, with
// $filter=roleName eq 'NAME' as `az role definition list --name` sends it.
func (s *Server) listDefinitions(req *request) *armError {
	if req.r.Method != http.MethodGet {
		return errMethod(req.r.Method)
	}
	sc := req.target.Scope
	name := ""
	if f := strings.TrimSpace(req.r.URL.Query().Get("$filter")); f != "" {
		m := filterRoleName.FindStringSubmatch(f)
		if m == nil {
			return newError(http.StatusBadRequest, "UnsupportedQuery", "The filter '%s' is not supported. Supported filters are roleName eq '{value}'.", f)
		}
		name = m[1]
	}
	if sc.Level() != LevelRoot {
		if aerr := s.authorize(req.caller, actionDefinitionRead, sc, req.target.Path()); aerr != nil {
			return aerr
		}
		if aerr := s.exists(sc); aerr != nil {
			return aerr
		}
	}
	out := []definitionBody{}
	for _, r := range s.dir.Roles() {
		if name == "" || eq(r.Name, name) {
			out = append(out, s.renderDefinition(sc, r))
		}
	}
	writeJSON(req.w, req.r, http.StatusOK, map[string]any{"value": out})
	return nil
}
