package devops

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// Repository is an Azure DevOps Git repository, as its clone URL names it.
type Repository struct {
	Organization, Project, Name string
	// SSH is true for git@ssh.dev.azure.com:v3/... addresses.
	SSH bool
}

func (r Repository) String() string {
	return fmt.Sprintf("%s/%s/_git/%s", r.Organization, r.Project, r.Name)
}

// ParseRepository reads a clone URL in each form Azure DevOps gives:
//
//	https://dev.azure.com/ORG/PROJECT/_git/REPO
//	https://ORG@dev.azure.com/ORG/PROJECT/_git/REPO
//	https://ORG.visualstudio.com/PROJECT/_git/REPO (and .../DefaultCollection/PROJECT/...)
//	git@ssh.dev.azure.com:v3/ORG/PROJECT/REPO
//	ssh://git@ssh.dev.azure.com/v3/ORG/PROJECT/REPO
//
// Names are unescaped (a project may hold spaces, as %20). A URL of another host is not an Azure
// DevOps repository; its error says which forms are.
func ParseRepository(raw string) (Repository, error) {
	fail := func() (Repository, error) {
		return Repository{}, fmt.Errorf("'%s' is not an Azure DevOps repository URL: use https://dev.azure.com/ORG/PROJECT/_git/REPO "+
			"or git@ssh.dev.azure.com:v3/ORG/PROJECT/REPO", clip.String(raw, 200))
	}
	if rest, ok := strings.CutPrefix(raw, "git@ssh.dev.azure.com:v3/"); ok {
		return sshPath(rest, fail)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fail()
	}
	host := strings.ToLower(u.Hostname())
	segments := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	switch {
	case u.Scheme == "ssh" && host == "ssh.dev.azure.com":
		rest, ok := strings.CutPrefix(strings.TrimPrefix(u.Path, "/"), "v3/")
		if !ok {
			return fail()
		}
		return sshPath(rest, fail)
	case (u.Scheme == "https" || u.Scheme == "http") && host == "dev.azure.com":
		// ORG/PROJECT/_git/REPO
		if len(segments) != 4 || segments[2] != "_git" {
			return fail()
		}
		return named(segments[0], segments[1], segments[3], false, fail)
	case (u.Scheme == "https" || u.Scheme == "http") && strings.HasSuffix(host, ".visualstudio.com"):
		org := strings.TrimSuffix(host, ".visualstudio.com")
		if len(segments) == 4 && strings.EqualFold(segments[0], "DefaultCollection") {
			segments = segments[1:]
		}
		if len(segments) != 3 || segments[1] != "_git" || strings.Contains(org, ".") {
			return fail()
		}
		return named(org, segments[0], segments[2], false, fail)
	}
	return fail()
}

func sshPath(rest string, fail func() (Repository, error)) (Repository, error) {
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 3 {
		return fail()
	}
	return named(parts[0], parts[1], parts[2], true, fail)
}

func named(org, project, repo string, ssh bool, fail func() (Repository, error)) (Repository, error) {
	var names [3]string
	for i, s := range []string{org, project, strings.TrimSuffix(repo, ".git")} {
		n, err := url.PathUnescape(s)
		if err != nil || n == "" || strings.ContainsAny(n, "/\\") {
			return fail()
		}
		names[i] = n
	}
	return Repository{Organization: names[0], Project: names[1], Name: names[2], SSH: ssh}, nil
}
