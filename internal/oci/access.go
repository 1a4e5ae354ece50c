package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	remotetransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Providers an object may name.
const (
	ProviderGeneric = "generic"
	ProviderAzure   = "azure"
)

// Spec is what an object says about reaching its registry.
type Spec struct {
	access.Spec
	// Provider is spec.provider: generic or azure.
	Provider string
	// PullSecret is spec.secretRef: a docker config secret.
	PullSecret string
}

// ForOCIRepository is how an OCIRepository reaches its registry.
func ForOCIRepository(obj *sourcev1.OCIRepository) Spec {
	return spec(obj.Namespace, obj.GetProvider(), obj.Spec.ServiceAccountName, obj.Spec.SecretRef, obj.Spec.CertSecretRef, obj.Spec.ProxySecretRef)
}

// ForImageRepository is how an ImageRepository reaches its registry; its ImagePolicies read
// digests the same way.
func ForImageRepository(obj *imagev1.ImageRepository) Spec {
	return spec(obj.Namespace, obj.GetProvider(), obj.Spec.ServiceAccountName, obj.Spec.SecretRef, obj.Spec.CertSecretRef, obj.Spec.ProxySecretRef)
}

func spec(namespace, provider, serviceAccount string, secret, cert, proxy *meta.LocalObjectReference) Spec {
	name := func(ref *meta.LocalObjectReference) string {
		if ref == nil {
			return ""
		}
		return ref.Name
	}
	return Spec{
		Spec:     access.Spec{Namespace: namespace, ServiceAccountName: serviceAccount, CertSecretRef: name(cert), ProxySecretRef: name(proxy)},
		Provider: strings.ToLower(provider), PullSecret: name(secret),
	}
}

// Factory builds Access for objects.
type Factory struct {
	resolver *access.Resolver
	// refreshTokens is shared by every object's keychain, so that objects with the same identity
	// share one ACR exchange.
	refreshTokens *acr.Cache
	sessions      *sessions
}

// NewFactory returns a Factory that resolves objects' credentials with r.
func NewFactory(r *access.Resolver) *Factory {
	return &Factory{resolver: r, refreshTokens: acr.NewCache(nil), sessions: newSessions()}
}

// Access is how one object reaches its registry.
type Access struct {
	Keychain  authn.Keychain
	Transport http.RoundTripper
	// Who describes the credentials for messages: an identity, a pull secret, or anonymous.
	Who string
	// azure is the ACR keychain of a provider azure object, nil otherwise.
	azure *acr.Keychain
	// credentials identify the keychain's credentials for sessions: an identity, a digest of
	// pull secrets' data, or anonymous.
	credentials string
	sessions    *sessions
}

// Access builds the keychain and transport for spec.
func (f *Factory) Access(ctx context.Context, spec Spec) (*Access, error) {
	conn, err := f.resolver.Connect(ctx, spec.Spec)
	if err != nil {
		return nil, err
	}
	a := &Access{Transport: conn.Transport, Keychain: authn.NewMultiKeychain(), Who: "anonymous access", credentials: "anonymous", sessions: f.sessions}
	switch {
	case spec.PullSecret != "":
		data, err := f.resolver.Secret(ctx, spec.Namespace, spec.PullSecret)
		if err != nil {
			return nil, err
		}
		if a.Keychain, err = access.ParseDockerConfig(spec.PullSecret, data); err != nil {
			return nil, err
		}
		a.Who = fmt.Sprintf("pull secret %s/%s", spec.Namespace, spec.PullSecret)
		a.credentials = secretsDigest(data)
	case spec.Provider == ProviderAzure:
		cred, err := f.resolver.Credential(ctx, spec.Spec, conn)
		if err != nil {
			return nil, err
		}
		a.azure = acr.NewKeychain(cred, &acr.KeychainOptions{Transport: conn.Transport, Cache: f.refreshTokens})
		a.Keychain, a.Who = a.azure, cred.String()
		a.credentials = "azure " + cred.String()
	case spec.ServiceAccountName != "":
		return a, f.imagePullSecrets(ctx, spec, a)
	}
	return a, nil
}

// imagePullSecrets uses the pull secrets attached to a service account, as Flux does for the
// generic provider.
func (f *Factory) imagePullSecrets(ctx context.Context, spec Spec, a *Access) error {
	sa, err := f.resolver.ServiceAccount(ctx, spec.Namespace, spec.ServiceAccountName)
	if err != nil {
		return err
	}
	var chain []authn.Keychain
	var secrets []map[string][]byte
	for _, ref := range sa.ImagePullSecrets {
		data, err := f.resolver.Secret(ctx, spec.Namespace, ref.Name)
		if err != nil {
			return err
		}
		kc, err := access.ParseDockerConfig(ref.Name, data)
		if err != nil {
			return err
		}
		chain = append(chain, kc)
		secrets = append(secrets, data)
	}
	a.Keychain = authn.NewMultiKeychain(chain...)
	a.credentials = secretsDigest(secrets...)
	a.Who = fmt.Sprintf("image pull secrets of service account %s/%s", spec.Namespace, spec.ServiceAccountName)
	return nil
}

// Retry runs op, an operation on registry, and once more with fresh credentials if an ACR
// registry answered 401: a cached token may have been revoked or rotated since it was issued.
func (a *Access) Retry(registry string, op func() error) error {
	if a.azure == nil {
		return op()
	}
	return a.azure.Retry(registry, op)
}

// Refusal reports whether err is a refusal of these credentials to read repo (by Entra ID, or by
// the registry with 401 or 403), and returns it explained: who was refused and, for Azure, the
// role that is missing and the command that grants it.
func (a *Access) Refusal(repo name.Repository, err error) (error, bool) {
	var auth *entra.AuthError
	var role *entra.RoleError
	var terr *remotetransport.Error
	switch {
	case errors.As(err, &auth), errors.As(err, &role):
		return err, true
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		if a.azure != nil {
			return a.azure.Explain(err, repo, acr.Pull), true
		}
		return fmt.Errorf("registry %s refused %s: %w", repo.RegistryStr(), a.Who, err), true
	}
	return err, false
}
