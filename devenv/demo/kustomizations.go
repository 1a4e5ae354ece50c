package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/azkv"
	sopsconfig "github.com/getsops/sops/v3/config"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The Kustomizations and what they apply. The samples' artifact (and the Git repository) holds
// two directories: AppPath, an application, and SecretsPath, a Secret encrypted with SOPS for
// the directory's Key Vault key VaultKey.
const (
	// AppKustomization applies AppPath into its tenant's namespace. No kube-controller-manager
	// runs, so the Deployment never rolls out: only the ConfigMap's health is checked.
	AppKustomization = "podinfo"
	// AppPath is the application: a Deployment, a Service and the ConfigMap AppConfigMap.
	AppPath = "podinfo"
	// AppConfigMap is the ConfigMap of AppPath, the one object whose health is checked.
	AppConfigMap = "podinfo"
	// SecretsKustomization applies SecretsPath, decrypting it with Key Vault as its tenant's
	// identity.
	SecretsKustomization = "secrets"
	// SecretsPath holds SOPSSecret, encrypted as `sops encrypt --azure-kv VAULT/keys/sops
	// --encrypted-regex '^(data|stringData)$'` writes it.
	SecretsPath = "secrets"
	// SOPSSecret is the encrypted Secret, and SOPSPassword its data.password in plaintext.
	SOPSSecret   = "db"
	SOPSPassword = "decrypted-with-azimuth-local-sops"
	// VaultKey is the key of the directory's Key Vault that wraps the SOPS data key.
	VaultKey = "sops"
	// DecryptionSecret is SecretsTenant's decryption secret: a sops.azure-kv entry with
	// PushApplication's client secret.
	DecryptionSecret = "sops-keys"
)

// sopsVersion is the version of the SOPS module (go.mod), which the documents name as `sops`
// would.
const sopsVersion = "3.13.3"

// retryInterval is how soon a failed Kustomization tries again: the sources may not have their
// artifact yet when it first reconciles (a new artifact also triggers it at once).
const retryInterval = 15 * time.Second

// lookupVault is the first Key Vault of d with the key VaultKey; empty when it has none.
func lookupVault(d *directory.Directory) string {
	for _, kv := range d.Spec().Resources.KeyVaults {
		for _, k := range kv.Keys {
			if strings.EqualFold(k.Name, VaultKey) {
				return kv.Name
			}
		}
	}
	return ""
}

// vaultURL is the vault's data plane in the public cloud.
func vaultURL(vault string) string { return "https://" + vault + ".vault.azure.net" }

// secretManifest is SOPSSecret in plaintext.
func secretManifest() string {
	return `apiVersion: v1
kind: Secret
metadata:
  name: ` + SOPSSecret + `
  labels:
    app: podinfo
type: Opaque
data:
  password: ` + base64.StdEncoding.EncodeToString([]byte(SOPSPassword)) + "\n"
}

// encryptSecret encrypts SOPSSecret for the vault's key VaultKey as PushApplication (Key Vault
// Crypto User), as a developer would with `sops encrypt --azure-kv`, and keeps it for the
// samples pushed next.
func (s *System) encryptSecret(ctx context.Context) (string, error) {
	vault := s.names.vault
	if vault == "" {
		return "no Key Vault with a key '" + VaultKey + "' in the directory", nil
	}
	rt, err := transport.New(&s.Env.Transport)
	if err != nil {
		return "", err
	}
	cred, err := entra.NewProvider(&entra.Options{Transport: &s.Env.Transport}).Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: s.names.tenantID, ClientID: s.names.pushID,
		Secret: identity.Secret{ClientSecret: s.names.pushSecret}, Source: "the demo's SOPS encryption",
	}, nil)
	if err != nil {
		return "", err
	}
	opts := &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}}}
	// The sops CLI names the key's current version in the document: look it up as it does.
	keys, err := azkeys.NewClient(vaultURL(vault), cred, opts)
	if err != nil {
		return "", err
	}
	key, err := keys.GetKey(ctx, VaultKey, "", nil)
	if err != nil {
		return "", fmt.Errorf("reading the key %s/keys/%s as %s: %w", vaultURL(vault), VaultKey, PushApplication, err)
	}
	mk := azkv.NewMasterKey(vaultURL(vault), VaultKey, key.Key.KID.Version())
	azkv.NewTokenCredential(cred).ApplyToMasterKey(mk)
	azkv.NewClientOptions(opts).ApplyToMasterKey(mk)
	enc, err := sopsEncrypt(ctx, []byte(secretManifest()), mk)
	if err != nil {
		return "", fmt.Errorf("as %s: %w", PushApplication, err)
	}
	s.sopsSecret = enc
	return fmt.Sprintf("%s/%s.yaml, its data key wrapped by %s/keys/%s as %s", SecretsPath, SOPSSecret, vault, VaultKey, PushApplication), nil
}

