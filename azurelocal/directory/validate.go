package directory

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s has the 8-4-4-4-12 hexadecimal form of Azure IDs.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// validator collects every problem of a directory, so one run reports them all.
type validator struct{ problems []string }

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return errors.New("invalid directory:\n  - " + strings.Join(v.problems, "\n  - "))
}

// at names an entry the way a reader finds it in the file: its list, index and name.
func (v *validator) at(list string, i int, name string) string {
	if name == "" {
		return fmt.Sprintf("%s[%d]", list, i)
	}
	return fmt.Sprintf("%s[%d] '%s'", list, i, name)
}

func (v *validator) guid(where, field, value string) {
	if !IsGUID(value) {
		v.addf("%s: %s '%s' is not a GUID (like 00000000-0000-0000-0000-000000000000)", where, field, value)
	}
}

func (v *validator) required(where, field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.addf("%s: %s is required", where, field)
		return false
	}
	return true
}

func (v *validator) tenants(s Spec) {
	if len(s.Tenants) == 0 {
		v.addf("tenants: at least one tenant is required")
	}
	names := map[string]bool{}
	for i, t := range s.Tenants {
		where := v.at("tenants", i, t.ID)
		v.guid(where, "id", t.ID)
		switch t.Cloud {
		case CloudPublic, CloudUSGovernment, CloudChina:
		default:
			v.addf("%s: cloud '%s' is not one of %s, %s, %s", where, t.Cloud, CloudPublic, CloudUSGovernment, CloudChina)
		}
		for _, key := range append([]string{t.ID}, t.Domains...) {
			if names[strings.ToLower(key)] {
				v.addf("%s: '%s' names another tenant too", where, key)
			}
			names[strings.ToLower(key)] = true
		}
	}
	subs := map[string]bool{}
	for i, sub := range s.Subscriptions {
		where := v.at("subscriptions", i, sub.ID)
		v.guid(where, "id", sub.ID)
		if subs[strings.ToLower(sub.ID)] {
			v.addf("%s: declared twice", where)
		}
		subs[strings.ToLower(sub.ID)] = true
		if !hasTenant(s, sub.Tenant) {
			v.addf("%s: tenant '%s' is not declared in tenants (set tenant when there is more than one)", where, sub.Tenant)
		}
	}
}

func hasTenant(s Spec, id string) bool {
	for _, t := range s.Tenants {
		if id != "" && strings.EqualFold(t.ID, id) {
			return true
		}
	}
	return false
}

func hasSubscription(s Spec, id string) bool {
	for _, sub := range s.Subscriptions {
		if id != "" && strings.EqualFold(sub.ID, id) {
			return true
		}
	}
	return false
}

// hierarchy checks management groups: known parents, no cycles, and each subscription in at most
// one group, as in Azure.
func (v *validator) hierarchy(s Spec) {
	groups := map[string]ManagementGroup{}
	for i, mg := range s.ManagementGroups {
		where := v.at("managementGroups", i, mg.Name)
		if !v.required(where, "name", mg.Name) {
			continue
		}
		if _, dup := groups[strings.ToLower(mg.Name)]; dup {
			v.addf("%s: declared twice", where)
		}
		groups[strings.ToLower(mg.Name)] = mg
	}
	owner := map[string]string{}
	for i, mg := range s.ManagementGroups {
		where := v.at("managementGroups", i, mg.Name)
		if _, ok := groups[strings.ToLower(mg.Parent)]; mg.Parent != "" && !ok {
			v.addf("%s: parent '%s' is not a declared management group", where, mg.Parent)
		}
		for _, sub := range mg.Subscriptions {
			if !hasSubscription(s, sub) {
				v.addf("%s: subscription '%s' is not declared in subscriptions", where, sub)
			}
			if other, dup := owner[strings.ToLower(sub)]; dup {
				v.addf("%s: subscription '%s' is already in management group '%s'", where, sub, other)
			}
			owner[strings.ToLower(sub)] = mg.Name
		}
		// Walk up; more steps than groups means a cycle.
		cur := mg
		for n := 0; cur.Parent != ""; n++ {
			if n > len(groups) {
				v.addf("%s: its parents form a cycle", where)
				break
			}
			next, ok := groups[strings.ToLower(cur.Parent)]
			if !ok {
				break
			}
			cur = next
		}
	}
}

func (v *validator) application(where string, app Application) {
	v.required(where, "name", app.Name)
	v.guid(where, "clientId", app.ClientID)
	v.guid(where, "principalId", app.PrincipalID)
	if app.Tenant == "" {
		v.addf("%s: tenant is required when the directory has more than one tenant", where)
	}
	for i, secret := range app.ClientSecrets {
		if secret.Value == "" {
			v.addf("%s: clientSecrets[%d]: value is required", where, i)
		}
	}
	for i, c := range app.Certificates {
		if _, err := ParseCertificatePEM(c.PEM); err != nil {
			v.addf("%s: certificates[%d] '%s': %v", where, i, c.Name, err)
		}
	}
	if app.AllowSubjectNameIssuer && len(app.Certificates) == 0 {
		v.addf("%s: allowSubjectNameIssuer needs a registered certificate whose subject and issuer to trust", where)
	}
	v.federatedCredentials(where, app.FederatedCredentials)
}

