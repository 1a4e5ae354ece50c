package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// The default directory's Azure DevOps repository: flux-controller is a Contributor,
// node-kubelet a Reader, the developer has a write PAT.
const (
	adoOrg, adoProject, adoRepo = "azimuth-local", "fleet", "fleet-infra"
	adoURL                      = "https://dev.azure.com/" + adoOrg + "/" + adoProject + "/_git/" + adoRepo
	adoSSHURL                   = "ssh://git@ssh.dev.azure.com/v3/" + adoOrg + "/" + adoProject + "/" + adoRepo
	adoPAT                      = "azimuthlocalpatdonotuseelsewhere"
)

// developerKey is the developer's RSA key, registered in the test directory.
var developerKey = func() struct{ private, authorized string } {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		panic(err)
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		panic(err)
	}
	return struct{ private, authorized string }{string(pem.EncodeToMemory(block)), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))}
}()

// pushToAzureDevOps commits files to the emulated repository's main branch, as a developer's
// push would, and returns the commit.
func (s *suite) pushToAzureDevOps(t *testing.T, files map[string]string) string {
	t.Helper()
	bare, err := s.env.Azure.DevOps().RepoPath(adoOrg, adoProject, adoRepo)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	run := func(args ...string) string { return testenv.Git(t, work, args...) }
	run("init", "-q", "-b", "main")
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755)
		os.WriteFile(filepath.Join(work, name), []byte(content), 0o644)
	}
	run("add", ".")
	run("commit", "-q", "-m", "fleet")
	run("push", "-q", "--force", bare, "HEAD:main")
	return run("rev-parse", "HEAD")
}

// TestGitRepositoryFromAzureDevOps: Flux's Azure DevOps cloning scenario, over HTTPS with every
// identity kind and a PAT, and over SSH; an identity that is not in the organization is told
// which group it needs.
func TestGitRepositoryFromAzureDevOps(t *testing.T) {
	s := system(t)
	s.tenant(t, nsGit, controllerMI, controllerID)
	head := s.pushToAzureDevOps(t, map[string]string{
		"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet-settings\ndata:\n  cloned: from-azure-devops\n",
		".github/ci.yaml": "ci\n",
	})
	// A service account for an identity that is no user of the organization.
	s.federatedServiceAccountFor(t, nsGit, "outsider", noRoleMI, noRoleMIID)

	knownHosts, err := os.ReadFile(filepath.Join(s.env.Azure.StateDir(), azurelocal.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: nsGit, Name: "pat"}, StringData: map[string]string{"username": "git", "password": adoPAT}},
		// flux-secret-app, a Reader of the project, by its client secret.
		{ObjectMeta: metav1.ObjectMeta{Namespace: nsGit, Name: "app"}, StringData: map[string]string{"tenantId": tenantID, "clientId": pushAppID, "clientSecret": pushAppSecret}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: nsGit, Name: "ssh"}, StringData: map[string]string{"identity": developerKey.private, "known_hosts": string(knownHosts)}},
	}
	for _, sec := range secrets {
		if err := s.env.Client.Create(t.Context(), sec); err != nil {
			t.Fatal(err)
		}
	}
	repo := func(name, url, provider, sa, secret string) *sourcev1.GitRepository {
		o := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: nsGit, Name: name}, Spec: sourcev1.GitRepositorySpec{
			URL: url, Provider: provider, ServiceAccountName: sa, Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		}}
		if secret != "" {
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: secret}
		}
		return o
	}
	ready := []*sourcev1.GitRepository{
		repo("workload-identity", adoURL, sourcev1.AzureGitProvider, "source", ""),
		repo("node-identity", adoURL, sourcev1.AzureGitProvider, "", ""),
		repo("application", adoURL, sourcev1.AzureGitProvider, "", "app"),
		repo("pat", adoURL, sourcev1.GenericGitProvider, "", "pat"),
		repo("ssh", adoSSHURL, sourcev1.GenericGitProvider, "", "ssh"),
	}
	outsider := repo("outsider", adoURL, sourcev1.AzureGitProvider, "outsider", "")
	for _, o := range append(ready, outsider) {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range ready {
		s.waitFor(t, o, "Ready=True", func() bool { st, _, _ := readyStatus(o); return st == metav1.ConditionTrue })
		if a := o.Status.Artifact; a == nil || a.Revision != "main@sha1:"+head {
			t.Errorf("%s: artifact %+v, want revision main@sha1:%s", o.Name, a, head)
		}
	}
	resp, err := http.Get(ready[0].Status.Artifact.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Flux's default exclusions leave the CI files out.
	if files := tarNames(t, body); !strings.Contains(files, "deploy/app.yaml") || strings.Contains(files, ".github") {
		t.Errorf("artifact holds %q", files)
	}

	s.waitFor(t, outsider, "Ready=False", func() bool { st, _, _ := readyStatus(outsider); return st == metav1.ConditionFalse })
	_, reason, msg := readyStatus(outsider)
	for _, want := range []string{"organization " + adoOrg, "project " + adoProject, "Readers", "client ID " + noRoleMIID, "az devops security group membership add"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready=False %s: %q does not say %q", reason, msg, want)
		}
	}
	if reason != sourcev1.AuthenticationFailedReason {
		t.Errorf("reason %s, want AuthenticationFailed", reason)
	}

	// The scenario's end: a Kustomization applies the cloned manifests into its target namespace.
	target := nsGit + "-apps"
	if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}}); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: nsGit, Name: "fleet"}, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "workload-identity"},
		Path:      "./deploy", Prune: true, TargetNamespace: target, Interval: metav1.Duration{Duration: time.Hour},
	}}
	if err := s.env.Client.Create(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, ks, "Ready=True", func() bool { st, _, _ := readyStatus(ks); return st == metav1.ConditionTrue })
	if ks.Status.LastAppliedRevision != "main@sha1:"+head {
		t.Errorf("lastAppliedRevision %q, want main@sha1:%s", ks.Status.LastAppliedRevision, head)
	}
	var cm corev1.ConfigMap
	if err := s.env.Client.Get(t.Context(), client.ObjectKey{Namespace: target, Name: "fleet-settings"}, &cm); err != nil || cm.Data["cloned"] != "from-azure-devops" {
		t.Errorf("ConfigMap %s/fleet-settings: %v %v", target, cm.Data, err)
	}
}
