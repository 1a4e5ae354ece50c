package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gittransport "github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// devopsLink asks the repository for its refs advertisement, as a clone's (Readers:
// git-upload-pack) or a push's (Contributors: git-receive-pack) first request does. Azure DevOps
// checks the permission there, so a reader asking for receive-pack is refused without anything
// being pushed.
func (o Options) devopsLink(ctx context.Context, cred *entra.Credential, t target) Link {
	group, service, verb := devops.Readers, "git-upload-pack", "read"
	if t.group == devops.Contributors {
		group, service, verb = devops.Contributors, "git-receive-pack", "push to"
	}
	repo, err := devops.ParseRepository(t.url)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.url"}
	}
	token, err := devops.BearerToken(ctx, cred, t.url)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "use the repository's https:// clone URL"}
	}
	hc, err := o.httpClient()
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.url"}
	}
	u.User, u.RawQuery, u.Fragment = nil, "service="+service, ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/info/refs"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return Link{Name: "role", OK: true, Detail: fmt.Sprintf("Azure DevOps lets it %s %s (organization member, project group %s)", verb, repo, group)}
	case http.StatusUnauthorized, http.StatusNonAuthoritativeInfo:
		err = gittransport.ErrAuthenticationRequired
	case http.StatusForbidden:
		err = gittransport.ErrAuthorizationFailed
	case http.StatusNotFound:
		err = gittransport.ErrRepositoryNotFound
	default:
		return Link{Name: "role", Detail: fmt.Sprintf("Azure DevOps answered %s to %s", resp.Status, u.Redacted())}
	}
	return devopsRefusal(devops.Explain(err, cred, repo, group), cred, repo, group)
}

// devopsRefusal is the link for Azure DevOps' refusal, with the `setup grant` that repairs it.
func devopsRefusal(err error, cred *entra.Credential, repo devops.Repository, group devops.Group) Link {
	l := Link{Name: "role", Detail: err.Error()}
	var ae *devops.AccessError
	if !errors.As(err, &ae) {
		return l
	}
	switch {
	case ae.NotFound:
		l.Detail = fmt.Sprintf("Azure DevOps answers that %s does not exist or that it may not see it: a member of the organization %s needs the project %s's group %s", repo, repo.Organization, repo.Project, group)
	case ae.Forbidden && group == devops.Contributors:
		l.Detail = fmt.Sprintf("Azure DevOps refused the push (TF401027): it may read %s but pushing needs the project %s's group %s", repo, repo.Project, group)
	case ae.Forbidden:
		l.Detail = fmt.Sprintf("Azure DevOps refused it: a member, but without the Git permission of the project %s's group %s", repo.Project, group)
	default:
		l.Detail = fmt.Sprintf("Azure DevOps refused it: it must be a user of the organization %s and a member of the project %s's group %s", repo.Organization, repo.Project, group)
	}
	l.Fix = fmt.Sprintf("azimuth setup grant --integration devops --client-id %s --organization %s --project %q --group %s",
		cred.ClientID(), repo.Organization, repo.Project, group)
	return l
}
