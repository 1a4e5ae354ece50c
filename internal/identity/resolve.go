package identity

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// The service-account annotations object-level workload identity reads, as AKS's webhook does.
const (
	ClientIDAnnotation = "azure.workload.identity/client-id"
	TenantIDAnnotation = "azure.workload.identity/tenant-id"
)

// ExchangeAudience is the audience Entra ID expects of a federated Kubernetes token.
const ExchangeAudience = "api://AzureADTokenExchange"

// FeatureGate is the name of the feature gate that enables object-level workload identity.
const FeatureGate = "ObjectLevelWorkloadIdentity"

// Options are the controller's identity settings, from its flags and environment.
type Options struct {
	// ObjectLevelWorkloadIdentity enables spec.serviceAccountName
	// (--feature-gates=ObjectLevelWorkloadIdentity=true). Default: false, as in Flux.
	ObjectLevelWorkloadIdentity bool
	// DefaultServiceAccount is used, in the object's own namespace, by objects that name none
	// (--default-service-account), when ObjectLevelWorkloadIdentity is on; without the gate it is
	// only the Kustomizations' impersonation lockdown and identities ignore it, as in Flux, where
	// kustomize-controller's flag of this name means impersonation only. Default: none, so such
	// objects use the controller's identity.
	DefaultServiceAccount string
	// DefaultDecryptionServiceAccount is DefaultServiceAccount for spec.decryption
	// (--default-decryption-service-account). Default: none.
	DefaultDecryptionServiceAccount string
	// DefaultKubeConfigServiceAccount is DefaultServiceAccount for the identity a kubeconfig
	// ConfigMap gives (spec.kubeConfig.configMapRef) when it names no serviceAccountName
	// (--default-kubeconfig-service-account). Default: none, and then DefaultServiceAccount.
	DefaultKubeConfigServiceAccount string
	// LookupEnv reads the controller's environment. Default: os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// ErrInconsistentConfiguration is returned by NewResolver when a default service account is
// set while object-level workload identity is off; the controller refuses to start.
var ErrInconsistentConfiguration = errors.New("cannot set a default decryption or kubeconfig service account when the feature gate ObjectLevelWorkloadIdentity is not enabled: " +
	"add --feature-gates=ObjectLevelWorkloadIdentity=true or remove --default-decryption-service-account and --default-kubeconfig-service-account")

// Resolver resolves identities. It is safe for concurrent use.
type Resolver struct {
	client client.Client
	opts   Options
}

// NewResolver returns a Resolver that reads service accounts and secrets through c and asks it
// for service-account tokens.
func NewResolver(c client.Client, opts *Options) (*Resolver, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if !o.ObjectLevelWorkloadIdentity {
		if o.DefaultDecryptionServiceAccount != "" || o.DefaultKubeConfigServiceAccount != "" {
			return nil, ErrInconsistentConfiguration
		}
		o.DefaultServiceAccount = ""
	}
	return &Resolver{client: c, opts: o}, nil
}

// Request is what an object says about its identity.
type Request struct {
	// Namespace is the object's namespace; service accounts and secrets are read only there.
	Namespace string
	// ServiceAccountName is spec.serviceAccountName, or spec.decryption.serviceAccountName.
	ServiceAccountName string
	// SecretName names the secret with Azure credentials: a Bucket's secretRef, or a
	// Kustomization's decryption.secretRef.
	SecretName string
	// Decryption marks a Kustomization's decryption: the secret is read in the sops.azure-kv
	// format and --default-decryption-service-account applies.
	Decryption bool
	// KubeConfig marks the identity of a kubeconfig ConfigMap (spec.kubeConfig.configMapRef):
	// ServiceAccountName is its serviceAccountName, and --default-kubeconfig-service-account
	// applies before --default-service-account.
	KubeConfig bool
	// Audiences are the audiences of the service account's token, when not Entra ID's
	// api://AzureADTokenExchange (a kubeconfig ConfigMap's 'audiences').
	Audiences []string
}

// Resolve returns the identity an object acts as, in DESIGN.md's order: its secret, its service
// account, the default service account (lockdown), and last the controller's own identity.
func (r *Resolver) Resolve(ctx context.Context, req Request) (Identity, error) {
	if req.SecretName != "" {
		id, ok, err := r.fromSecret(ctx, req)
		if err != nil || ok {
			return id, err
		}
	}
	sa, byDefault := req.ServiceAccountName, false
	if sa == "" {
		sa = r.opts.DefaultServiceAccount
		switch {
		case req.Decryption:
			sa = r.opts.DefaultDecryptionServiceAccount
		case req.KubeConfig && r.opts.DefaultKubeConfigServiceAccount != "":
			sa = r.opts.DefaultKubeConfigServiceAccount
		}
		byDefault = sa != ""
	}
	if sa == "" {
		return r.controller()
	}
	if !r.opts.ObjectLevelWorkloadIdentity {
		return Identity{}, &FeatureGateError{Field: serviceAccountField(req)}
	}
	if strings.ContainsAny(sa, "/:") {
		return Identity{}, fmt.Errorf("%s '%s' must name a service account in the object's own namespace '%s', without a namespace", serviceAccountField(req), sa, req.Namespace)
	}
	return r.fromServiceAccount(ctx, req.Namespace, sa, byDefault, req.Audiences)
}

func serviceAccountField(req Request) string {
	switch {
	case req.Decryption:
		return "spec.decryption.serviceAccountName"
	case req.KubeConfig:
		return "the serviceAccountName of spec.kubeConfig.configMapRef"
	}
	return "spec.serviceAccountName"
}

// FeatureGateError is an object naming a service account while object-level workload identity
// is off. The object cannot progress until the controller's flags change.
type FeatureGateError struct{ Field string }

func (e *FeatureGateError) Error() string {
	return fmt.Sprintf("to use %s for Azure authentication, enable the %s feature gate in the controller: --feature-gates=%s=true", e.Field, FeatureGate, FeatureGate)
}

// Terminal reports that retrying cannot help.
func (e *FeatureGateError) Terminal() bool { return true }

// Reason is the reason Flux gives the object's status.
func (e *FeatureGateError) Reason() string { return meta.FeatureGateDisabledReason }

func (r *Resolver) fromSecret(ctx context.Context, req Request) (Identity, bool, error) {
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: req.Namespace, Name: req.SecretName}
	if err := r.client.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return Identity{}, true, fmt.Errorf("secret '%s' not found in namespace '%s': create it, or fix the secret reference", req.SecretName, req.Namespace)
		}
		return Identity{}, true, fmt.Errorf("reading secret '%s/%s': %w", req.Namespace, req.SecretName, err)
	}
	if req.Decryption {
		return ParseSOPSSecret(req.Namespace, req.SecretName, secret.Data)
	}
	id, err := ParseBucketSecret(req.Namespace, req.SecretName, secret.Data)
	return id, true, err
}

