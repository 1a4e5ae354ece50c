package e2e

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/gateway"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// TestFaults: Entra ID and the registry having a bad day (throttling with Retry-After, an
// outage, a hang, a dropped connection) end in a condition that says what happened, and the
// object recovers by itself once the service does, without a restart.
func TestFaults(t *testing.T) {
	s := system(t)
	if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsFaults}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	s.push(t, "tenant-faults/manifests", "1.0.0", map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"})

	const entraHost, registries = "login.microsoftonline.com", "*.azurecr.io"
	for _, tc := range []struct {
		name  string
		host  string
		fault gateway.Fault
		// want is what the Ready condition's message must say.
		want []string
	}{
		{"Entra ID throttles", entraHost, gateway.Fault{Status: 429, RetryAfter: time.Second}, []string{"429"}},
		{"Entra ID is down", entraHost, gateway.Fault{Status: 503}, []string{"503"}},
		{"the registry is down", registries, gateway.Fault{Status: 503}, []string{"503", registryHost}},
		{"the registry throttles", registries, gateway.Fault{Status: 429, RetryAfter: time.Second}, []string{"429", registryHost}},
		{"the registry hangs", registries, gateway.Fault{Hang: true}, []string{"deadline exceeded"}},
		{"the registry drops the connection", registries, gateway.Fault{Reset: true}, []string{registryHost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A service account of its own, so that no cached token hides the fault.
			sa := strings.NewReplacer(" ", "-").Replace(strings.ToLower(tc.name))
			s.federatedServiceAccount(t, nsFaults, sa)
			if err := s.env.Azure.Inject(tc.host, tc.fault); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.env.Azure.Clear(tc.host) })

			obj := ociRepository(nsFaults, "tenant-faults/manifests", "1.0.0", true)
			obj.Name, obj.Spec.ServiceAccountName = sa, sa
			// Long enough for the client's own retries of a 503 or 429 (go-containerregistry
			// backs off 1s then 3s) to end in the error they report, short enough for a hang.
			timeout := 20 * time.Second
			if tc.fault.Hang {
				timeout = 5 * time.Second
			}
			obj.Spec.Timeout = &metav1.Duration{Duration: timeout}
			if err := s.env.Client.Create(t.Context(), obj); err != nil {
				t.Fatal(err)
			}
			s.failsThenRecovers(t, obj, tc.host, tc.want, func() bool { st, _, _ := readyStatus(obj); return st == metav1.ConditionTrue })
		})
	}
}

// failsThenRecovers waits for obj to be Ready=False with a message that says each of want, and
// not stalled; then clears host's fault and waits until recovered.
func (s *suite) failsThenRecovers(t *testing.T, obj conditioned, host string, want []string, recovered func() bool) {
	t.Helper()
	s.waitFor(t, obj, "Ready=False", func() bool { st, _, _ := readyStatus(obj); return st == metav1.ConditionFalse })
	_, reason, msg := readyStatus(obj)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("Ready=False %s: %q does not say %q", reason, msg, w)
		}
	}
	if stalled := apimeta.FindStatusCondition(obj.GetConditions(), meta.StalledCondition); stalled != nil {
		t.Errorf("a passing fault stalled the object: %s", stalled.Message)
	}
	s.env.Azure.Clear(host)
	s.waitFor(t, obj, "Ready again once the service is back", recovered)
}

// federatedServiceAccount creates service account name in ns, for the controller's managed
// identity, federated with it.
func (s *suite) federatedServiceAccount(t *testing.T, ns, name string) {
	t.Helper()
	s.federatedServiceAccountFor(t, ns, name, controllerMI, controllerID)
}

