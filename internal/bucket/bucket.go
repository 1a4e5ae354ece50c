package bucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// Providers an object may name. Only azure is served.
const (
	ProviderGeneric = "generic"
	ProviderAzure   = "azure"
)

// Spec is what a Bucket says about reaching its container.
type Spec struct {
	access.Spec
	// Provider is spec.provider; only azure is served.
	Provider string
	// Endpoint is spec.endpoint, the storage account's blob service.
	Endpoint string
	// Container is spec.bucketName.
	Container string
	// SecretRef is spec.secretRef: an Entra identity, an accountKey or a sasKey.
	SecretRef string
	// Insecure is spec.insecure: plain http with a key or SAS.
	Insecure bool
}

// ConfigError is a spec the controller cannot serve as it is: a provider it does not implement,
// an endpoint that is not a blob service. Retrying cannot help.
type ConfigError struct {
	Err error
	// reason is the reason Flux's source API gives it.
	reason string
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Terminal reports that the spec must change.
func (e *ConfigError) Terminal() bool { return true }

// Reason is InvalidProviderConfiguration for a provider, URLInvalid for an endpoint or a
// container name.
func (e *ConfigError) Reason() string { return e.reason }

// Factory opens objects' containers.
type Factory struct {
	resolver *access.Resolver
}

// NewFactory returns a Factory that resolves objects' connections and credentials with r.
func NewFactory(r *access.Resolver) *Factory { return &Factory{resolver: r} }

// Bucket is one object's container, reached as its credential.
type Bucket struct {
	container *blob.Container
}

// Open resolves spec's connection and credential, and returns its container. A provider other
// than azure, or an endpoint that is not a blob service, is a *ConfigError; a secret or identity
// that cannot be used is an error that names it.
func (f *Factory) Open(ctx context.Context, spec Spec) (*Bucket, error) {
	switch spec.Provider {
	case ProviderAzure:
	case "", ProviderGeneric:
		return nil, &ConfigError{errors.New("spec.provider 'generic' is an S3-compatible bucket, which Azimuth does not implement: " +
			"set spec.provider to 'azure' for an Azure Blob Storage container"), sourcev1.InvalidProviderConfigurationReason}
	default:
		return nil, &ConfigError{fmt.Errorf("spec.provider '%s' is not served: use azure", spec.Provider), sourcev1.InvalidProviderConfigurationReason}
	}
	if _, err := blob.ParseEndpoint(spec.Endpoint, spec.Insecure); err != nil {
		return nil, &ConfigError{err, sourcev1.URLInvalidReason}
	}
	if err := blob.CheckContainerName(spec.Container); err != nil {
		return nil, &ConfigError{err, sourcev1.URLInvalidReason}
	}
	conn, err := f.resolver.Connect(ctx, spec.Spec)
	if err != nil {
		return nil, err
	}
	auth, err := f.auth(ctx, spec, conn)
	if err != nil {
		return nil, err
	}
	c, err := blob.NewContainer(spec.Endpoint, spec.Container, auth, &blob.ContainerOptions{
		Transport: &http.Client{Transport: conn.Transport}, AllowHTTP: spec.Insecure,
	})
	if err != nil {
		var ee *blob.EndpointError
		if errors.As(err, &ee) {
			return nil, &ConfigError{err, sourcev1.URLInvalidReason}
		}
		return nil, err
	}
	return &Bucket{container: c}, nil
}

// auth chooses the credential as Flux does for a Bucket: with spec.secretRef, its Entra identity
// (client secret, certificate, managed identity) wins over its accountKey, which wins over its
// sasKey; without one, the service account, the lockdown's default, or the controller's own
// identity (internal/access applies the feature gate and the lockdown).
func (f *Factory) auth(ctx context.Context, spec Spec, conn access.Connection) (blob.Auth, error) {
	spec.IdentitySecret = spec.SecretRef
	cred, err := f.resolver.Credential(ctx, spec.Spec, conn)
	if err == nil {
		return blob.Auth{Token: cred}, nil
	}
	if !errors.Is(err, identity.ErrStaticCredential) {
		return blob.Auth{}, err
	}
	data, err := f.resolver.Secret(ctx, spec.Namespace, spec.SecretRef)
	if err != nil {
		return blob.Auth{}, err
	}
	key, err := access.ParseStorageKey(spec.Namespace, spec.SecretRef, data)
	if err != nil {
		return blob.Auth{}, err
	}
	if key.AccountKey == "" && key.SAS == "" {
		// Flux reads a sasKey of "?" alone as anonymous access; nobody means that.
		return blob.Auth{}, fmt.Errorf("invalid secret '%s/%s': its 'sasKey' is empty", spec.Namespace, spec.SecretRef)
	}
	if key.AccountKey != "" {
		return blob.Auth{AccountKey: key.AccountKey, Who: fmt.Sprintf("the account key of secret %s/%s", spec.Namespace, spec.SecretRef)}, nil
	}
	return blob.Auth{SAS: key.SAS, Who: fmt.Sprintf("the SAS of secret %s/%s", spec.Namespace, spec.SecretRef)}, nil
}

// Who names the credential, for messages.
func (b *Bucket) Who() string { return b.container.Who() }
