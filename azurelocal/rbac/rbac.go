package rbac

import (
	"fmt"
	"strings"
)

// Permission is one entry of a role definition's permissions list. NotActions and NotDataActions
// subtract from Actions and DataActions of the same entry only.
type Permission struct {
	Actions        []string `json:"actions,omitempty"`
	NotActions     []string `json:"notActions,omitempty"`
	DataActions    []string `json:"dataActions,omitempty"`
	NotDataActions []string `json:"notDataActions,omitempty"`
}

// Role is a role definition: built-in or custom.
type Role struct {
	// ID is the role definition's GUID, such as 7f951dda-4ed3-4680-a7ca-43fe172d538d for AcrPull.
	ID string
	// Name is the role's display name, such as "AcrPull".
	Name        string
	Description string
	Permissions []Permission
	// AssignableScopes are informational; see the package's "Not emulated" list.
	AssignableScopes []string
	BuiltIn          bool
}

// DefinitionID is the role definition's ARM resource ID, as Azure prints it in role assignments.
func (r Role) DefinitionID() string {
	return "/providers/Microsoft.Authorization/roleDefinitions/" + r.ID
}

// Assignment grants RoleID to PrincipalID at Scope.
type Assignment struct {
	// ID names the assignment in messages; the directory sets it from the file or derives one.
	ID          string
	PrincipalID string
	RoleID      string
	// Scope is an ARM ID: a management group, subscription, resource group or resource.
	Scope string
}

// Request asks whether PrincipalID may perform Action on ResourceID.
type Request struct {
	PrincipalID string
	// Action is an operation string such as Microsoft.ContainerRegistry/registries/pull/read.
	Action string
	// Data marks Action as a data action (matched against DataActions and NotDataActions).
	Data bool
	// ResourceID is the ARM ID of the target, which may be a child resource such as a blob
	// container: /subscriptions/.../storageAccounts/acct/blobServices/default/containers/c.
	ResourceID string
}

// Decision is the answer to a Request. When Allowed, Role and Assignment name the grant that
// matched; otherwise Reason says why nothing did, in words fit for an error message.
type Decision struct {
	Allowed    bool
	Role       Role
	Assignment Assignment
	Reason     string
}

// Policy holds roles, assignments and the management group hierarchy. It is immutable after
// NewPolicy and safe for concurrent use.
type Policy struct {
	roles       map[string]Role
	assignments []Assignment
	parents     map[string]string
}

// NewPolicy builds a policy. parents maps a subscription or management group scope
// (/subscriptions/S or /providers/Microsoft.Management/managementGroups/M) to the management group
// scope that contains it. Role IDs and scopes compare case-insensitively.
func NewPolicy(roles []Role, assignments []Assignment, parents map[string]string) *Policy {
	p := &Policy{roles: map[string]Role{}, parents: map[string]string{}}
	for _, r := range roles {
		p.roles[strings.ToLower(r.ID)] = r
	}
	p.assignments = append(p.assignments, assignments...)
	for child, parent := range parents {
		p.parents[normalizeScope(child)] = normalizeScope(parent)
	}
	return p
}

// Authorize reports whether principalID may perform the control-plane action on resourceID.
func (p *Policy) Authorize(principalID, action, resourceID string) bool {
	return p.Check(Request{PrincipalID: principalID, Action: action, ResourceID: resourceID}).Allowed
}

// AuthorizeData reports whether principalID may perform the data action on resourceID.
func (p *Policy) AuthorizeData(principalID, dataAction, resourceID string) bool {
	return p.Check(Request{PrincipalID: principalID, Action: dataAction, Data: true, ResourceID: resourceID}).Allowed
}

// Check evaluates r and explains the outcome.
func (p *Policy) Check(r Request) Decision {
	kind := "action"
	if r.Data {
		kind = "data action"
	}
	chain := p.scopeChain(r.ResourceID)
	var considered []string
	for _, a := range p.assignments {
		if !strings.EqualFold(a.PrincipalID, r.PrincipalID) || !chain[normalizeScope(a.Scope)] {
			continue
		}
		role, ok := p.roles[strings.ToLower(a.RoleID)]
		if !ok {
			continue
		}
		if grants(role, r.Action, r.Data) {
			return Decision{Allowed: true, Role: role, Assignment: a}
		}
		considered = append(considered, fmt.Sprintf("'%s' at scope '%s'", role.Name, a.Scope))
	}
	if len(considered) == 0 {
		return Decision{Reason: fmt.Sprintf(
			"principal '%s' has no role assignment at scope '%s' or above it, so it may not perform %s '%s'",
			r.PrincipalID, r.ResourceID, kind, r.Action)}
	}
	return Decision{Reason: fmt.Sprintf(
		"principal '%s' holds %s, but none of these roles grants %s '%s' on '%s'",
		r.PrincipalID, strings.Join(considered, ", "), kind, r.Action, r.ResourceID)}
}

// grants reports whether any permission entry of role allows action and does not exclude it.
func grants(role Role, action string, data bool) bool {
	for _, perm := range role.Permissions {
		allow, deny := perm.Actions, perm.NotActions
		if data {
			allow, deny = perm.DataActions, perm.NotDataActions
		}
		if matchAny(allow, action) && !matchAny(deny, action) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, action string) bool {
	for _, pattern := range patterns {
		if MatchAction(pattern, action) {
			return true
		}
	}
	return false
}

// MatchAction reports whether an action pattern from a role definition matches action. Matching
// ignores case, and '*' stands for any run of characters, '/' included, as in Azure:
// "*/read" matches every read action and "Microsoft.EventHub/*/send/action" matches
// "Microsoft.EventHub/namespaces/messages/send/action".
func MatchAction(pattern, action string) bool {
	return glob(strings.ToLower(pattern), strings.ToLower(action))
}

// glob matches s against a pattern whose only metacharacter is '*'. It backtracks to the most
// recent star only, which is linear enough for the short strings of operation names.
func glob(pattern, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pattern) && pattern[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}
