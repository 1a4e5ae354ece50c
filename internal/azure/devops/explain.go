package devops

import (
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Group is the project group an operation needs.
type Group string

// The project groups of Azure DevOps that grant Git access.
const (
	// Readers may clone and fetch.
	Readers Group = "Readers"
	// Contributors may also push.
	Contributors Group = "Contributors"
)

// AccessError is Azure DevOps refusing an Entra identity: it is not a member of the
// organization, or not of the project group the operation needs. It never holds a token.
type AccessError struct {
	// Identity names who was refused, as the credential prints itself.
	Identity string
	// ClientID is the identity's client ID (application ID), empty when unknown.
	ClientID   string
	Repository Repository
	// Group is the group the operation needs.
	Group Group
	// Forbidden is true for 403 (a member without the permission), false for 401 (not a member,
	// or a token Azure DevOps does not accept).
	Forbidden bool
	// NotFound is true for 404: the repository does not exist, or the identity is in no group of
	// its project, which Azure DevOps does not tell apart.
	NotFound bool
	err      error
}

func (e *AccessError) Error() string {
	who := e.Identity
	if who == "" {
		who = "the identity"
	}
	member := "a service principal with client ID " + e.ClientID
	if e.ClientID == "" {
		member = "its service principal"
	}
	org := "https://dev.azure.com/" + e.Repository.Organization
	msg := fmt.Sprintf("%s was refused by Azure DevOps (organization %s, project %s, repository %s)", who, e.Repository.Organization, e.Repository.Project, e.Repository.Name)
	switch {
	case e.NotFound:
		msg += fmt.Sprintf(": Azure DevOps answers that the repository does not exist or that the identity may not see it. Check spec.url, and that the identity is in the project's %s group: ", e.Group)
	case e.Forbidden && e.Group == Contributors:
		msg += ": it may read the repository but not push to it (TF401027, Git permission Contribute): pushing needs the project's Contributors group. "
	case e.Forbidden:
		msg += fmt.Sprintf(": it is a member but lacks the Git permission of the project's %s group. ", e.Group)
	default:
		msg += fmt.Sprintf(": it must be a user of the organization and a member of the project's %s group. "+
			"Add %s to the organization (Organization settings, Users, Add users), then ", e.Group, member)
	}
	return msg + fmt.Sprintf("add it to the group: az devops security group membership add --org %s --group-id "+
		"$(az devops security group list --org %s --project %q --query \"graphGroups[?displayName=='%s'].descriptor\" --output tsv) "+
		"--member-id <its descriptor, from az devops user show>", org, org, e.Repository.Project, e.Group)
}

// Unwrap returns go-git's error.
func (e *AccessError) Unwrap() error { return e.err }

// described is what *entra.Credential offers to name its identity; other credentials work without.
type described interface {
	String() string
	ClientID() string
}

// Explain turns Azure DevOps' refusal of cred (go-git's ErrAuthenticationRequired for 401,
// ErrAuthorizationFailed for 403, ErrRepositoryNotFound for 404) into an *AccessError that names
// the identity, the organization, project and group it needs and how to add it; group is Readers
// for a clone or fetch and Contributors for a push. Other errors are returned unchanged.
func Explain(err error, cred azcore.TokenCredential, repo Repository, group Group) error {
	forbidden := errors.Is(err, transport.ErrAuthorizationFailed)
	notFound := errors.Is(err, transport.ErrRepositoryNotFound)
	if !forbidden && !notFound && !errors.Is(err, transport.ErrAuthenticationRequired) {
		return err
	}
	e := &AccessError{Repository: repo, Group: group, Forbidden: forbidden, NotFound: notFound, err: err}
	if d, ok := cred.(described); ok {
		e.Identity, e.ClientID = d.String(), d.ClientID()
	}
	return e
}
