package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/azure/eventhubs"
	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

func scopeFor(service string, c entra.Cloud) string {
	switch service {
	case "keyvault":
		return keyvault.ScopeFor(c)
	case "blob":
		return blob.ScopeFor(c)
	case "devops":
		return devops.ScopeFor(c)
	case "eventhubs":
		return eventhubs.ScopeFor(c)
	}
	return acr.ScopeFor(c)
}

// service asks the service with its cheapest call, one that proves the role or group the
// object needs.
func (o Options) service(ctx context.Context, r *Report, cred *entra.Credential, t target) {
	switch {
	case t.service == "aks":
		o.aksLinks(ctx, r, cred, t)
	case t.service == "blob":
		r.add(o.blobLink(ctx, cred, t))
	case t.service == "devops":
		r.add(o.devopsLink(ctx, cred, t))
	case t.service == "keyvault":
		r.add(o.keyVaultLink(ctx, cred, t))
	case t.service == "eventhubs":
		r.add(o.eventHubsLink(ctx, cred, t))
	case t.service != "acr" || t.url == "":
		r.add(Link{Name: "role", Skipped: true, OK: true, Detail: "the doctor does not yet ask this service; the Entra token is good"})
	default:
		r.add(o.acrLink(ctx, cred, t))
	}
}

// acrLink lists the repository's tags, after ACR's token exchange: what a pull needs first.
func (o Options) acrLink(ctx context.Context, cred *entra.Credential, t target) Link {
	repo, err := name.NewRepository(strings.TrimPrefix(t.url, "oci://"))
	if err != nil {
		return Link{Name: "role", Detail: fmt.Sprintf("the URL %q is not a repository: %v", t.url, err), Fix: "fix spec.url"}
	}
	rt, err := transport.New(&o.Transport)
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	kc := acr.NewKeychain(cred, &acr.KeychainOptions{Transport: rt})
	_, err = remote.List(repo, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(rt))
	if err == nil || strings.Contains(err.Error(), "NAME_UNKNOWN") {
		return Link{Name: "role", OK: true, Detail: "the registry " + repo.RegistryStr() + " lets it pull " + repo.RepositoryStr()}
	}
	return roleLink(kc.Explain(err, repo, acr.Pull), "acr")
}

// roleLink is the link for a refusal: a missing role as a `setup grant` command.
func roleLink(err error, integration string) Link {
	l := Link{Name: "role", Detail: err.Error()}
	var re *entra.RoleError
	if errors.As(err, &re) {
		l.Detail = fmt.Sprintf("%s refused it: it needs the role %s on %s", re.Service, re.Role, re.ScopeName)
		l.Fix = fmt.Sprintf("azimuth setup grant --integration %s --client-id %s --scope %s", integration, re.ClientID, re.Scope)
	}
	return l
}

// httpClient is the doctor's transport, as the controller's (connect-to, CA).
func (o Options) httpClient() (*http.Client, error) {
	rt, err := transport.New(&o.Transport)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}
