// Package imagepolicy reconciles ImagePolicy objects: it chooses the latest tag among those its
// ImageRepository scanned (package tagstore), by the policy and filter of its spec (package
// tags), and reflects the tag's digest when asked to.
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe; digests are read
// through package oci, never an Azure adapter directly.
package imagepolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/tags"
	"github.com/azimuth-gitops/azimuth/internal/tagstore"
)

const repositoryIndex = ".spec.imageRepositoryRef"

// Reconciler reconciles ImagePolicy objects.
type Reconciler struct {
	Client client.Client
	// Namespaces reads the policy's namespace, to match it against an ImageRepository's
	// spec.accessFrom: uncached, so that the controller needs only get on namespaces.
	Namespaces client.Reader
	Access     *oci.Factory
	Tags       *tagstore.Store
	Recorder   events.EventRecorder
	// NoCrossNamespaceRefs refuses ImageRepositories of other namespaces whatever their
	// spec.accessFrom says (--no-cross-namespace-refs).
	NoCrossNamespaceRefs bool
}

// SetupWithManager registers the reconciler, which also runs when a referenced ImageRepository
// finishes a scan.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts recipe.Options) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &imagev1.ImagePolicy{}, repositoryIndex, func(o client.Object) []string {
		p := o.(*imagev1.ImagePolicy)
		return []string{repositoryKey(p).String()}
	})
	if err != nil {
		return err
	}
	rec := &recipe.Recipe[*imagev1.ImagePolicy]{
		Client: r.Client, Recorder: r.Recorder,
		New: func() *imagev1.ImagePolicy { return &imagev1.ImagePolicy{} },
		Steps: func(ctx context.Context, obj *imagev1.ImagePolicy, _ *status.Patcher) error {
			return r.reconcile(ctx, obj)
		},
	}
	return rec.Builder(mgr, opts).
		Watches(&imagev1.ImageRepository{}, handler.EnqueueRequestsFromMapFunc(r.policiesOf)).
		Complete(rec)
}

func (r *Reconciler) policiesOf(ctx context.Context, repo client.Object) []reconcile.Request {
	var list imagev1.ImagePolicyList
	if err := r.Client.List(ctx, &list, client.MatchingFields{repositoryIndex: client.ObjectKeyFromObject(repo).String()}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, p := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
	}
	return reqs
}

func repositoryKey(p *imagev1.ImagePolicy) types.NamespacedName {
	ns := p.Spec.ImageRepositoryRef.Namespace
	if ns == "" {
		ns = p.Namespace
	}
	return types.NamespacedName{Namespace: ns, Name: p.Spec.ImageRepositoryRef.Name}
}

// reconcile chooses the latest image.
func (r *Reconciler) reconcile(ctx context.Context, obj *imagev1.ImagePolicy) error {
	policy, filter, err := compile(obj)
	if err != nil {
		return status.Stall(imagev1.InvalidPolicyReason, err)
	}
	key := repositoryKey(obj)
	if key.Namespace != obj.Namespace && r.NoCrossNamespaceRefs {
		return status.Stall(imagev1.AccessDeniedReason, fmt.Errorf("spec.imageRepositoryRef names namespace '%s': cross-namespace references are not allowed (--no-cross-namespace-refs); use an ImageRepository of namespace '%s'", key.Namespace, obj.Namespace))
	}
	repo := &imagev1.ImageRepository{}
	if err := r.Client.Get(ctx, key, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return status.Fail("", imagev1.DependencyNotReadyReason, fmt.Errorf("ImageRepository '%s' not found", key))
		}
		return err
	}
	if key.Namespace != obj.Namespace {
		if err := r.accessFrom(ctx, obj, repo); err != nil {
			return err
		}
	}
	list, scanned := r.Tags.Get(key)
	if !scanned || !apimeta.IsStatusConditionTrue(repo.Status.Conditions, meta.ReadyCondition) {
		return status.Fail("", imagev1.DependencyNotReadyReason, fmt.Errorf("ImageRepository '%s' has not been scanned yet", key))
	}
	tag, err := policy.Latest(list, filter)
	if err != nil {
		return status.Fail("", meta.FailedReason, fmt.Errorf("ImageRepository '%s': %w", key, err))
	}
	// The name is spec.image as the user wrote it, as in Flux: automation writes it back into
	// manifests, where a canonical index.docker.io/library/alpine would replace alpine.
	latest := &imagev1.ImageRef{Name: repo.Spec.Image, Tag: tag}
	if err := r.reflectDigest(ctx, obj, repo, latest); err != nil {
		return err
	}
	previous := obj.Status.LatestRef
	if previous != nil && *previous != *latest {
		obj.Status.ObservedPreviousRef = previous
	}
	obj.Status.LatestRef = latest
	msg := fmt.Sprintf("Latest image tag for '%s' resolved to %s", latest.Name, latest.Tag)
	if previous != nil && previous.Tag != latest.Tag {
		msg = fmt.Sprintf("Latest image tag for '%s' updated from %s to %s", latest.Name, previous.Tag, latest.Tag)
	}
	status.Succeeded(obj, meta.SucceededReason, msg)
	return nil
}

