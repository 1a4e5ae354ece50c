package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// nsImageAutomation is the namespace of the image-update scenario.
const nsImageAutomation = "tenant-image-automation"

// podinfoDeployment is the scenario's manifest at tag, with its setter marker.
func podinfoDeployment(tag string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: podinfo
spec:
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          # the image follows the policy 6.0.x
          image: ` + registryHost + "/" + nsImageAutomation + `/podinfo:` + tag + ` # {"$imagepolicy": "` + nsImageAutomation + `:podinfo"}
          ports:
            - containerPort: 9898
`
}

// TestImageUpdateAutomationToAzureDevOps: Flux's image-update scenario against the local Azure.
// podinfo 6.0.0 is in the Azure DevOps repository, tags 6.0.0 and 6.0.1 in the local ACR, and
// an ImagePolicy picks 6.0.x; an ImageUpdateAutomation with each identity kind that may push
// (workload identity federated with flux-controller, a Contributor; the developer's PAT with
// vso.code_write; the developer's SSH key) commits 6.0.1 with the templated author and message,
// which a fresh `git clone` through the local proxy shows. The Readers of the project (the
// node's identity node-kubelet, and flux-secret-app by its client secret) are refused with
// AuthenticationFailed naming the Contributors group and how to join it.
func TestImageUpdateAutomationToAzureDevOps(t *testing.T) {
	s := system(t)
	ns := nsImageAutomation
	s.tenant(t, ns, controllerMI, controllerID)
	for _, tag := range []string{"6.0.0", "6.0.1", "6.1.0"} {
		s.push(t, ns+"/podinfo", tag, map[string]string{"VERSION": tag})
	}
	initial := s.pushToAzureDevOps(t, map[string]string{
		"apps/podinfo/deployment.yaml": podinfoDeployment("6.0.0"),
		"apps/podinfo/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n" +
			"images:\n  - name: podinfo\n    newTag: 6.0.0 # {\"$imagepolicy\": \"" + ns + ":podinfo:tag\"}\n",
		"README.md": "fleet\n",
	})
	// Each automation has a branch of its own, starting at the same commit, so that none finds
	// another's work done.
	bare, err := s.env.Azure.DevOps().RepoPath(adoOrg, adoProject, adoRepo)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"pat", "ssh", "node", "app"}
	for _, k := range kinds {
		testenv.Git(t, bare, "branch", "-f", "image-updates-"+k, initial)
	}

	knownHosts, err := os.ReadFile(filepath.Join(s.env.Azure.StateDir(), azurelocal.KnownHostsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pat"}, StringData: map[string]string{"username": "git", "password": adoPAT}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ssh"}, StringData: map[string]string{"identity": developerKey.private, "known_hosts": string(knownHosts)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"}, StringData: map[string]string{"tenantId": tenantID, "clientId": pushAppID, "clientSecret": pushAppSecret}},
	} {
		if err := s.env.Client.Create(t.Context(), sec); err != nil {
			t.Fatal(err)
		}
	}
	imageRepo := &imagev1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo"},
		Spec: imagev1.ImageRepositorySpec{Image: registryHost + "/" + ns + "/podinfo", Provider: imagev1.AzureProvider,
			ServiceAccountName: "source", Interval: metav1.Duration{Duration: time.Hour}},
	}
	policy := &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "podinfo"},
		Spec: imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: "podinfo"},
			Policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "6.0.x"}}},
	}
	for _, o := range []client.Object{imageRepo, policy} {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	s.waitFor(t, policy, "latest 6.0.1", func() bool { return policy.Status.LatestRef != nil && policy.Status.LatestRef.Tag == "6.0.1" })

	source := func(name, url, provider, sa, secret string) *sourcev1.GitRepository {
		o := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: sourcev1.GitRepositorySpec{
			URL: url, Provider: provider, ServiceAccountName: sa, Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		}}
		if secret != "" {
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: secret}
		}
		return o
	}
	const template = "Automated image update by {{ .AutomationObject }}\n\n" +
		"{{ range .Changed.Changes }}- {{ .OldValue }} -> {{ .NewValue }}\n{{ end }}\nteam: {{ .Values.team }}\n"
	auto := func(name, branch string) *imagev1.ImageUpdateAutomation {
		return &imagev1.ImageUpdateAutomation{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: name},
			Interval:  metav1.Duration{Duration: time.Hour},
			GitSpec: &imagev1.GitSpec{
				Checkout: &imagev1.GitCheckoutSpec{Reference: sourcev1.GitRepositoryRef{Branch: branch}},
				Commit: imagev1.CommitSpec{
					Author:                imagev1.CommitUser{Name: "Flux Bot (" + name + ")", Email: name + "@fluxcd.example"},
					MessageTemplate:       template,
					MessageTemplateValues: map[string]imagev1.TemplateValue{"team": "platform"},
				},
				Push: &imagev1.PushSpec{Branch: branch},
			},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./apps"},
		}}
	}
	pushers := map[string]*imagev1.ImageUpdateAutomation{
		"main":              auto("workload-identity", "main"),
		"image-updates-pat": auto("pat", "image-updates-pat"),
		"image-updates-ssh": auto("ssh", "image-updates-ssh"),
	}
	readers := []*imagev1.ImageUpdateAutomation{auto("node", "image-updates-node"), auto("app", "image-updates-app")}
	for _, o := range []client.Object{
		source("workload-identity", adoURL, sourcev1.AzureGitProvider, "source", ""),
		source("pat", adoURL, sourcev1.GenericGitProvider, "", "pat"),
		source("ssh", adoSSHURL, sourcev1.GenericGitProvider, "", "ssh"),
		source("node", adoURL, sourcev1.AzureGitProvider, "", ""),
		source("app", adoURL, sourcev1.AzureGitProvider, "", "app"),
	} {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range append([]*imagev1.ImageUpdateAutomation{pushers["main"], pushers["image-updates-pat"], pushers["image-updates-ssh"]}, readers...) {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}

	// A fresh clone, with the git CLI through the local proxy, shows each pusher's commit.
	for branch, o := range pushers {
		s.waitFor(t, o, "a push", func() bool {
			st, _, _ := readyStatus(o)
			return st == metav1.ConditionTrue && o.Status.LastPushCommit != ""
		})
		if o.Status.ObservedSourceRevision != branch+"@sha1:"+o.Status.LastPushCommit {
			t.Errorf("%s: observedSourceRevision %q, lastPushCommit %q", o.Name, o.Status.ObservedSourceRevision, o.Status.LastPushCommit)
		}
		clone := s.cloneThroughProxy(t, branch)
		if got := testenv.Git(t, clone, "rev-parse", "HEAD"); got != o.Status.LastPushCommit {
			t.Errorf("%s: the clone's %s is at %s, status.lastPushCommit %s", o.Name, branch, got, o.Status.LastPushCommit)
		}
		if got := testenv.Git(t, clone, "rev-parse", "HEAD^"); got != initial {
			t.Errorf("%s: the commit's parent is %s, want %s", o.Name, got, initial)
		}
		deployment, _ := os.ReadFile(filepath.Join(clone, "apps/podinfo/deployment.yaml"))
		if string(deployment) != podinfoDeployment("6.0.1") {
			t.Errorf("%s: deployment.yaml on %s:\n%s", o.Name, branch, deployment)
		}
		kustomization, _ := os.ReadFile(filepath.Join(clone, "apps/podinfo/kustomization.yaml"))
		if !strings.Contains(string(kustomization), "newTag: 6.0.1 # {") {
			t.Errorf("%s: kustomization.yaml on %s:\n%s", o.Name, branch, kustomization)
		}
		if got := testenv.Git(t, clone, "log", "-1", "--format=%an <%ae>"); got != "Flux Bot ("+o.Name+") <"+o.Name+"@fluxcd.example>" {
			t.Errorf("%s: author %s", o.Name, got)
		}
		image := registryHost + "/" + ns + "/podinfo"
		want := "Automated image update by " + ns + "/" + o.Name + "\n\n- " + image + ":6.0.0 -> " + image + ":6.0.1\n- 6.0.0 -> 6.0.1\n\nteam: platform"
		if got := testenv.Git(t, clone, "log", "-1", "--format=%B"); got != want {
			t.Errorf("%s: message:\n%s\nwant:\n%s", o.Name, got, want)
		}
	}

	for _, o := range readers {
		s.waitFor(t, o, "AuthenticationFailed", func() bool {
			_, reason, _ := readyStatus(o)
			return reason == imagev1.AuthenticationFailedReason
		})
		_, _, msg := readyStatus(o)
		for _, want := range []string{"organization " + adoOrg, "project " + adoProject, "may read the repository but not push", "Contributors", "az devops security group membership add"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not say %q", o.Name, msg, want)
			}
		}
		if head := testenv.Git(t, bare, "rev-parse", o.Spec.GitSpec.Push.Branch); head != initial {
			t.Errorf("%s: its branch moved to %s", o.Name, head)
		}
	}
	if _, _, msg := readyStatus(readers[0]); !strings.Contains(msg, nodeIdentityID) {
		t.Errorf("the node's refusal does not name its client ID %s: %s", nodeIdentityID, msg)
	}
	if _, _, msg := readyStatus(readers[1]); !strings.Contains(msg, pushAppID) {
		t.Errorf("flux-secret-app's refusal does not name its client ID %s: %s", pushAppID, msg)
	}
}

// cloneThroughProxy clones branch of the Azure DevOps repository with the git CLI over HTTPS,
// through the local proxy and trusting the local CA as docs/local-azure.md says, with the
// developer's PAT, and returns the work tree.
func (s *suite) cloneThroughProxy(t *testing.T, branch string) string {
	t.Helper()
	dir := t.TempDir()
	url := strings.Replace(adoURL, "https://", "https://git:"+adoPAT+"@", 1)
	cmd := testenv.GitCommand(t.Context(), dir, "clone", "-q", "--branch", branch, url, ".")
	cmd.Env = append(cmd.Env, s.env.Azure.ProxyEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone through the proxy: %v\n%s", err, strings.ReplaceAll(string(out), adoPAT, "***"))
	}
	return dir
}