// sopsEncrypt writes the YAML plain as a SOPS document for the one master key mk, as `sops
// encrypt --encrypted-regex '^(data|stringData)$'` does: a fresh data key wrapped by mk, the
// values of data and stringData encrypted with it, and the MAC of every value encrypted with it
// and lastmodified.
func sopsEncrypt(ctx context.Context, plain []byte, mk *azkv.MasterKey) ([]byte, error) {
	store := sopsyaml.NewStore(&sopsconfig.NewStoresConfig().YAML)
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, err
	}
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	if err := mk.EncryptContext(ctx, dataKey); err != nil {
		return nil, err
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{{mk}},
		EncryptedRegex: "^(data|stringData)$",
		Version:        sopsVersion,
	}}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		return nil, err
	}
	tree.Metadata.LastModified = time.Now().UTC()
	if tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		return nil, err
	}
	return store.EmitEncryptedFile(tree)
}

// sourceRef names a source of the Kustomization's namespace, or of namespace when it is set.
func sourceRef(kind, name, namespace string) kustomizev1.CrossNamespaceSourceReference {
	return kustomizev1.CrossNamespaceSourceReference{Kind: kind, Name: name, Namespace: namespace}
}

// kustomization applies path of src into its own namespace, pruning what leaves the source.
func kustomization(namespace, name, path string, src kustomizev1.CrossNamespaceSourceReference) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:       src,
			Path:            "./" + path,
			Prune:           true,
			TargetNamespace: namespace,
			Interval:        metav1.Duration{Duration: sampleInterval},
			RetryInterval:   &metav1.Duration{Duration: retryInterval},
			Timeout:         &metav1.Duration{Duration: time.Minute},
		},
	}
}

// appSample is namespace's Kustomization of AppPath from src. It reaches no Azure service: the
// artifact comes from the controllers' artifact server.
func appSample(namespace string, src kustomizev1.CrossNamespaceSourceReference) sample {
	k := kustomization(namespace, AppKustomization, AppPath, src)
	k.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "v1", Kind: "ConfigMap", Name: AppConfigMap, Namespace: namespace}}
	return sample{obj: k, identity: Identity{Method: "none", Principal: "(applies " + src.Kind + " " + src.Name + ")"}}
}

// secretsSample is namespace's Kustomization of SecretsPath from src, decrypting as decryption
// says, with the identity id.
func secretsSample(namespace string, src kustomizev1.CrossNamespaceSourceReference, decryption kustomizev1.Decryption, id Identity) sample {
	k := kustomization(namespace, SecretsKustomization, SecretsPath, src)
	decryption.Provider = "sops"
	k.Spec.Decryption = &decryption
	return sample{obj: k, identity: id}
}

// tenantKustomizations are t's Kustomizations: the application from its OCIRepository, unless
// t is denied, and the SOPS Secret from its GitRepository (its OCIRepository without Azure
// DevOps), decrypted with t's identity: the service account's for object-level workload
// identity, none named otherwise, so the controller's or the node's. The denied tenant's sources
// fail, so it decrypts the artifact of objectWITenant's OCIRepository, and must fail with
// DecryptionFailed: its identity holds no role on the vault.
func (s *System) tenantKustomizations(t tenant, id Identity) []sample {
	var out []sample
	if !t.denied {
		out = append(out, appSample(t.namespace, sourceRef(sourcev1.OCIRepositoryKind, "manifests", "")))
	}
	if s.names.vault == "" {
		return out
	}
	src := sourceRef(sourcev1.OCIRepositoryKind, "manifests", "")
	switch {
	case t.denied:
		src.Namespace = objectWITenant().namespace
	case t.git && s.names.ado.name != "":
		src = sourceRef(sourcev1.GitRepositoryKind, "fleet", "")
	}
	var d kustomizev1.Decryption
	if t.via == objectWI {
		d.ServiceAccountName = TenantServiceAccount
	}
	smp := secretsSample(t.namespace, src, d, id)
	if t.denied {
		smp.failReason = kustomizev1.DecryptionFailedReason
	}
	return append(out, smp)
}

// secretsTenantKustomizations are SecretsTenant's Kustomizations, from the GitRepository
// fleet-pat: the application, and the SOPS Secret decrypted as PushApplication, whose client
// secret the decryption secret DecryptionSecret holds in sops.azure-kv.
func (s *System) secretsTenantKustomizations() ([]*corev1.Secret, []sample, error) {
	src := sourceRef(sourcev1.GitRepositoryKind, "fleet-pat", "")
	samples := []sample{appSample(SecretsTenant, src)}
	if s.names.vault == "" {
		return nil, samples, nil
	}
	entry, err := yaml.Marshal(map[string]string{"tenantId": s.names.tenantID, "clientId": s.names.pushID, "clientSecret": s.names.pushSecret})
	if err != nil {
		return nil, nil, err
	}
	keys := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: SecretsTenant, Name: DecryptionSecret},
		StringData: map[string]string{identity.SOPSKey: string(entry)},
	}
	id := Identity{Method: "client secret", Principal: PushApplication + " (secret " + DecryptionSecret + ")", ClientID: s.names.pushID}
	samples = append(samples, secretsSample(SecretsTenant, src, kustomizev1.Decryption{SecretRef: &meta.LocalObjectReference{Name: DecryptionSecret}}, id))
	return []*corev1.Secret{keys}, samples, nil
}
