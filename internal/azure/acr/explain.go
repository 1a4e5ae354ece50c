package acr

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Access is what an operation asks of a registry.
type Access int

const (
	// Pull reads manifests, blobs and tags (OCIRepository, ImageRepository).
	Pull Access = iota + 1
	// Push writes them.
	Push
)

// Role is the built-in role that grants the access.
func (a Access) Role() string {
	if a == Push {
		return "AcrPush"
	}
	return "AcrPull"
}

func (a Access) String() string {
	if a == Push {
		return "push"
	}
	return "pull"
}

// Explain turns a registry's refusal of an operation into an *entra.RoleError that names the
// identity cred acts as (an *entra.Credential names it best), the role access needs and the
// command that grants it. registry is the registry's host. A refusal is a go-containerregistry
// *transport.Error with status 401 (what ACR answers when the access token lacks the action,
// once a retry with fresh credentials has ruled out a stale token) or 403; any other error, and
// errors for hosts that are not ACR, are returned unchanged.
//
// The resource ID of a registry cannot be known from its host, so the scope is the command that
// prints it: $(az acr show --name REG --query id --output tsv).
func Explain(err error, cred azcore.TokenCredential, registry string, access Access) error {
	return explain(err, cred, registryHost(registry), "", access, "")
}

// Explain is the package's Explain for this keychain's credential and an operation on repo. It
// also knows the principal ID the registry saw, for identities without a client ID.
func (k *Keychain) Explain(err error, repo name.Repository, access Access) error {
	host := registryHost(repo.RegistryStr())
	k.mu.Lock()
	oid := k.principals[host].objectID
	k.mu.Unlock()
	return explain(err, k.cred, host, repo.RepositoryStr(), access, oid)
}

func explain(err error, cred azcore.TokenCredential, host, repository string, access Access, objectID string) error {
	var terr *transport.Error
	if err == nil || !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
		return err
	}
	cloud := entra.AzurePublic
	if c, ok := cred.(clouded); ok {
		cloud = c.Cloud()
	}
	if !IsRegistry(host, cloud) {
		return err
	}
	re := &entra.RoleError{
		Role:      access.Role(),
		Scope:     fmt.Sprintf("$(az acr show --name %s --query id --output tsv)", registryName(host)),
		ScopeName: "the registry " + registryName(host),
		Service:   fmt.Sprintf("registry %s (%s", host, access),
	}
	if repository != "" {
		re.Service += " of repository " + repository
	}
	re.Service += ")"
	if terr.StatusCode == http.StatusForbidden {
		// A 403 may have other causes (a firewall rule, a disabled registry): keep the registry's words.
		re.Service += fmt.Sprintf(", which answered 403 %s", diagnostics(terr))
	}
	if id, ok := cred.(described); ok {
		re.Identity, re.ClientID = id.String(), id.ClientID()
	}
	switch {
	case re.ClientID == "" && objectID != "":
		re.ClientID = objectID
	case re.ClientID == "":
		re.ClientID = "<principal ID>"
	}
	if re.Identity == "" {
		re.Identity = "the identity with principal ID " + re.ClientID
	}
	return re
}

func diagnostics(terr *transport.Error) string {
	var parts []string
	for _, d := range terr.Errors {
		parts = append(parts, strings.TrimSpace(string(d.Code)+" "+d.Message))
	}
	if len(parts) == 0 {
		return http.StatusText(terr.StatusCode)
	}
	return strings.Join(parts, "; ")
}

// isStatus reports whether err is a registry answer with the HTTP status.
func isStatus(err error, status int) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == status
}