func (v *validator) managedIdentity(where string, mi ManagedIdentity) {
	v.required(where, "name", mi.Name)
	v.guid(where, "clientId", mi.ClientID)
	v.guid(where, "principalId", mi.PrincipalID)
	v.required(where, "resourceGroup", mi.ResourceGroup)
	v.federatedCredentials(where, mi.FederatedCredentials)
}

func (v *validator) federatedCredentials(where string, fcs []FederatedCredential) {
	if len(fcs) > MaxFederatedCredentials {
		v.addf("%s: %d federated credentials, but Azure allows at most %d per identity", where, len(fcs), MaxFederatedCredentials)
	}
	names := map[string]bool{}
	for i, fc := range fcs {
		at := fmt.Sprintf("%s: federatedCredentials[%d] '%s'", where, i, fc.Name)
		v.required(at, "name", fc.Name)
		if names[strings.ToLower(fc.Name)] {
			v.addf("%s: the name is used twice", at)
		}
		names[strings.ToLower(fc.Name)] = true
		if u, err := url.Parse(fc.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
			v.addf("%s: issuer '%s' must be an https URL", at, fc.Issuer)
		}
		v.required(at, "subject", fc.Subject)
		for _, aud := range fc.Audiences {
			v.required(at, "audience", aud)
		}
	}
}

func (v *validator) resource(where string, r Resource, s Spec) {
	v.required(where, "name", r.Name)
	v.required(where, "resourceGroup", r.ResourceGroup)
	if !hasSubscription(s, r.Subscription) {
		v.addf("%s: subscription '%s' is not declared in subscriptions", where, r.Subscription)
	}
}

// roles returns the built-in roles followed by the custom roles of the file.
func (v *validator) roles(s Spec) []rbac.Role {
	roles := rbac.BuiltinRoles()
	for i, d := range s.RoleDefinitions {
		where := v.at("roleDefinitions", i, d.Name)
		v.guid(where, "id", d.ID)
		v.required(where, "name", d.Name)
		for _, other := range roles {
			if strings.EqualFold(other.ID, d.ID) || strings.EqualFold(other.Name, d.Name) {
				v.addf("%s: id or name clashes with role '%s'", where, other.Name)
			}
		}
		if len(d.Actions)+len(d.DataActions) == 0 {
			v.addf("%s: a role needs actions or dataActions", where)
		}
		roles = append(roles, d.role())
	}
	return roles
}

func (v *validator) assignments(s Spec, st *state) []rbac.Assignment {
	var out []rbac.Assignment
	names := assignmentNames{}
	for i, ra := range s.RoleAssignments {
		where := fmt.Sprintf("roleAssignments[%d] (%s, %s)", i, ra.Principal, ra.Role)
		if ra.Name != "" {
			v.guid(where, "name", ra.Name)
			if names.taken(ra.Name) {
				v.addf("%s: name '%s' is used twice", where, ra.Name)
			}
		}
		p, ok := st.lookupPrincipal(ra.Principal)
		if !ok {
			v.addf("%s: principal '%s' is not an application or managed identity of this directory (use its name, principal ID or client ID)", where, ra.Principal)
		}
		role, okRole := findRole(st.roles, ra.Role)
		if !okRole {
			v.addf("%s: role '%s' is neither a built-in role nor declared in roleDefinitions", where, ra.Role)
		}
		if err := rbac.ValidScope(ra.Scope); err != nil {
			v.addf("%s: %v", where, err)
		} else if err := scopeExists(s, ra.Scope); err != nil {
			v.addf("%s: %v", where, err)
		}
		if ok && okRole {
			a := rbac.Assignment{ID: ra.Name, PrincipalID: p.PrincipalID, RoleID: role.ID, Scope: ra.Scope}
			if a.ID == "" {
				a.ID = names.derive(a)
			}
			out = append(out, a)
			st.assignments = append(st.assignments, Assignment{
				Name: a.ID, PrincipalID: p.PrincipalID, PrincipalKind: p.Kind, RoleID: role.ID, Scope: ra.Scope, index: i,
			})
		}
	}
	return out
}

// findRole resolves a role by name, GUID, or role definition ARM ID.
func findRole(roles []rbac.Role, ref string) (rbac.Role, bool) {
	id := ref
	if i := strings.LastIndex(ref, "/roleDefinitions/"); i >= 0 {
		id = ref[i+len("/roleDefinitions/"):]
	}
	for _, r := range roles {
		if strings.EqualFold(r.ID, id) || strings.EqualFold(r.Name, ref) {
			return r, true
		}
	}
	return rbac.Role{}, false
}

// scopeExists checks that a scope's subscription or management group is declared, so a typo in
// an ID fails at load time instead of as a puzzling denial later.
func scopeExists(s Spec, scope string) error {
	parts := strings.Split(strings.Trim(scope, "/"), "/")
	switch {
	case scope == "/":
		return nil
	case strings.EqualFold(parts[0], "subscriptions"):
		if !hasSubscription(s, parts[1]) {
			return fmt.Errorf("scope '%s': subscription '%s' is not declared in subscriptions", scope, parts[1])
		}
	default:
		for _, mg := range s.ManagementGroups {
			if strings.EqualFold(mg.Name, parts[3]) {
				return nil
			}
		}
		return fmt.Errorf("scope '%s': management group '%s' is not declared in managementGroups", scope, parts[3])
	}
	return nil
}

// ParseCertificatePEM returns the first certificate of a PEM bundle.
func ParseCertificatePEM(data string) (*x509.Certificate, error) {
	rest := []byte(data)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block found")
		}
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
			return cert, nil
		}
	}
}