// federatedServiceAccountFor creates service account name in ns for the principal with
// clientID, federated with it.
func (s *suite) federatedServiceAccountFor(t *testing.T, ns, name, principal, clientID string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
		identity.ClientIDAnnotation: clientID, identity.TenantIDAnnotation: tenantID,
	}}}
	if err := s.env.Client.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
	err := s.env.Azure.Directory().AddFederatedCredential(principal, directory.FederatedCredential{
		Name: ns + "-" + name, Issuer: s.env.Kube.IssuerURL, Subject: "system:serviceaccount:" + ns + ":" + name,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAzureDevOpsFaults: Azure DevOps throttling, down, hanging or dropping the connection ends
// in a condition that names it, and the GitRepository recovers by itself.
func TestAzureDevOpsFaults(t *testing.T) {
	s := system(t)
	if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsFaults}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	head := s.pushToAzureDevOps(t, map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsFaults, Name: "ado-pat"}, StringData: map[string]string{"username": "git", "password": adoPAT}}
	if err := s.env.Client.Create(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	const ado = "dev.azure.com"
	for _, tc := range []struct {
		name  string
		fault gateway.Fault
		want  []string
	}{
		{"ado-down", gateway.Fault{Status: 503}, []string{"503"}},
		{"ado-throttles", gateway.Fault{Status: 429, RetryAfter: time.Second}, []string{"429"}},
		{"ado-hangs", gateway.Fault{Hang: true}, []string{"deadline exceeded"}},
		{"ado-resets", gateway.Fault{Reset: true}, []string{adoURL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.env.Azure.Inject(ado, tc.fault); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.env.Azure.Clear(ado) })
			obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: nsFaults, Name: tc.name}, Spec: sourcev1.GitRepositorySpec{
				URL: adoURL, SecretRef: &meta.LocalObjectReference{Name: secret.Name}, Interval: metav1.Duration{Duration: time.Hour},
				Timeout: &metav1.Duration{Duration: 5 * time.Second}, Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
			}}
			if err := s.env.Client.Create(t.Context(), obj); err != nil {
				t.Fatal(err)
			}
			s.failsThenRecovers(t, obj, ado, tc.want, func() bool {
				st, _, _ := readyStatus(obj)
				return st == metav1.ConditionTrue && obj.Status.Artifact != nil && obj.Status.Artifact.Revision == "main@sha1:"+head
			})
		})
	}
}

// TestKeyVaultFaults: Key Vault throttling, down or hanging while a Kustomization decrypts ends
// in DecryptionFailed that says so, retried and not stalled, and the Kustomization applies its
// Secret by itself once the vault is back.
func TestKeyVaultFaults(t *testing.T) {
	s := system(t)
	if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsKVFaults}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sops := s.sopsCLI(t)
	doc := sops.encrypt(t, "secret.yaml", secretManifest("db", "password", "faults-plaintext-91c3"), "--azure-kv", sopsKeyURL, "--encrypted-regex", sopsEncryptedRE)
	s.push(t, "kv-faults/manifests", "1.0.0", map[string]string{"secrets/secret.yaml": string(doc)})

	const vaults = "*.vault.azure.net"
	for _, tc := range []struct {
		name    string
		fault   gateway.Fault
		timeout time.Duration
		want    []string
	}{
		{"the vault throttles", gateway.Fault{Status: 429, RetryAfter: time.Second}, 30 * time.Second, []string{"429", vaultName}},
		{"the vault is down", gateway.Fault{Status: 503}, 30 * time.Second, []string{"503", vaultName}},
		{"the vault hangs", gateway.Fault{Hang: true}, 5 * time.Second, []string{"deadline exceeded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.env.Azure.Inject(vaults, tc.fault); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.env.Azure.Clear(vaults) })
			name := strings.NewReplacer(" ", "-").Replace(tc.name)
			src := ociRepository(nsKVFaults, "kv-faults/manifests", "1.0.0", false)
			src.Name = name
			ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: nsKVFaults, Name: name}, Spec: kustomizev1.KustomizationSpec{
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: name},
				Path:      "./secrets", Prune: true, TargetNamespace: nsKVFaults, NamePrefix: name + "-",
				Decryption: &kustomizev1.Decryption{Provider: "sops"},
				Interval:   metav1.Duration{Duration: time.Hour}, RetryInterval: &metav1.Duration{Duration: time.Second},
				Timeout: &metav1.Duration{Duration: tc.timeout},
			}}
			if err := s.env.Client.Create(t.Context(), src); err != nil {
				t.Fatal(err)
			}
			s.waitFor(t, src, "Ready=True", func() bool { st, _, _ := readyStatus(src); return st == metav1.ConditionTrue })
			if err := s.env.Client.Create(t.Context(), ks); err != nil {
				t.Fatal(err)
			}
			s.failsThenRecovers(t, ks, vaults, tc.want, func() bool { st, _, _ := readyStatus(ks); return st == metav1.ConditionTrue })
			if _, reason, _ := readyStatus(ks); reason != meta.ReconciliationSucceededReason {
				t.Errorf("recovered with reason %s", reason)
			}
		})
	}
}
