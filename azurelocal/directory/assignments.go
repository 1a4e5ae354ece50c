package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// Assignment is a role assignment of the directory, resolved: what Azure Resource Manager
// (azurelocal/arm) shows of it.
type Assignment struct {
	// Name is the assignment's GUID: RoleAssignment.Name, or the one derived for it.
	Name          string
	PrincipalID   string
	PrincipalKind PrincipalKind
	// RoleID is the role definition's GUID.
	RoleID string
	Scope  string
	index  int // in Spec.RoleAssignments
}

// ID returns the assignment's ARM ID: SCOPE/providers/Microsoft.Authorization/roleAssignments/NAME.
func (a Assignment) ID() string {
	return strings.TrimSuffix(a.Scope, "/") + "/providers/Microsoft.Authorization/roleAssignments/" + a.Name
}

// RoleAssignments returns the role assignments, resolved, in file order followed by those added
// at run time.
func (d *Directory) RoleAssignments() []Assignment {
	return append([]Assignment(nil), d.snapshot().assignments...)
}

// DeleteRoleAssignment removes the role assignment named name (its GUID, ignoring case) and
// returns it; ok is false when there is none.
func (d *Directory) DeleteRoleAssignment(name string) (removed Assignment, ok bool, err error) {
	err = d.update(func(s *Spec, st *state) error {
		for _, a := range st.assignments {
			if strings.EqualFold(a.Name, name) {
				// s is a copy of st.spec, so the assignment's index holds there too.
				s.RoleAssignments = append(s.RoleAssignments[:a.index], s.RoleAssignments[a.index+1:]...)
				removed, ok = a, true
				return nil
			}
		}
		return nil
	})
	return removed, ok, err
}

// assignmentNames hands out the names of role assignments that have none: a GUID derived from
// the principal, role and scope, so an assignment keeps its name across loads, and a different
// one for an identical assignment listed again.
type assignmentNames map[string]bool

// taken records an explicit name and reports whether it was already used.
func (n assignmentNames) taken(name string) bool {
	key := strings.ToLower(name)
	used := n[key]
	n[key] = true
	return used
}

func (n assignmentNames) derive(a rbac.Assignment) string {
	seed := strings.ToLower(a.PrincipalID + "|" + a.RoleID + "|" + strings.TrimSuffix(a.Scope, "/"))
	for i := 0; ; i++ {
		input := seed
		if i > 0 {
			input = fmt.Sprintf("%s|%d", seed, i)
		}
		name := guidOf(input)
		if !n.taken(name) {
			return name
		}
	}
}

// guidOf formats the first 16 bytes of s's SHA-256 as a name-based GUID (version 5 bits).
func guidOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Errors of PutFederatedCredential that Azure reports in words of its own.
var (
	// ErrIssuerSubjectInUse: another credential of the identity has the same issuer and subject.
	ErrIssuerSubjectInUse = errors.New("another federated credential of the identity has the same issuer and subject")
	// ErrTooManyFederatedCredentials: the identity already has MaxFederatedCredentials.
	ErrTooManyFederatedCredentials = fmt.Errorf("an identity has at most %d federated credentials", MaxFederatedCredentials)
)

// PutFederatedCredential creates fc on the managed identity or application named by principal,
// or replaces the credential of the same name (ignoring case); created says which. Like Azure it
// refuses a second credential with the same issuer and subject (ErrIssuerSubjectInUse) and a
// credential beyond MaxFederatedCredentials (ErrTooManyFederatedCredentials); other problems
// fail as in a directory file.
func (d *Directory) PutFederatedCredential(principal string, fc FederatedCredential) (created bool, err error) {
	err = d.update(func(s *Spec, st *state) error {
		list, err := federatedCredentialsOf(s, st, principal)
		if err != nil {
			return err
		}
		at := -1
		for i, old := range *list {
			if strings.EqualFold(old.Name, fc.Name) {
				at = i
				continue
			}
			if old.Issuer == fc.Issuer && old.Subject == fc.Subject {
				return fmt.Errorf("%w: '%s'", ErrIssuerSubjectInUse, old.Name)
			}
		}
		if at >= 0 {
			fc.Name = (*list)[at].Name // the name cannot change, not even its case
			(*list)[at] = fc
			return nil
		}
		if len(*list) >= MaxFederatedCredentials {
			return ErrTooManyFederatedCredentials
		}
		*list = append(*list, fc)
		created = true
		return nil
	})
	return created, err
}

// DeleteFederatedCredential removes the credential named name (ignoring case) from the managed
// identity or application named by principal; ok is false when it has none of that name.
func (d *Directory) DeleteFederatedCredential(principal, name string) (ok bool, err error) {
	err = d.update(func(s *Spec, st *state) error {
		list, err := federatedCredentialsOf(s, st, principal)
		if err != nil {
			return err
		}
		for i, fc := range *list {
			if strings.EqualFold(fc.Name, name) {
				*list = append((*list)[:i], (*list)[i+1:]...)
				ok = true
				return nil
			}
		}
		return nil
	})
	return ok, err
}

// federatedCredentialsOf returns the spec's list of federated credentials of principal.
func federatedCredentialsOf(s *Spec, st *state, principal string) (*[]FederatedCredential, error) {
	p, ok := st.lookupPrincipal(principal)
	if !ok {
		return nil, fmt.Errorf("no application or managed identity named '%s'", principal)
	}
	switch p.Kind {
	case KindApplication:
		for i := range s.Applications {
			if strings.EqualFold(s.Applications[i].ClientID, p.ClientID) {
				return &s.Applications[i].FederatedCredentials, nil
			}
		}
	case KindManagedIdentity:
		for i := range s.ManagedIdentities {
			if strings.EqualFold(s.ManagedIdentities[i].ClientID, p.ClientID) {
				return &s.ManagedIdentities[i].FederatedCredentials, nil
			}
		}
	}
	return nil, fmt.Errorf("'%s' is a system-assigned identity, which cannot have federated credentials", principal)
}

// ManagedIdentities returns the user-assigned managed identities, with their federated
// credentials, in file order.
func (d *Directory) ManagedIdentities() []ManagedIdentity {
	return cloneSpec(d.snapshot().spec).ManagedIdentities
}
