package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// The Key Vault of the built-in directory, its key for SOPS, and the identities this file uses
// besides flux-secret-app and the node's: each holds Key Vault Crypto User on the vault but
// team-denied (and this package's tenant-without-role, which TestKeyVault grants it to).
const (
	vaultURL        = "https://azimuth-local.vault.azure.net"
	vaultName       = "azimuth-local"
	sopsKeyURL      = vaultURL + "/keys/sops"
	certificateApp  = "882490b3-f041-438e-882e-d0b337dbb4da" // flux-certificate-app
	teamAppsMI      = "team-apps"
	teamAppsID      = "9900c650-986a-47f1-867b-f67a2171f746"
	teamDeniedMI    = "team-denied"
	teamDeniedID    = "bca54e62-4c56-40ce-9b34-044a9a5f57b4"
	sopsRepository  = "e2e-sops/manifests"
	sopsEncryptedRE = "^(data|stringData)$"
)

// The namespaces of TestKeyVault, one per case, all reconciled by the manager with the
// ObjectLevelWorkloadIdentity gate on.
const (
	nsKVSecret      = "sops-kv-secret"
	nsKVCertificate = "sops-kv-certificate"
	nsKVAzCLI       = "sops-kv-az-cli"
	nsKVWorkload    = "sops-kv-workload-identity"
	nsKVNode        = "sops-kv-node"
	nsKVDenied      = "sops-kv-denied"
	nsKVFormats     = "sops-kv-formats"
	nsKVTampered    = "sops-kv-tampered"
	nsKVGranted     = "sops-kv-granted"
	nsAge           = "sops-age"
	nsKVFaults      = "sops-kv-faults"
)

var keyVaultNamespaces = []string{nsKVSecret, nsKVCertificate, nsKVAzCLI, nsKVWorkload, nsKVNode, nsKVDenied, nsKVFormats, nsKVTampered, nsKVGranted, nsAge, nsKVFaults}

// The plaintexts. Each is unique, so that a status, event or Secret that shows one is found.
const (
	plainYAML     = "yaml-manifest-plaintext-4d1f9c"
	plainJSON     = "json-manifest-plaintext-8b27e0"
	plainEnvUser  = "dotenv-user-plaintext-31aa07"
	plainEnvPass  = "dotenv-password-plaintext-c05e6d"
	plainBinary   = "binary-plaintext-7e9b42"
	plainAge      = "age-manifest-plaintext-5f60d3"
	plainTampered = "tampered-configmap-plaintext-a2c8e1"
)

// binaryBlob is a file that is not text: a NUL, bytes that are not UTF-8, and plainBinary.
var binaryBlob = append([]byte{0x00, 0xff, 0xfe, 0x80, 0x01, '\n'}, plainBinary...)

// sopsCLI is bin/sops, run as a user runs it against the local Azure: through the local proxy
// (HTTPS_PROXY, SSL_CERT_FILE to the local CA, as `azimuth dev azure` prints them), with
// flux-secret-app's client secret in the environment for azidentity's EnvironmentCredential.
type sopsCLI struct {
	path, dir string
	env       []string
}

func (s *suite) sopsCLI(t *testing.T) sopsCLI {
	t.Helper()
	bin := os.Getenv("AZIMUTH_BIN_DIR")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin")
	}
	path, err := filepath.Abs(filepath.Join(bin, "sops"))
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		t.Fatalf("sops is missing from %s: run `make tools` first", bin)
	}
	// Nothing of this machine's Azure, SOPS or proxy settings leaks in; HOME and the working
	// directory are the test's, so no .sops.yaml or key file of the user's is read.
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "AZURE_") || strings.HasPrefix(upper, "SOPS_") || strings.HasSuffix(upper, "_PROXY") || upper == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, s.env.Azure.ProxyEnv()...)
	// No question to GitHub about newer releases: the local proxy reaches only the local Azure.
	env = append(env, "HOME="+dir, "SOPS_DISABLE_VERSION_CHECK=1",
		"AZURE_TENANT_ID="+tenantID, "AZURE_CLIENT_ID="+pushAppID, "AZURE_CLIENT_SECRET="+pushAppSecret)
	return sopsCLI{path: path, dir: dir, env: env}
}