// ErrDefaultServiceAccountNotFound is the lockdown's default service account missing from an
// object's namespace.
var ErrDefaultServiceAccountNotFound = errors.New("the default service account does not exist in the object's namespace; this cluster is locked down to object-level workload identity, so ask the cluster administrator to create it")

func (r *Resolver) fromServiceAccount(ctx context.Context, namespace, name string, byDefault bool, audiences []string) (Identity, error) {
	var sa corev1.ServiceAccount
	if err := r.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &sa); err != nil {
		switch {
		case apierrors.IsNotFound(err) && byDefault:
			return Identity{}, fmt.Errorf("service account '%s/%s': %w", namespace, name, ErrDefaultServiceAccountNotFound)
		case apierrors.IsNotFound(err):
			return Identity{}, fmt.Errorf("service account '%s' not found in namespace '%s': create it, or fix spec.serviceAccountName", name, namespace)
		}
		return Identity{}, fmt.Errorf("reading service account '%s/%s': %w", namespace, name, err)
	}
	clientID, hasClient := sa.Annotations[ClientIDAnnotation]
	tenantID, hasTenant := sa.Annotations[TenantIDAnnotation]
	if err := missingAnnotations(namespace, name, !hasClient || strings.TrimSpace(clientID) == "", !hasTenant || strings.TrimSpace(tenantID) == ""); err != nil {
		return Identity{}, err
	}
	return Identity{
		Kind: WorkloadIdentity, Level: ObjectLevel,
		Source:    fmt.Sprintf("service account %s/%s", namespace, name),
		Namespace: namespace, ServiceAccount: name,
		TenantID: strings.TrimSpace(tenantID), ClientID: strings.TrimSpace(clientID),
		Audiences: audiences,
		Assertion: r.tokenRequester(namespace, name, audiences),
	}, nil
}

// missingAnnotations says which workload identity annotations a service account lacks, and what
// to set them to.
func missingAnnotations(namespace, name string, noClient, noTenant bool) error {
	sa := fmt.Sprintf("service account '%s/%s'", namespace, name)
	const who = "of the managed identity or application it acts as"
	switch {
	case noClient && noTenant:
		return fmt.Errorf("%s lacks the annotations %s and %s: set them to the client ID and the tenant ID %s", sa, ClientIDAnnotation, TenantIDAnnotation, who)
	case noClient:
		return fmt.Errorf("%s lacks the annotation %s: set it to the client ID %s", sa, ClientIDAnnotation, who)
	case noTenant:
		return fmt.Errorf("%s lacks the annotation %s: set it to the tenant ID %s", sa, TenantIDAnnotation, who)
	}
	return nil
}

// tokenRequester asks the API server for a token of the service account, when one is needed.
// The token is not bound to a pod: the controller is not running as that account.
func (r *Resolver) tokenRequester(namespace, name string, audiences []string) func(context.Context) (string, error) {
	if len(audiences) == 0 {
		audiences = []string{ExchangeAudience}
	}
	return func(ctx context.Context) (string, error) {
		sa := &corev1.ServiceAccount{}
		sa.Namespace, sa.Name = namespace, name
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}
		if err := r.client.SubResource("token").Create(ctx, sa, tr); err != nil {
			return "", fmt.Errorf("requesting a token for service account '%s/%s' (the controller needs RBAC to create serviceaccounts/token): %w", namespace, name, err)
		}
		return tr.Status.Token, nil
	}
}
