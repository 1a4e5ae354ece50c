package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// Operations of Microsoft.Authorization this emulator checks.
const (
	actionAssignmentRead   = "Microsoft.Authorization/roleAssignments/read"
	actionAssignmentWrite  = "Microsoft.Authorization/roleAssignments/write"
	actionAssignmentDelete = "Microsoft.Authorization/roleAssignments/delete"
	actionDefinitionRead   = "Microsoft.Authorization/roleDefinitions/read"
	typeAssignment         = "Microsoft.Authorization/roleAssignments"
	typeDefinition         = "Microsoft.Authorization/roleDefinitions"
)

// authorization serves Microsoft.Authorization: role assignments and role definitions.
func (s *Server) authorization(req *request) *armError {
	rest := req.target.Rest
	switch {
	case len(rest) == 1 && eq(rest[0], "roleAssignments"):
		return s.listAssignments(req)
	case len(rest) == 2 && eq(rest[0], "roleAssignments"):
		switch req.r.Method {
		case http.MethodGet:
			return s.getAssignment(req, rest[1])
		case http.MethodPut:
			return s.putAssignment(req, rest[1])
		case http.MethodDelete:
			return s.deleteAssignment(req, rest[1])
		}
		return errMethod(req.r.Method)
	case len(rest) == 1 && eq(rest[0], "roleDefinitions"):
		return s.listDefinitions(req)
	case len(rest) == 2 && eq(rest[0], "roleDefinitions"):
		return s.getDefinition(req, rest[1])
	}
	return errNotEmulated(req.r.Method, req.r.URL.Path)
}

// assignmentBody is a role assignment on the wire (api-version 2022-04-01).
type assignmentBody struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Type       string               `json:"type"`
	Properties assignmentProperties `json:"properties"`
}

type assignmentProperties struct {
	RoleDefinitionID string  `json:"roleDefinitionId"`
	PrincipalID      string  `json:"principalId"`
	PrincipalType    string  `json:"principalType"`
	Scope            string  `json:"scope"`
	Condition        *string `json:"condition"`
	ConditionVersion *string `json:"conditionVersion"`
	Description      *string `json:"description"`
	CreatedOn        string  `json:"createdOn"`
	UpdatedOn        string  `json:"updatedOn"`
	CreatedBy        *string `json:"createdBy"`
	UpdatedBy        *string `json:"updatedBy"`
}

// definitionID is a role definition's ID as ARM prints it below a subscription: qualified by it.
func definitionID(subscription, roleID string) string {
	if subscription == "" {
		return "/providers/" + typeDefinition + "/" + roleID
	}
	return "/subscriptions/" + subscription + "/providers/" + typeDefinition + "/" + roleID
}

func (s *Server) render(a directory.Assignment) assignmentBody {
	sc, _ := ParsePath(a.Scope)
	st, ok := s.stamp(a.Name)
	var by *string
	if ok {
		by = &st.by
	}
	at := st.at.Format(time.RFC3339Nano)
	return assignmentBody{
		ID: a.ID(), Name: a.Name, Type: typeAssignment,
		Properties: assignmentProperties{
			RoleDefinitionID: definitionID(sc.Scope.Subscription, a.RoleID),
			PrincipalID:      a.PrincipalID, PrincipalType: "ServicePrincipal", Scope: a.Scope,
			CreatedOn: at, UpdatedOn: at, CreatedBy: by, UpdatedBy: by,
		},
	}
}

// stamp says when an assignment was made and by whom: ARM writes record it; the directory's own
// assignments date from the server's start, by no one.
func (s *Server) stamp(name string) (stamp, bool) {
	s.stampMu.Lock()
	defer s.stampMu.Unlock()
	st, ok := s.created[strings.ToLower(name)]
	if !ok {
		return stamp{at: s.started}, false
	}
	return st, true
}

