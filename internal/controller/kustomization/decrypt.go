package kustomization

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/decrypt"
)

// decryptor is obj's SOPS decryption for one reconcile: the keys of spec.decryption.secretRef,
// and, only when a document names an Azure Key Vault key, the identity of
// spec.decryption: its secret's sops.azure-kv, its service account (behind the feature gate),
// --default-decryption-service-account, or the controller's own. nil without spec.decryption.
func (r *Reconciler) decryptor(ctx context.Context, obj *kustomizev1.Kustomization) (*decrypt.Decryptor, error) {
	d := obj.Spec.Decryption
	if d == nil {
		return nil, nil
	}
	spec := access.Spec{Namespace: obj.Namespace, ServiceAccountName: d.ServiceAccountName, Decryption: true}
	var keys decrypt.Keys
	if d.SecretRef != nil {
		data, err := r.Access.Secret(ctx, obj.Namespace, d.SecretRef.Name)
		if err != nil {
			return nil, status.Fail("", kustomizev1.DecryptionFailedReason, fmt.Errorf("decryption secret: %w", err))
		}
		if keys, err = decrypt.ParseKeys(d.SecretRef.Name, data); err != nil {
			return nil, status.Fail("", kustomizev1.DecryptionFailedReason, err)
		}
		spec.IdentitySecret = d.SecretRef.Name
	}
	conn, err := r.Access.Connect(ctx, access.Spec{Namespace: obj.Namespace})
	if err != nil {
		return nil, status.Fail("", kustomizev1.DecryptionFailedReason, err)
	}
	credential := func(ctx context.Context) (azcore.TokenCredential, error) {
		return r.Access.Credential(ctx, spec, conn)
	}
	// A service account needs the feature gate whether or not a document uses Azure, as in Flux:
	// resolve it now, so that the object stalls at once with FeatureGateDisabled.
	if d.ServiceAccountName != "" {
		if _, err := credential(ctx); err != nil {
			return nil, status.Fail("", kustomizev1.DecryptionFailedReason, err)
		}
	}
	return decrypt.New(keys, &decrypt.Options{Azure: credential, Transport: conn.Transport}), nil
}

// decode is Build's Decode for dec: a file that is a SOPS document of its format, and not a
// Kubernetes object, is decrypted in memory with its MAC checked: a secretGenerator's source or
// a patch. Kubernetes objects pass as they are and are decrypted after the build
// (DecryptObject), as Flux does, so that their unencrypted fields may be edited after
// encryption. The first failure is kept in *failed, so that the build's error can be reported
// with reason DecryptionFailed.
func decode(ctx context.Context, dec *decrypt.Decryptor, failed *error) func(string, []byte) ([]byte, error) {
	return func(path string, data []byte) ([]byte, error) {
		format := decrypt.FormatForPath(path)
		if !decrypt.IsEncrypted(data, format) || isObject(data, format) {
			return data, nil
		}
		out, err := dec.DecryptFile(ctx, path, data, format)
		if err != nil && *failed == nil {
			*failed = err
		}
		return out, err
	}
}

// isObject reports whether a YAML or JSON file is a Kubernetes object (its first document has
// apiVersion and kind).
func isObject(data []byte, format decrypt.Format) bool {
	if format != decrypt.YAML && format != decrypt.JSON {
		return false
	}
	var m struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if yaml.Unmarshal(data, &m) != nil {
		return false
	}
	return m.APIVersion != "" && m.Kind != ""
}