// encrypt writes plain to a file called name and returns `sops encrypt ARGS name`.
func (c sopsCLI) encrypt(t *testing.T, name string, plain []byte, args ...string) []byte {
	t.Helper()
	file := filepath.Join(c.dir, name)
	if err := os.WriteFile(file, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	args = append(append([]string{"encrypt"}, args...), file)
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sops %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	out := stdout.Bytes()
	if bytes.Contains(out, plain) || len(out) == 0 {
		t.Fatalf("sops %s left the plaintext in:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// azureKVVersion returns the version of the Key Vault key that a SOPS document was encrypted for.
func azureKVVersion(t *testing.T, doc []byte) string {
	t.Helper()
	var d struct {
		Sops struct {
			AzureKV []struct {
				VaultURL string `json:"vault_url"`
				Name     string `json:"name"`
				Version  string `json:"version"`
			} `json:"azure_kv"`
		} `json:"sops"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if kv := d.Sops.AzureKV; len(kv) != 1 || kv[0].VaultURL != vaultURL || kv[0].Name != "sops" || kv[0].Version == "" {
		t.Fatalf("sops.azure_kv = %+v, want the key sops of %s with its version", kv, vaultURL)
	}
	return d.Sops.AzureKV[0].Version
}

// tamper changes the first character of the ciphertext of the encrypted value of key in a SOPS
// YAML document: the AES-GCM tag no longer matches.
func tamper(t *testing.T, doc []byte, key string) []byte {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(\s*` + regexp.QuoteMeta(key) + `: ENC\[AES256_GCM,data:)(.)`)
	m := re.FindSubmatchIndex(doc)
	if m == nil {
		t.Fatalf("no encrypted value of %s in\n%s", key, doc)
	}
	out := bytes.Clone(doc)
	if out[m[4]] == 'A' {
		out[m[4]] = 'B'
	} else {
		out[m[4]] = 'A'
	}
	return out
}

func secretManifest(name, key, value string) []byte {
	return []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\ntype: Opaque\nstringData:\n  " + key + ": " + value + "\n")
}

// keyVaultCase is one Kustomization of TestKeyVault, in a namespace of its own.
type keyVaultCase struct {
	name, ns, path string
	decryption     kustomizev1.Decryption
	secret         map[string]string // the decryption secret "sops-keys", when not nil
	// principal, when set, is federated with the service account "source" of ns.
	principal, principalID string
	// secrets are the Secrets (name → key → value) the Kustomization must apply.
	secrets map[string]map[string]string
	// failure, when set, is what the Kustomization must first fail with, DecryptionFailed saying
	// each of failure; then secrets must be nil, unless grant.
	failure []string
	// retried: the failure must be retried (Reconciling, not Stalled), since what fixes it is
	// outside the spec and the source (a role assignment).
	retried bool
	// grant gives the principal Key Vault Crypto User on the vault after the failure, as its
	// message says: the Kustomization must then apply secrets by itself, at spec.retryInterval.
	grant bool
	// absent are objects that must not exist after a failure.
	absent []client.Object
}

// TestKeyVault: SOPS files encrypted by the sops CLI with the local Key Vault's key (and one with
// age), as a user encrypts them, pushed to the local ACR and applied by Kustomizations that
// decrypt them with every kind of identity; the Secrets hold the plaintext, the statuses and
// events never do. A missing role is explained and, once granted, the Kustomization recovers
// by itself; a tampered file applies nothing.
func TestKeyVault(t *testing.T) {
	s := system(t)
	sops := s.sopsCLI(t)

	// The files, encrypted as users do. The Key Vault key is named without its version (SOPS asks
	// Key Vault for the latest and records it) and, for the JSON manifest, with it.
	kvYAML := sops.encrypt(t, "secret.yaml", secretManifest("db", "password", plainYAML),
		"--azure-kv", sopsKeyURL, "--encrypted-regex", sopsEncryptedRE)
	version := azureKVVersion(t, kvYAML)
	kvJSON := sops.encrypt(t, "secret.json", []byte(`{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"}, "stringData": {"token": "`+plainJSON+`"}}`),
		"--azure-kv", sopsKeyURL+"/"+version, "--encrypted-regex", sopsEncryptedRE)
	if v := azureKVVersion(t, kvJSON); v != version {
		t.Fatalf("the JSON manifest was encrypted with version %s, want %s", v, version)
	}
	kvEnv := sops.encrypt(t, "app.env", []byte("DB_USER="+plainEnvUser+"\nDB_PASSWORD="+plainEnvPass+"\n"),
		"--azure-kv", sopsKeyURL, "--input-type", "dotenv", "--output-type", "dotenv")
	kvBinary := sops.encrypt(t, "blob.bin", binaryBlob,
		"--azure-kv", sopsKeyURL, "--input-type", "binary", "--output-type", "binary")
	ageID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ageYAML := sops.encrypt(t, "age.yaml", secretManifest("db", "password", plainAge),
		"--age", ageID.Recipient().String(), "--encrypted-regex", sopsEncryptedRE)

	s.push(t, sopsRepository, "1.0.0", map[string]string{
		"keyvault/secret.yaml": string(kvYAML),
		"formats/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [secret.yaml, secret.json]
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: generated
    envs: [app.env]
    files: [blob.bin]
`,
		"formats/secret.yaml":     string(kvYAML),
		"formats/secret.json":     string(kvJSON),
		"formats/app.env":         string(kvEnv),
		"formats/blob.bin":        string(kvBinary),
		"tampered/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  plain: " + plainTampered + "\n",
		"tampered/secret.yaml":    string(tamper(t, kvYAML, "password")),
		"age/secret.yaml":         string(ageYAML),
	})

	certificatePEM := string(directory.DefaultCertificateAppPEM())
	clientSecret := map[string]string{"sops.azure-kv": "tenantId: " + tenantID + "\nclientId: " + pushAppID + "\nclientSecret: " + pushAppSecret + "\n"}
	certificate, err := json.Marshal(map[string]string{"tenantId": tenantID, "clientId": certificateApp, "clientCertificate": certificatePEM})
	if err != nil {
		t.Fatal(err)
	}
	azCLI, err := json.Marshal(map[string]string{"appId": pushAppID, "tenant": tenantID, "password": pushAppSecret, "displayName": "flux-secret-app"})
	if err != nil {
		t.Fatal(err)
	}
	bySecret := kustomizev1.Decryption{Provider: "sops", SecretRef: &meta.LocalObjectReference{Name: "sops-keys"}}
	byServiceAccount := kustomizev1.Decryption{Provider: "sops", ServiceAccountName: "source"}
	db := map[string]map[string]string{"db": {"password": plainYAML}}
	cases := []keyVaultCase{
		{name: "client secret", ns: nsKVSecret, path: "./keyvault", decryption: bySecret, secret: clientSecret, secrets: db},
		{name: "client certificate", ns: nsKVCertificate, path: "./keyvault", decryption: bySecret,
			secret: map[string]string{"sops.azure-kv": string(certificate)}, secrets: db},
		{name: "az CLI form", ns: nsKVAzCLI, path: "./keyvault", decryption: bySecret,
			secret: map[string]string{"sops.azure-kv": string(azCLI)}, secrets: db},
		{name: "object-level workload identity", ns: nsKVWorkload, path: "./keyvault", decryption: byServiceAccount,
			principal: teamAppsMI, principalID: teamAppsID, secrets: db},
		{name: "node identity", ns: nsKVNode, path: "./keyvault", decryption: kustomizev1.Decryption{Provider: "sops"}, secrets: db},
		{name: "missing role", ns: nsKVDenied, path: "./keyvault", decryption: byServiceAccount,
			principal: teamDeniedMI, principalID: teamDeniedID,
			failure: []string{teamDeniedID, vaultName, "Key Vault Crypto User", "az role assignment create"}, retried: true,
			absent: []client.Object{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsKVDenied, Name: "db"}}}},
		{name: "formats", ns: nsKVFormats, path: "./formats", decryption: bySecret, secret: clientSecret, secrets: map[string]map[string]string{
			"db":        {"password": plainYAML},
			"api":       {"token": plainJSON},
			"generated": {"DB_USER": plainEnvUser, "DB_PASSWORD": plainEnvPass, "blob.bin": string(binaryBlob)},
		}},
		{name: "tampered", ns: nsKVTampered, path: "./tampered", decryption: bySecret, secret: clientSecret,
			failure: []string{"Secret", "db", "modified after encryption"},
			absent: []client.Object{
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: nsKVTampered, Name: "db"}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: nsKVTampered, Name: "settings"}},
			}},
		// A missing role met while decrypting a secretGenerator source (before kustomize reads
		// it), then granted: the Kustomization recovers by itself, as with a manifest.
		{name: "missing role granted later", ns: nsKVGranted, path: "./formats", decryption: byServiceAccount,
			principal: noRoleMI, principalID: noRoleMIID,
			failure: []string{noRoleMIID, vaultName, "Key Vault Crypto User", "az role assignment create"}, retried: true, grant: true,
			secrets: map[string]map[string]string{
				"db":        {"password": plainYAML},
				"api":       {"token": plainJSON},
				"generated": {"DB_USER": plainEnvUser, "DB_PASSWORD": plainEnvPass, "blob.bin": string(binaryBlob)},
			}},
		{name: "age", ns: nsAge, path: "./age", decryption: bySecret,
			secret:  map[string]string{"identity.agekey": "# created by TestKeyVault\n" + ageID.String() + "\n"},
			secrets: map[string]map[string]string{"db": {"password": plainAge}}},
	}
	plaintexts := []string{plainYAML, plainJSON, plainEnvUser, plainEnvPass, plainBinary, plainAge, plainTampered}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks := s.keyVaultObjects(t, tc)
			t.Parallel()
			if tc.failure != nil {
				s.decryptionFails(t, ks, tc)
			}
			if tc.grant {
				vault, ok := s.env.Azure.Directory().Resource(directory.KindKeyVault, vaultName)
				if !ok {
					t.Fatalf("no vault %s in the directory", vaultName)
				}
				if err := s.env.Azure.Directory().AddRoleAssignment(directory.RoleAssignment{Principal: tc.principal, Role: "Key Vault Crypto User", Scope: vault.ID()}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.secrets != nil {
				s.waitFor(t, ks, "Ready=True", func() bool { st, _, _ := readyStatus(ks); return st == metav1.ConditionTrue })
				for name, want := range tc.secrets {
					secret := &corev1.Secret{}
					if err := s.env.Client.Get(t.Context(), client.ObjectKey{Namespace: tc.ns, Name: name}, secret); err != nil {
						t.Errorf("Secret %s/%s: %v", tc.ns, name, err)
						continue
					}
					for key, value := range want {
						if got, ok := secret.Data[key]; !ok || string(got) != value {
							t.Errorf("Secret %s/%s: %s = %q, want %q", tc.ns, name, key, got, value)
						}
					}
					if len(secret.Data) != len(want) {
						t.Errorf("Secret %s/%s holds %d keys, want %d", tc.ns, name, len(secret.Data), len(want))
					}
				}
			}
			s.noPlaintext(t, ks, plaintexts)
		})
	}
}

// decryptionFails waits until ks is Ready=False with reason DecryptionFailed, and checks the
// message, that nothing was applied, and whether the failure is retried.
func (s *suite) decryptionFails(t *testing.T, ks *kustomizev1.Kustomization, tc keyVaultCase) {
	t.Helper()
	s.waitFor(t, ks, kustomizev1.DecryptionFailedReason, func() bool {
		_, reason, _ := readyStatus(ks)
		return reason == kustomizev1.DecryptionFailedReason
	})
	st, _, msg := readyStatus(ks)
	t.Logf("Ready=%s DecryptionFailed: %s", st, msg)
	if st != metav1.ConditionFalse {
		t.Errorf("Ready=%s, want False", st)
	}
	for _, want := range tc.failure {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	if tc.retried {
		if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
			t.Errorf("Stalled=True %s, want the failure retried at spec.retryInterval: a role assignment fixes it, not a change of the spec or the source", c.Reason)
		}
		if c := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReconcilingCondition); c == nil || c.Status != metav1.ConditionTrue || c.Reason != meta.ProgressingWithRetryReason {
			t.Errorf("Reconciling = %+v, want True %s", c, meta.ProgressingWithRetryReason)
		}
	}
	for _, o := range tc.absent {
		if err := s.env.Client.Get(t.Context(), client.ObjectKeyFromObject(o), o); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s/%s was applied (err %v)", o, o.GetNamespace(), o.GetName(), err)
		}
	}
	if ks.Status.LastAppliedRevision != "" || ks.Status.Inventory != nil && len(ks.Status.Inventory.Entries) > 0 {
		t.Errorf("something was applied: lastAppliedRevision %q, inventory %+v", ks.Status.LastAppliedRevision, ks.Status.Inventory)
	}
}

// keyVaultObjects makes tc's namespace, its decryption secret and service account, an
// OCIRepository of the pushed artifact (pulled with the node's identity, which has AcrPull) and
// the Kustomization, which it returns.
func (s *suite) keyVaultObjects(t *testing.T, tc keyVaultCase) *kustomizev1.Kustomization {
	t.Helper()
	if tc.principal != "" {
		s.tenant(t, tc.ns, tc.principal, tc.principalID)
	} else if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tc.ns}}); err != nil {
		t.Fatal(err)
	}
	var objs []client.Object
	if tc.secret != nil {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tc.ns, Name: "sops-keys"}, StringData: tc.secret})
	}
	src := ociRepository(tc.ns, sopsRepository, "1.0.0", false)
	decryption := tc.decryption
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: tc.ns, Name: "secrets"}, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: src.Name},
		Path:      tc.path, Prune: true, TargetNamespace: tc.ns, Decryption: &decryption,
		Interval: metav1.Duration{Duration: time.Hour}, RetryInterval: &metav1.Duration{Duration: 2 * time.Second},
		Timeout: &metav1.Duration{Duration: 30 * time.Second},
	}}
	for _, o := range append(objs, src, ks) {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	return ks
}

// noPlaintext fails if ks's status or an event of its namespace shows one of plaintexts. The
// recorder sends events asynchronously: it waits a little for the Kustomization's first.
func (s *suite) noPlaintext(t *testing.T, ks *kustomizev1.Kustomization, plaintexts []string) {
	t.Helper()
	status, err := json.Marshal(ks.Status)
	if err != nil {
		t.Fatal(err)
	}
	var events corev1.EventList
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := s.env.Client.List(t.Context(), &events, client.InNamespace(ks.Namespace)); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events.Items {
			found = found || e.InvolvedObject.Kind == kustomizev1.KustomizationKind
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("no event of Kustomization %s/%s", ks.Namespace, ks.Name)
			break
		}
	}
	for _, p := range plaintexts {
		if strings.Contains(string(status), p) {
			t.Errorf("the status of Kustomization %s/%s shows a plaintext: %s", ks.Namespace, ks.Name, status)
		}
		for _, e := range events.Items {
			if strings.Contains(e.Message, p) {
				t.Errorf("event %s %s shows a plaintext: %s", e.InvolvedObject.Kind, e.Reason, e.Message)
			}
		}
	}
}
