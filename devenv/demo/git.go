package demo

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// PATTenant is the namespace whose GitRepository uses the directory's first personal access
// token, as a developer's secret would.
const PATTenant = "team-pat"

// adoRepo is the Azure DevOps repository the Git samples fetch: the directory's first
// organization, project and repository, and its first PAT; empty when the directory has none.
type adoRepo struct {
	org, project, name string
	pat, patUser       string
}

func (r adoRepo) url() string {
	return "https://dev.azure.com/" + url.PathEscape(r.org) + "/" + url.PathEscape(r.project) + "/_git/" + url.PathEscape(r.name)
}

// lookupDevOps reads the Git samples' repository from d.
func lookupDevOps(d *directory.Directory) adoRepo {
	for _, org := range d.Spec().Resources.DevOpsOrganizations {
		for _, p := range org.Projects {
			if len(p.Repositories) == 0 {
				continue
			}
			r := adoRepo{org: org.Name, project: p.Name, name: p.Repositories[0]}
			if len(org.PersonalAccessTokens) > 0 {
				r.pat, r.patUser = org.PersonalAccessTokens[0].Token, org.PersonalAccessTokens[0].User
			}
			return r
		}
	}
	return adoRepo{}
}

// pushGit commits the sample manifests to the Azure DevOps repository's main branch, with the
// git CLI, as a developer would.
func (s *System) pushGit(ctx context.Context) (string, error) {
	r := s.names.ado
	if r.name == "" {
		return "no Azure DevOps repository in the directory", nil
	}
	bare, err := s.Env.Azure.DevOps().RepoPath(r.org, r.project, r.name)
	if err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(s.StateDir, "git-sample-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	for name, content := range manifests(s.names.registryHost(), latestManifests) {
		path := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "podinfo"}, {"push", "-q", "--force", bare, "HEAD:main"}} {
		if out, err := testenv.GitCommand(ctx, work, args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
		}
	}
	return r.org + "/" + r.project + "/_git/" + r.name + ": main", nil
}

// gitSample is t's GitRepository of the Azure DevOps repository, with t's identity.
func (s *System) gitSample(t tenant, id Identity) sample {
	sa := ""
	if t.via == objectWI {
		sa = TenantServiceAccount
	}
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: "fleet"},
		Spec: sourcev1.GitRepositorySpec{
			URL: s.names.ado.url(), Provider: sourcev1.AzureGitProvider, ServiceAccountName: sa,
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, Interval: metav1.Duration{Duration: sampleInterval},
		},
	}
	smp := sample{obj: obj, identity: id}
	if t.denied {
		smp.failReason = sourcev1.AuthenticationFailedReason
	}
	return smp
}

// patSamples are PATTenant's secret and GitRepository: a personal access token, provider generic.
func (s *System) patSamples() (*corev1.Secret, sample) {
	r := s.names.ado
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: PATTenant, Name: "ado-pat"},
		StringData: map[string]string{"username": "git", "password": r.pat}}
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: PATTenant, Name: "fleet"},
		Spec: sourcev1.GitRepositorySpec{
			URL: r.url(), SecretRef: &meta.LocalObjectReference{Name: secret.Name},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Minute},
		},
	}
	return secret, sample{obj: obj, identity: Identity{Method: "PAT", Principal: r.patUser + " (secret " + PATTenant + "/" + secret.Name + ")"}}
}
