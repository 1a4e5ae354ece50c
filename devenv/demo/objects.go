package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// sampleInterval is how often the samples check the registry, so that a tag pushed while the
// demo runs shows up within a minute.
const sampleInterval = time.Minute

// object is an API object with status conditions.
type object interface {
	client.Object
	meta.ObjectWithConditions
}

// sample is an applied object, the identity it uses, and what it must come to.
type sample struct {
	// obj is an object with status conditions (object), or, with delivered, a Provider or an
	// Alert.
	obj      client.Object
	identity Identity
	// failReason is the reason of the Ready=False the object must end with; empty: Ready=True.
	failReason string
	// delivered reads, for an object without a status, what reached its endpoint; the row is
	// Ready only once something was delivered.
	delivered delivery
}

// Identity says whom an object acts as.
type Identity struct {
	// Method is "object WI", "controller WI", "node MI" or "none" (objects that do not call Azure).
	Method string
	// Principal names the service account (object WI), the managed identity (controller WI,
	// node MI), or for "none" where the object reads from.
	Principal string
	// ClientID is the managed identity's client ID; empty for "none".
	ClientID string
}

// String is the identity for the table: the client ID is cut to its first group, which is
// enough to tell the directory's identities apart.
func (id Identity) String() string {
	if id.ClientID == "" {
		return id.Method + " " + id.Principal
	}
	short, _, _ := strings.Cut(id.ClientID, "-")
	return id.Method + " " + id.Principal + " (" + short + "…)"
}

// samples are every tenant's objects, in the order of the table, and the secrets they need.
func (s *System) samples() ([]*corev1.Secret, []sample) {
	var secrets []*corev1.Secret
	var out []sample
	host := s.names.registryHost()
	for _, t := range tenants() {
		id := s.identity(t)
		sa := ""
		if t.via == objectWI {
			sa = TenantServiceAccount
		}
		oci := &sourcev1.OCIRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: "manifests"},
			Spec: sourcev1.OCIRepositorySpec{
				URL:                "oci://" + host + "/" + ManifestsRepository,
				Reference:          &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0"},
				Provider:           sourcev1.AzureOCIProvider,
				ServiceAccountName: sa,
				Interval:           metav1.Duration{Duration: sampleInterval},
			},
		}
		smp := sample{obj: oci, identity: id}
		if t.denied {
			smp.failReason = sourcev1.AuthenticationFailedReason
		}
		out = append(out, smp)
		if t.git && s.names.ado.name != "" {
			out = append(out, s.gitSample(t, id))
		}
		out = append(out, s.bucketSample(t, id)...)
		if t.images {
			out = append(out, s.imageSamples(t, id)...)
		}
		out = append(out, s.automationSamples(t, id)...)
		out = append(out, s.tenantKustomizations(t, id)...)
		out = append(out, s.fleetSample(t, id)...)
		notifySecrets, notifySamples := s.notificationSamples(t, id)
		secrets, out = append(secrets, notifySecrets...), append(out, notifySamples...)
	}
	return secrets, out
}

// secretsTenantSamples are SecretsTenant's objects, in the order of the table: the
// GitRepositories and the Kustomizations of Azure DevOps, and the Buckets; and their secrets.
func (s *System) secretsTenantSamples() ([]*corev1.Secret, []sample, error) {
	var secrets []*corev1.Secret
	var samples []sample
	if s.names.ado.pat != "" {
		gitSecrets, gitSamples, err := s.secretSamples()
		if err != nil {
			return nil, nil, err
		}
		secrets, samples = append(secrets, gitSecrets...), append(samples, gitSamples...)
	}
	bucketSecrets, buckets := s.secretBucketSamples()
	secrets, samples = append(secrets, bucketSecrets...), append(samples, buckets...)
	if s.names.ado.pat != "" {
		keys, kustomizations, err := s.secretsTenantKustomizations()
		if err != nil {
			return nil, nil, err
		}
		secrets, samples = append(secrets, keys...), append(samples, kustomizations...)
	}
	return secrets, samples, nil
}

// hasSecretsTenant says whether SecretsTenant has samples: the directory has a PAT of Azure
// DevOps or a storage account.
func (n *names) hasSecretsTenant() bool { return n.ado.pat != "" || n.storage.Name != "" }

// imageSamples are t's ImageRepository and ImagePolicy of the sample image.
func (s *System) imageSamples(t tenant, id Identity) []sample {
	host := s.names.registryHost()
	sa := ""
	if t.via == objectWI {
		sa = TenantServiceAccount
	}
	repo := &imagev1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: "podinfo"},
		Spec: imagev1.ImageRepositorySpec{
			Image:              host + "/" + ImageRepository,
			Provider:           imagev1.AzureProvider,
			ServiceAccountName: sa,
			Interval:           metav1.Duration{Duration: sampleInterval},
		},
	}
	policy := &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: t.namespace, Name: "podinfo"},
		Spec: imagev1.ImagePolicySpec{
			ImageRepositoryRef: meta.NamespacedObjectReference{Name: repo.Name},
			Policy:             imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=6.0.0"}},
		},
	}
	return []sample{
		{obj: repo, identity: id},
		{obj: policy, identity: Identity{Method: "none", Principal: "(reads ImageRepository " + repo.Name + ")"}},
	}
}

// identity is whom t's objects act as.
func (s *System) identity(t tenant) Identity {
	switch t.via {
	case objectWI:
		return Identity{Method: "object WI", Principal: t.namespace + "/" + TenantServiceAccount, ClientID: s.names.identities[t.identity].ClientID}
	case controllerWI:
		return Identity{Method: "controller WI", Principal: ControllerIdentity, ClientID: s.names.controller.ClientID}
	default:
		return Identity{Method: "node MI", Principal: s.names.node.Name, ClientID: s.names.node.ClientID}
	}
}

// applySamples creates the sample objects: their secrets first, then the Providers and Alerts,
// so that the events of the other objects' first reconciles are delivered.
func (s *System) applySamples(ctx context.Context) (string, error) {
	secrets, applied := s.samples()
	s.applied = applied
	if s.names.hasSecretsTenant() {
		more, samples, err := s.secretsTenantSamples()
		if err != nil {
			return "", err
		}
		secrets, s.applied = append(secrets, more...), append(s.applied, samples...)
	}
	for _, secret := range secrets {
		if err := s.create(ctx, secret); err != nil {
			return "", err
		}
	}
	for _, first := range []bool{true, false} {
		for _, smp := range s.applied {
			if isNotification(smp.obj) != first {
				continue
			}
			if err := s.create(ctx, smp.obj); err != nil {
				return "", err
			}
		}
	}
	namespaces := map[string]bool{}
	for _, smp := range s.applied {
		namespaces[smp.obj.GetNamespace()] = true
	}
	return fmt.Sprintf("%s in %s", count(len(s.applied), "object"), count(len(namespaces), "namespace")), nil
}
