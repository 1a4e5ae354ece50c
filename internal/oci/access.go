package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Providers an object may name.
const (
	ProviderGeneric = "generic"
	ProviderAzure   = "azure"
)

// Spec is what an object says about reaching its registry.
type Spec struct {
	Namespace          string
	Provider           string
	ServiceAccountName string
	SecretRef          string
	CertSecretRef      string
	ProxySecretRef     string
}

// RegistryKeychain is a keychain that can forget what it holds for a registry, after the
// registry rejected it.
type RegistryKeychain interface {
	authn.Keychain
	Invalidate(registry string)
}

// Factory builds Access for objects. Its fields are set once by the controller's wiring.
type Factory struct {
	// Client reads secrets and service accounts in the object's namespace.
	Client client.Client
	// Resolver and Entra turn an azure object's auth fields into a credential.
	Resolver *identity.Resolver
	Entra    *entra.Provider
	// Transport is the controller-wide transport configuration (connect-to, CA).
	Transport transport.Options
	// AzureKeychain exchanges an Entra credential for registry credentials (internal/azure/acr).
	AzureKeychain func(cred *entra.Credential, rt http.RoundTripper) RegistryKeychain
	// ExplainDenied explains a registry's refusal of an Entra identity (internal/azure/acr).
	ExplainDenied func(cred *entra.Credential, registry string, err error) error

	transports transportCache
}

// Access is how one object reaches its registry.
type Access struct {
	Keychain  authn.Keychain
	Transport http.RoundTripper
	// Who describes the credentials for messages: an identity, a pull secret, or anonymous.
	Who string
	// Credential is the Entra credential of an azure object, nil otherwise.
	Credential *entra.Credential
	// Explain turns a registry's 401 or 403 into an error that says who lacks what, and how to
	// grant it; nil when there is nothing more to say than the registry's answer.
	Explain  func(registry string, err error) error
	registry RegistryKeychain
}

// Invalidate drops cached registry and Entra credentials after the registry answered 401, so a
// retry fetches fresh ones. It reports whether there was anything to drop.
func (a *Access) Invalidate(registry string) bool {
	if a.registry == nil {
		return false
	}
	a.registry.Invalidate(registry)
	return true
}

// Retry runs op, and once more with fresh credentials if the registry answered 401: a cached
// token may have been revoked or rotated since it was issued.
func (a *Access) Retry(registry string, op func() error) error {
	err := op()
	var terr *remotetransport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized && a.Invalidate(registry) {
		err = op()
	}
	return err
}

// Refusal reports whether err is a refusal of these credentials (by Entra ID, or by the
// registry with 401 or 403), and returns it explained: who was refused and, for Azure, the role
// that is missing and the command that grants it.
func (a *Access) Refusal(registry string, err error) (error, bool) {
	var auth *entra.AuthError
	var role *entra.RoleError
	var terr *remotetransport.Error
	switch {
	case errors.As(err, &auth), errors.As(err, &role):
		return err, true
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		if a.Explain != nil {
			return a.Explain(registry, err), true
		}
		return fmt.Errorf("registry %s refused %s: %w", registry, a.Who, err), true
	}
	return err, false
}

// ErrConfiguration marks errors in the object's own configuration (a bad secret, a missing
// service account), as opposed to a registry or Entra ID refusing.
var ErrConfiguration = errors.New("invalid configuration")

// Access builds the keychain and transport for spec.
func (f *Factory) Access(ctx context.Context, spec Spec) (*Access, error) {
	t := f.Transport
	if spec.CertSecretRef != "" {
		data, err := f.secret(ctx, spec.Namespace, spec.CertSecretRef)
		if err != nil {
			return nil, err
		}
		if len(data["ca.crt"]) == 0 {
			return nil, fmt.Errorf("%w: TLS secret '%s' has no 'ca.crt' key", ErrConfiguration, spec.CertSecretRef)
		}
		t.ExtraCAs = append(append([]byte(nil), t.ExtraCAs...), data["ca.crt"]...)
	}
	if spec.ProxySecretRef != "" {
		data, err := f.secret(ctx, spec.Namespace, spec.ProxySecretRef)
		if err != nil {
			return nil, err
		}
		if t.Proxy, err = transport.ProxyFromSecret(spec.ProxySecretRef, data); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfiguration, err)
		}
	}
	rt, err := f.transports.get(&t)
	if err != nil {
		return nil, fmt.Errorf("%w: TLS secret '%s': %w", ErrConfiguration, spec.CertSecretRef, err)
	}
	a := &Access{Transport: rt, Keychain: authn.NewMultiKeychain(), Who: "anonymous access"}
	switch {
	case spec.SecretRef != "":
		data, err := f.secret(ctx, spec.Namespace, spec.SecretRef)
		if err != nil {
			return nil, err
		}
		if a.Keychain, err = ParseDockerConfig(spec.SecretRef, data); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfiguration, err)
		}
		a.Who = fmt.Sprintf("pull secret %s/%s", spec.Namespace, spec.SecretRef)
	case spec.Provider == ProviderAzure:
		return a, f.azure(ctx, spec, a, &t, rt)
	case spec.ServiceAccountName != "":
		return a, f.imagePullSecrets(ctx, spec, a)
	}
	return a, nil
}

func (f *Factory) azure(ctx context.Context, spec Spec, a *Access, t *transport.Options, rt http.RoundTripper) error {
	id, err := f.Resolver.Resolve(ctx, identity.Request{Namespace: spec.Namespace, ServiceAccountName: spec.ServiceAccountName})
	if err != nil {
		return err
	}
	cred, err := f.Entra.Credential(id, &entra.CredentialOptions{Proxy: t.Proxy})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfiguration, err)
	}
	kc := f.AzureKeychain(cred, rt)
	a.Keychain, a.registry, a.Credential, a.Who = kc, kc, cred, id.String()
	if f.ExplainDenied != nil {
		a.Explain = func(registry string, err error) error { return f.ExplainDenied(cred, registry, err) }
	}
	return nil
}

// imagePullSecrets uses the pull secrets attached to a service account, as Flux does for the
// generic provider.
func (f *Factory) imagePullSecrets(ctx context.Context, spec Spec, a *Access) error {
	var sa corev1.ServiceAccount
	if err := f.Client.Get(ctx, types.NamespacedName{Namespace: spec.Namespace, Name: spec.ServiceAccountName}, &sa); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: service account '%s' not found in namespace '%s'", ErrConfiguration, spec.ServiceAccountName, spec.Namespace)
		}
		return err
	}
	var chain []authn.Keychain
	for _, ref := range sa.ImagePullSecrets {
		data, err := f.secret(ctx, spec.Namespace, ref.Name)
		if err != nil {
			return err
		}
		kc, err := ParseDockerConfig(ref.Name, data)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfiguration, err)
		}
		chain = append(chain, kc)
	}
	a.Keychain = authn.NewMultiKeychain(chain...)
	a.Who = fmt.Sprintf("image pull secrets of service account %s/%s", spec.Namespace, spec.ServiceAccountName)
	return nil
}

func (f *Factory) secret(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := f.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: secret '%s' not found in namespace '%s'", ErrConfiguration, name, namespace)
		}
		return nil, fmt.Errorf("reading secret '%s/%s': %w", namespace, name, err)
	}
	return s.Data, nil
}
