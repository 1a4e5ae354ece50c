package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// SecretsTenant is the namespace of the GitRepositories that authenticate with what a secret
// holds: the directory's first personal access token, the developer's SSH key, and the
// certificate of the application CertificateApplication.
const SecretsTenant = "team-secrets"

// CertificateApplication is the application that fetches with its certificate, named in a
// secret; the demo makes it a Reader of the Azure DevOps project.
const CertificateApplication = "flux-certificate-app"

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
	for name, content := range s.gitFiles() {
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

// secretSamples are SecretsTenant's secrets and GitRepositories: a personal access token and an
// SSH key (provider generic), and an application's certificate (provider azure).
func (s *System) secretSamples() ([]*corev1.Secret, []sample, error) {
	r := s.names.ado
	knownHosts, err := os.ReadFile(filepath.Join(s.Env.Azure.StateDir(), azurelocal.KnownHostsFile))
	if err != nil {
		return nil, nil, err
	}
	secret := func(name string, data map[string]string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: SecretsTenant, Name: name}, StringData: data}
	}
	repo := func(name, url, provider, secret string) *sourcev1.GitRepository {
		return &sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: SecretsTenant, Name: name},
			Spec: sourcev1.GitRepositorySpec{
				URL: url, Provider: provider, SecretRef: &meta.LocalObjectReference{Name: secret},
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Minute},
			},
		}
	}
	sshURL := "ssh://git@ssh.dev.azure.com/v3/" + url.PathEscape(r.org) + "/" + url.PathEscape(r.project) + "/" + url.PathEscape(r.name)
	secrets := []*corev1.Secret{
		secret("ado-pat", map[string]string{"username": "git", "password": r.pat}),
		secret("ado-ssh", map[string]string{"identity": s.names.sshKey, "known_hosts": string(knownHosts)}),
		secret("ado-app", map[string]string{"tenantId": s.names.tenantID, "clientId": s.names.certApp.ClientID,
			"clientCertificate": string(directory.DefaultCertificateAppPEM())}),
	}
	samples := []sample{
		{obj: repo("fleet-pat", r.url(), sourcev1.GenericGitProvider, "ado-pat"), identity: Identity{Method: "PAT", Principal: r.patUser + " (secret ado-pat)"}},
		{obj: repo("fleet-ssh", sshURL, sourcev1.GenericGitProvider, "ado-ssh"), identity: Identity{Method: "SSH key", Principal: r.patUser + " (secret ado-ssh)"}},
		{obj: repo("fleet-app", r.url(), sourcev1.AzureGitProvider, "ado-app"), identity: Identity{Method: "app certificate", Principal: CertificateApplication + " (secret ado-app)", ClientID: s.names.certApp.ClientID}},
	}
	return secrets, samples, nil
}

// withDevOpsSamples returns d with what the Git samples need of its first Azure DevOps project:
// team-apps' identity and CertificateApplication among its Readers, and a new SSH key of the
// owner of its first PAT, whose private half it returns. A directory without a project or a
// PAT is returned as it is.
func withDevOpsSamples(d *directory.Directory, objectWIIdentity string) (*directory.Directory, string, error) {
	spec := d.Spec()
	orgs := spec.Resources.DevOpsOrganizations
	if len(orgs) == 0 || len(orgs[0].Projects) == 0 || len(orgs[0].PersonalAccessTokens) == 0 {
		return d, "", nil
	}
	project := &orgs[0].Projects[0]
	for _, member := range []string{objectWIIdentity, CertificateApplication} {
		if !slices.Contains(project.Readers, member) && !slices.Contains(project.Contributors, member) {
			project.Readers = append(project.Readers, member)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return nil, "", err
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return nil, "", err
	}
	block, err := ssh.MarshalPrivateKey(key, "azimuth dev up")
	if err != nil {
		return nil, "", err
	}
	orgs[0].SSHKeys = append(orgs[0].SSHKeys, directory.SSHKey{
		Name: "dev-up", User: orgs[0].PersonalAccessTokens[0].User, PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
	})
	extended, err := directory.New(spec)
	if err != nil {
		return nil, "", fmt.Errorf("adding the Git samples' members and SSH key to the directory: %w", err)
	}
	return extended, string(pem.EncodeToMemory(block)), nil
}
