// Package imagerepository reconciles ImageRepository objects: it lists the tags of an image
// repository with the object's own registry access (package oci), leaves out the tags the
// exclusion list matches, and keeps the rest for ImagePolicy objects (package tagstore).
package imagerepository

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/tagstore"
)

// latestTagsCount is how many tags status.lastScanResult.latestTags shows, as in Flux.
const latestTagsCount = 10

// Reconciler reconciles ImageRepository objects.
type Reconciler struct {
	Client   client.Client
	Access   *oci.Factory
	Tags     *tagstore.Store
	Recorder events.EventRecorder
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&imagev1.ImageRepository{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// Reconcile scans the repository's tags.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &imagev1.ImageRepository{}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		r.Tags.Delete(req.NamespacedName)
		return ctrl.Result{}, status.RemoveFinalizer(ctx, r.Client, obj, imagev1.ImageFinalizer)
	}
	if err := status.AddFinalizer(ctx, r.Client, obj, imagev1.ImageFinalizer); err != nil {
		return ctrl.Result{}, err
	}
	patcher := status.Begin(r.Client, r.Recorder, obj)
	defer patcher.Finish(ctx, &retErr, func(generation int64, requestedAt string) {
		obj.Status.ObservedGeneration = generation
		if requestedAt != "" {
			obj.Status.LastHandledReconcileAt = requestedAt
		}
	})
	if obj.Spec.Suspend {
		return ctrl.Result{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, obj.GetTimeout())
	defer cancel()
	if err := r.scan(ctx, obj); err != nil {
		return ctrl.Result{RequeueAfter: obj.GetRequeueAfter()}, status.Failed(obj, err)
	}
	return ctrl.Result{RequeueAfter: obj.GetRequeueAfter()}, nil
}

func (r *Reconciler) scan(ctx context.Context, obj *imagev1.ImageRepository) error {
	repo, err := name.NewRepository(obj.Spec.Image, nameOptions(obj.Spec.Insecure)...)
	if err != nil {
		return status.Stall(imagev1.ImageURLInvalidReason, fmt.Errorf("spec.image %q is not a valid image repository: %w", obj.Spec.Image, err))
	}
	obj.Status.CanonicalImageName = repo.Name()
	exclude, err := compileExclusions(obj.GetExclusionList())
	if err != nil {
		return status.Stall(meta.FailedReason, err)
	}
	access, err := r.Access.Access(ctx, AccessSpec(obj))
	if err != nil {
		var gate *identity.FeatureGateError
		if errors.As(err, &gate) {
			return status.Stall(meta.FeatureGateDisabledReason, err)
		}
		return status.Fail("", imagev1.AuthenticationFailedReason, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(access.Keychain), remote.WithTransport(access.Transport)}
	var tags []string
	err = access.Retry(repo.RegistryStr(), func() (err error) {
		tags, err = remote.List(repo, opts...)
		return err
	})
	if err != nil {
		return listError(access, repo, err)
	}
	tags = slices.DeleteFunc(tags, func(t string) bool {
		return slices.ContainsFunc(exclude, func(re *regexp.Regexp) bool { return re.MatchString(t) })
	})
	r.Tags.Set(client.ObjectKeyFromObject(obj), tags)
	obj.Status.LastScanResult = scanResult(tags)
	obj.Status.ObservedExclusionList = obj.GetExclusionList()
	status.Succeeded(obj, meta.SucceededReason, fmt.Sprintf("successful scan: found %d tags", len(tags)))
	return nil
}

func scanResult(tags []string) *imagev1.ScanResult {
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	h := sha256.New()
	for _, t := range sorted {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	slices.Reverse(sorted)
	latest := sorted[:min(latestTagsCount, len(sorted))]
	return &imagev1.ScanResult{
		Revision: "sha256:" + hex.EncodeToString(h.Sum(nil)), TagCount: len(tags), ScanTime: metav1.Now(), LatestTags: latest,
	}
}

func compileExclusions(patterns []string) ([]*regexp.Regexp, error) {
	res := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("spec.exclusionList: %q is not a valid regular expression: %w", p, err)
		}
		res = append(res, re)
	}
	return res, nil
}

func listError(access *oci.Access, repo name.Repository, err error) error {
	if refusal, ok := access.Refusal(repo.RegistryStr(), err); ok {
		return status.Fail("", imagev1.AuthenticationFailedReason, refusal)
	}
	return status.Fail("", imagev1.ReadOperationFailedReason, fmt.Errorf("failed to list the tags of %s: %w", repo, err))
}

func nameOptions(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// AccessSpec is how obj reaches its registry; ImagePolicy uses it to read digests.
func AccessSpec(obj *imagev1.ImageRepository) oci.Spec {
	s := oci.Spec{Namespace: obj.Namespace, Provider: strings.ToLower(obj.GetProvider()), ServiceAccountName: obj.Spec.ServiceAccountName}
	if obj.Spec.SecretRef != nil {
		s.SecretRef = obj.Spec.SecretRef.Name
	}
	if obj.Spec.CertSecretRef != nil {
		s.CertSecretRef = obj.Spec.CertSecretRef.Name
	}
	if obj.Spec.ProxySecretRef != nil {
		s.ProxySecretRef = obj.Spec.ProxySecretRef.Name
	}
	return s
}