func (s *Server) findAssignment(scope Scope, name string) (directory.Assignment, bool) {
	for _, a := range s.dir.RoleAssignments() {
		if eq(a.Name, name) && sameScope(a.Scope, scope.String()) {
			return a, true
		}
	}
	return directory.Assignment{}, false
}

func sameScope(a, b string) bool {
	return eq(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

func (s *Server) getAssignment(req *request, name string) *armError {
	sc := req.target.Scope
	id := req.target.Path()
	if aerr := s.authorize(req.caller, actionAssignmentRead, sc, id); aerr != nil {
		return aerr
	}
	if aerr := s.exists(sc); aerr != nil {
		return aerr
	}
	a, ok := s.findAssignment(sc, name)
	if !ok {
		return newError(http.StatusNotFound, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", name)
	}
	writeJSON(req.w, req.r, http.StatusOK, s.render(a))
	return nil
}

func (s *Server) deleteAssignment(req *request, name string) *armError {
	sc := req.target.Scope
	if aerr := s.authorize(req.caller, actionAssignmentDelete, sc, req.target.Path()); aerr != nil {
		return aerr
	}
	if aerr := s.exists(sc); aerr != nil {
		return aerr
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, ok := s.findAssignment(sc, name)
	if !ok {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if _, _, err := s.dir.DeleteRoleAssignment(a.Name); err != nil {
		return errInternal(err)
	}
	body := s.render(a)
	s.setStamp(a.Name, nil)
	writeJSON(req.w, req.r, http.StatusOK, body)
	return nil
}

// setStamp records who made an assignment and when; nil forgets it.
func (s *Server) setStamp(name string, st *stamp) {
	s.stampMu.Lock()
	defer s.stampMu.Unlock()
	if st == nil {
		delete(s.created, strings.ToLower(name))
		return
	}
	s.created[strings.ToLower(name)] = *st
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

type putAssignmentBody struct {
	Properties *struct {
		RoleDefinitionID                   string  `json:"roleDefinitionId"`
		PrincipalID                        string  `json:"principalId"`
		PrincipalType                      string  `json:"principalType"`
		Description                        *string `json:"description"`
		Condition                          *string `json:"condition"`
		ConditionVersion                   *string `json:"conditionVersion"`
		DelegatedManagedIdentityResourceID *string `json:"delegatedManagedIdentityResourceId"`
	} `json:"properties"`
}

// putAssignment creates a role assignment: it checks the caller's right to assign at the scope,
// the request, the principal and the role, then that no assignment of the same principal, role
// and scope exists, and writes it to the directory, where every data plane sees it at once.
func (s *Server) putAssignment(req *request, name string) *armError {
	sc := req.target.Scope
	if sc.Level() == LevelRoot {
		return errBadRequest("The local Azure Resource Manager does not assign roles at the root scope '/': choose a management group, subscription, resource group or resource.")
	}
	if aerr := s.authorize(req.caller, actionAssignmentWrite, sc, req.target.Path()); aerr != nil {
		return aerr
	}
	if aerr := s.exists(sc); aerr != nil {
		return aerr
	}
	if !guidPattern.MatchString(name) {
		return newError(http.StatusBadRequest, "InvalidRoleAssignmentId",
			"The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", name)
	}
	want, aerr := s.readAssignment(req, sc)
	if aerr != nil {
		return aerr
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	status := http.StatusCreated
	for _, a := range s.dir.RoleAssignments() {
		same := eq(a.PrincipalID, want.Principal) && eq(a.RoleID, want.Role) && sameScope(a.Scope, want.Scope)
		switch {
		case eq(a.Name, name) && same:
			status = http.StatusOK // ARM answers a repeated PUT with the assignment it has
		case eq(a.Name, name):
			return newError(http.StatusBadRequest, "RoleAssignmentUpdateNotPermitted",
				"Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
		case same:
			return newError(http.StatusConflict, "RoleAssignmentExists",
				"The role assignment already exists. The ID of the existing role assignment is %s.", strings.ReplaceAll(a.Name, "-", ""))
		}
	}
	if status == http.StatusCreated {
		want.Name = name
		if err := s.dir.AddRoleAssignment(want); err != nil {
			return errInternal(err)
		}
		s.setStamp(name, &stamp{at: s.now().UTC(), by: req.caller.objectID})
	}
	a, ok := s.findAssignment(sc, name)
	if !ok {
		return errInternal(fmt.Errorf("role assignment '%s' vanished after it was written", name))
	}
	writeJSON(req.w, req.r, status, s.render(a))
	return nil
}

// readAssignment reads and checks a PUT's body: the role must exist, the principal must be a
// service principal of the directory.
func (s *Server) readAssignment(req *request, sc Scope) (directory.RoleAssignment, *armError) {
	data, err := io.ReadAll(io.LimitReader(req.r.Body, maxBody+1))
	if err != nil {
		return directory.RoleAssignment{}, errInvalidContent("the body could not be read")
	}
	if len(data) > maxBody {
		return directory.RoleAssignment{}, errInvalidContent(fmt.Sprintf("the body is larger than %d bytes", maxBody))
	}
	var body putAssignmentBody
	if err := json.Unmarshal(data, &body); err != nil {
		return directory.RoleAssignment{}, errInvalidContent(jsonProblem(err))
	}
	p := body.Properties
	switch {
	case p == nil:
		return directory.RoleAssignment{}, errInvalidContent("Required property 'properties' not found in JSON.")
	case p.RoleDefinitionID == "":
		return directory.RoleAssignment{}, errInvalidContent("Required property 'roleDefinitionId' not found in JSON. Path 'properties'.")
	case p.PrincipalID == "":
		return directory.RoleAssignment{}, errInvalidContent("Required property 'principalId' not found in JSON. Path 'properties'.")
	case p.Condition != nil || p.ConditionVersion != nil || p.DelegatedManagedIdentityResourceID != nil:
		return directory.RoleAssignment{}, errNotEmulated(req.r.Method, req.r.URL.Path+" with a condition or a delegated managed identity")
	}
	roleID := p.RoleDefinitionID
	if i := strings.LastIndex(roleID, "/"); i >= 0 {
		roleID = roleID[i+1:]
	}
	role, ok := findRole(s.dir.Roles(), roleID)
	if !ok {
		return directory.RoleAssignment{}, newError(http.StatusBadRequest, "RoleDefinitionDoesNotExist",
			"The specified role definition with ID '%s' does not exist.", roleID)
	}
	tenant := req.caller.tenantID
	if sc.Subscription != "" {
		tenant, _ = s.dir.SubscriptionTenant(sc.Subscription)
	}
	pr, ok := s.dir.Principal(p.PrincipalID)
	if !ok || !eq(pr.PrincipalID, p.PrincipalID) || !eq(pr.TenantID, tenant) {
		return directory.RoleAssignment{}, newError(http.StatusBadRequest, "PrincipalNotFound",
			"Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
			strings.ReplaceAll(strings.ToLower(p.PrincipalID), "-", ""), tenant)
	}
	if p.PrincipalType != "" && !eq(p.PrincipalType, "ServicePrincipal") {
		return directory.RoleAssignment{}, newError(http.StatusBadRequest, "UnmatchedPrincipalType",
			"The PrincipalId '%s' has type 'ServicePrincipal' , which is different from specified PrincipalType '%s'.",
			strings.ReplaceAll(strings.ToLower(p.PrincipalID), "-", ""), p.PrincipalType)
	}
	return directory.RoleAssignment{Principal: pr.PrincipalID, Role: role.ID, Scope: sc.String()}, nil
}

// jsonProblem describes a JSON error without echoing the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("Invalid JSON at offset %d.", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("Error converting value to type '%s'. Path '%s'.", typ.Type, typ.Field)
	}
	return "Invalid JSON."
}

func findRole(roles []rbac.Role, id string) (rbac.Role, bool) {
	for _, r := range roles {
		if eq(r.ID, id) {
			return r, true
		}
	}
	return rbac.Role{}, false
}
