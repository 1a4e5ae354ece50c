package access

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Spec is what an object says about reaching a service. Every field names something in
// Namespace, the object's own.
type Spec struct {
	Namespace string
	// ServiceAccountName is spec.serviceAccountName (or spec.decryption.serviceAccountName).
	ServiceAccountName string
	// IdentitySecret names a secret holding an Entra identity or a storage key (a Bucket's
	// secretRef, a Kustomization's decryption.secretRef). Protocols whose secretRef holds
	// something else (a registry's pull secret) leave it empty and read their secret themselves.
	IdentitySecret string
	// Decryption reads IdentitySecret in the sops.azure-kv format, and applies
	// --default-decryption-service-account.
	Decryption bool
	// KubeConfig marks a kubeconfig ConfigMap's identity: ServiceAccountName is its
	// serviceAccountName, and --default-kubeconfig-service-account applies.
	KubeConfig bool
	// Audiences of the service account's token, when not Entra ID's exchange audience.
	Audiences []string
	// CertSecretRef names a secret whose ca.crt the connection trusts, besides the system's,
	// and whose tls.crt and tls.key it presents to servers that ask for a client certificate.
	CertSecretRef string
	// ProxySecretRef names a secret with the proxy to reach the service (and Entra ID) through.
	ProxySecretRef string
}

// Resolver makes connections and credentials for objects. It is safe for concurrent use.
type Resolver struct {
	client     client.Reader
	identities *identity.Resolver
	entra      *entra.Provider
	base       transport.Options
	transports transportCache
}

// NewResolver returns a Resolver that reads secrets and service accounts through c, resolves
// identities with ids and gets their tokens from e. base is the controller's transport
// (connect-to map, CA), which every connection extends.
func NewResolver(c client.Reader, ids *identity.Resolver, e *entra.Provider, base transport.Options) *Resolver {
	return &Resolver{client: c, identities: ids, entra: e, base: base}
}

// Connection is how an object's requests travel: the transport with its CA and proxy.
type Connection struct {
	// Transport is shared by every object with the same CA and proxy, so reconciles reuse
	// connections.
	Transport http.RoundTripper
	// Proxy is the object's proxy, nil for the environment's.
	Proxy *url.URL
	// Options are the transport options the connection was built from (connect-to map, CAs,
	// proxy), for protocols that dial themselves, such as AMQP.
	Options transport.Options
}

// Connect builds spec's connection.
func (r *Resolver) Connect(ctx context.Context, spec Spec) (Connection, error) {
	t := r.base
	if spec.CertSecretRef != "" {
		data, err := r.Secret(ctx, spec.Namespace, spec.CertSecretRef)
		if err != nil {
			return Connection{}, err
		}
		ca, cert, err := TLSFromSecret(spec.CertSecretRef, data)
		if err != nil {
			return Connection{}, err
		}
		if len(ca) > 0 {
			t.ExtraCAs = append(append([]byte(nil), t.ExtraCAs...), ca...)
		}
		t.ClientCert = cert
	}
	if spec.ProxySecretRef != "" {
		data, err := r.Secret(ctx, spec.Namespace, spec.ProxySecretRef)
		if err != nil {
			return Connection{}, err
		}
		if t.Proxy, err = transport.ProxyFromSecret(spec.ProxySecretRef, data); err != nil {
			return Connection{}, err
		}
	}
	rt, err := r.transports.get(&t)
	if err != nil {
		return Connection{}, fmt.Errorf("TLS secret '%s': %w", spec.CertSecretRef, err)
	}
	return Connection{Transport: rt, Proxy: t.Proxy, Options: t}, nil
}

// Credential resolves spec's identity, in DESIGN.md's order (its secret, its service account,
// the lockdown's default service account, the controller's own identity), into an Entra ID
// credential that reaches Entra ID through conn's proxy. An object naming a service account
// while the feature gate is off gets an *identity.FeatureGateError, which is terminal. A secret
// holding a storage key is not an Entra identity: read it with StorageKey.
func (r *Resolver) Credential(ctx context.Context, spec Spec, conn Connection) (*entra.Credential, error) {
	id, err := r.identities.Resolve(ctx, identity.Request{
		Namespace: spec.Namespace, ServiceAccountName: spec.ServiceAccountName,
		SecretName: spec.IdentitySecret, Decryption: spec.Decryption,
		KubeConfig: spec.KubeConfig, Audiences: spec.Audiences,
	})
	if err != nil {
		return nil, err
	}
	return r.entra.Credential(id, &entra.CredentialOptions{Proxy: conn.Proxy})
}