// accessFrom lets a policy use a repository of another namespace when the repository's
// spec.accessFrom selects the policy's namespace by its labels. A refusal is retried, so that
// labelling the namespace (which is not watched) or granting access is picked up.
func (r *Reconciler) accessFrom(ctx context.Context, obj *imagev1.ImagePolicy, repo *imagev1.ImageRepository) error {
	denied := func(why string) error {
		return status.Fail("", imagev1.AccessDeniedReason, fmt.Errorf("ImageRepository '%s/%s' %s", repo.Namespace, repo.Name, why))
	}
	if repo.Spec.AccessFrom == nil {
		return denied(fmt.Sprintf("has no spec.accessFrom: only ImagePolicies of namespace '%s' may use it until its spec.accessFrom.namespaceSelectors selects namespace '%s'", repo.Namespace, obj.Namespace))
	}
	var ns corev1.Namespace
	if err := r.Namespaces.Get(ctx, types.NamespacedName{Name: obj.Namespace}, &ns); err != nil {
		return fmt.Errorf("reading namespace '%s' to match it against spec.accessFrom of ImageRepository '%s/%s': %w", obj.Namespace, repo.Namespace, repo.Name, err)
	}
	if !selects(repo.Spec.AccessFrom, ns.Labels) {
		return denied(fmt.Sprintf("does not grant access to namespace '%s': no selector of its spec.accessFrom.namespaceSelectors matches the namespace's labels; label the namespace, or add a selector", obj.Namespace))
	}
	return nil
}

// selects reports whether one of acl's selectors matches a namespace's labels. A selector with
// no labels matches every namespace.
func selects(acl *meta.AccessFrom, nsLabels map[string]string) bool {
	for _, s := range acl.NamespaceSelectors {
		if labels.SelectorFromSet(s.MatchLabels).Matches(labels.Set(nsLabels)) {
			return true
		}
	}
	return false
}

func compile(obj *imagev1.ImagePolicy) (tags.Policy, *tags.Filter, error) {
	var filter *tags.Filter
	if f := obj.Spec.FilterTags; f != nil {
		var err error
		if filter, err = tags.NewFilter(f.Pattern, f.Extract); err != nil {
			return nil, nil, fmt.Errorf("spec.filterTags: %w", err)
		}
	}
	p := obj.Spec.Policy
	switch {
	case p.SemVer != nil:
		policy, err := tags.NewSemver(p.SemVer.Range)
		if err != nil {
			return nil, nil, fmt.Errorf("spec.policy.semver.range: %w", err)
		}
		return policy, filter, nil
	case p.Alphabetical != nil:
		policy, err := tags.NewAlphabetical(p.Alphabetical.Order)
		return policy, filter, err
	case p.Numerical != nil:
		policy, err := tags.NewNumerical(p.Numerical.Order)
		return policy, filter, err
	}
	return nil, nil, errors.New("spec.policy must set one of semver, alphabetical or numerical")
}

// reflectDigest fills latest.Digest as spec.digestReflectionPolicy asks: Never leaves it empty,
// IfNotPresent keeps the digest already known for the same tag, Always reads it every time.
func (r *Reconciler) reflectDigest(ctx context.Context, obj *imagev1.ImagePolicy, repo *imagev1.ImageRepository, latest *imagev1.ImageRef) error {
	switch obj.GetDigestReflectionPolicy() {
	case imagev1.ReflectNever:
		return nil
	case imagev1.ReflectIfNotPresent:
		if prev := obj.Status.LatestRef; prev != nil && prev.Tag == latest.Tag && prev.Name == latest.Name && prev.Digest != "" {
			latest.Digest = prev.Digest
			return nil
		}
	}
	access, err := r.Access.Access(ctx, oci.ForImageRepository(repo))
	if err != nil {
		return status.Fail("", imagev1.AuthenticationFailedReason, err)
	}
	var opts []name.Option
	if repo.Spec.Insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(latest.Name+":"+latest.Tag, opts...)
	if err != nil {
		return status.Fail("", meta.FailedReason, err)
	}
	var desc *v1.Descriptor
	err = access.Do(ctx, ref.Context(), func(session http.RoundTripper) (err error) {
		desc, err = remote.Head(ref, remote.WithContext(ctx), remote.WithTransport(session))
		return err
	})
	if refusal, ok := access.Refusal(ref.Context(), err); ok {
		return status.Fail("", imagev1.AuthenticationFailedReason, refusal)
	}
	if err != nil {
		return status.Fail("", imagev1.ReadOperationFailedReason, fmt.Errorf("reading the digest of %s: %w", ref, err))
	}
	latest.Digest = desc.Digest.String()
	return nil
}