// TLSFromSecret reads a certSecretRef as Flux does: a CA bundle to trust (ca.crt), a client
// certificate and its key (tls.crt and tls.key, which come together), or both; a secret of type
// kubernetes.io/tls has the same keys. Errors name the secret and its keys, never what they hold.
func TLSFromSecret(name string, data map[string][]byte) (ca []byte, cert *tls.Certificate, err error) {
	ca, crt, key := data["ca.crt"], data["tls.crt"], data["tls.key"]
	switch {
	case len(crt) > 0 && len(key) == 0:
		return nil, nil, fmt.Errorf("TLS secret '%s' has 'tls.crt' but no 'tls.key': add the client certificate's private key, or remove tls.crt", name)
	case len(key) > 0 && len(crt) == 0:
		return nil, nil, fmt.Errorf("TLS secret '%s' has 'tls.key' but no 'tls.crt': add the client certificate, or remove tls.key", name)
	case len(crt) == 0 && len(ca) == 0:
		return nil, nil, fmt.Errorf("TLS secret '%s' has neither 'ca.crt' nor 'tls.crt' and 'tls.key': add the CA certificate that signs the server's certificate, or a client certificate and its key", name)
	case len(crt) > 0:
		pair, err := tls.X509KeyPair(crt, key)
		if err != nil {
			// crypto/tls says what is wrong with the PEM (no block, a key that does not
			// match), never what it holds.
			return nil, nil, fmt.Errorf("TLS secret '%s': 'tls.crt' and 'tls.key' are not a PEM certificate and its private key: %w", name, err)
		}
		cert = &pair
	}
	return ca, cert, nil
}

// Secret reads a secret of namespace. A missing secret is an error that says what to create.
func (r *Resolver) Secret(ctx context.Context, namespace, name string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, secretNotFound(fmt.Sprintf("secret '%s' not found in namespace '%s': create it, or fix the secret reference", name, namespace))
		}
		return nil, fmt.Errorf("reading secret '%s/%s': %w", namespace, name, err)
	}
	return s.Data, nil
}

// ErrSecretNotFound is wrapped by Secret's error for a secret that does not exist.
var ErrSecretNotFound = errors.New("secret not found")

type secretNotFound string

func (e secretNotFound) Error() string { return string(e) }
func (e secretNotFound) Unwrap() error { return ErrSecretNotFound }

// ConfigMap reads a ConfigMap of namespace, such as a Kustomization's spec.kubeConfig.configMapRef.
func (r *Resolver) ConfigMap(ctx context.Context, namespace, name string) (map[string]string, error) {
	var cm corev1.ConfigMap
	if err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, configMapNotFound(fmt.Sprintf("ConfigMap '%s' not found in namespace '%s': create it, or fix the ConfigMap reference", name, namespace))
		}
		return nil, fmt.Errorf("reading ConfigMap '%s/%s': %w", namespace, name, err)
	}
	return cm.Data, nil
}

// ErrConfigMapNotFound is wrapped by ConfigMap's error for a ConfigMap that does not exist.
var ErrConfigMapNotFound = errors.New("ConfigMap not found")

type configMapNotFound string

func (e configMapNotFound) Error() string { return string(e) }
func (e configMapNotFound) Unwrap() error { return ErrConfigMapNotFound }

// ServiceAccount reads a service account of namespace, for protocols that use what is attached
// to it (a registry's image pull secrets).
func (r *Resolver) ServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	var sa corev1.ServiceAccount
	if err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &sa); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("service account '%s' not found in namespace '%s': create it, or fix spec.serviceAccountName", name, namespace)
		}
		return nil, fmt.Errorf("reading service account '%s/%s': %w", namespace, name, err)
	}
	return &sa, nil
}
