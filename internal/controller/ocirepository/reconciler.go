// Package ocirepository reconciles OCIRepository objects: it chooses the artifact to pull from
// spec.ref, pulls it from the registry with the object's own access (package oci), and stores its
// content as a tarball artifact served to other controllers.
package ocirepository

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/oci"
)

// Reconciler reconciles OCIRepository objects.
type Reconciler struct {
	Client   client.Client
	Storage  *artifact.Storage
	Access   *oci.Factory
	Recorder events.EventRecorder
	// MaxArtifactSize bounds an extracted layer, in bytes. Default: 1 GiB.
	MaxArtifactSize int64
}

// SetupWithManager registers the reconciler. It reacts to spec changes and to
// reconcile.fluxcd.io/requestedAt, not to its own status writes.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sourcev1.OCIRepository{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
}

// Reconcile reads like Flux's recipe: get, defer the status patch, deletion, finalizer,
// suspend, then the steps.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := &sourcev1.OCIRepository{}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	dir := artifact.Dir(sourcev1.OCIRepositoryKind, obj.Namespace, obj.Name)
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj, dir)
	}
	if err := status.AddFinalizer(ctx, r.Client, obj, sourcev1.SourceFinalizer); err != nil {
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
	if err := r.reconcile(ctx, obj, dir, patcher); err != nil {
		return ctrl.Result{RequeueAfter: obj.GetRequeueAfter()}, status.Failed(obj, err)
	}
	return ctrl.Result{RequeueAfter: jitter(obj.GetRequeueAfter())}, nil
}

func (r *Reconciler) reconcile(ctx context.Context, obj *sourcev1.OCIRepository, dir string, patcher *status.Patcher) error {
	p, err := r.plan(ctx, obj)
	if err != nil {
		return err
	}
	if r.upToDate(obj, p) {
		status.Succeeded(obj, meta.SucceededReason, fmt.Sprintf("stored artifact for digest '%s'", p.revision), sourcev1.FetchFailedCondition)
		return nil
	}
	status.Progressing(obj, fmt.Sprintf("building artifact: new upstream revision '%s'", p.revision))
	a, err := r.pull(ctx, obj, p, dir)
	if err != nil {
		return err
	}
	obj.Status.Artifact, obj.Status.URL = a, a.URL
	patcher.Announce(sourcev1.NewArtifactReason, fmt.Sprintf("stored artifact with revision '%s' from '%s'", p.revision, obj.Spec.URL))
	obj.Status.ObservedIgnore = obj.Spec.Ignore
	obj.Status.ObservedLayerSelector = obj.Spec.LayerSelector
	setArtifactCondition(obj)
	status.Succeeded(obj, meta.SucceededReason, fmt.Sprintf("stored artifact for digest '%s'", p.revision), sourcev1.FetchFailedCondition)
	if err := r.Storage.GarbageCollect(dir, a); err != nil {
		return status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.StatOperationFailedReason, fmt.Errorf("garbage collecting old artifacts: %w", err))
	}
	return nil
}

// upToDate reports whether the stored artifact already holds revision with the same ignore
// rules and layer selection, and is still on disk.
func (r *Reconciler) upToDate(obj *sourcev1.OCIRepository, p *plan) bool {
	a := obj.Status.Artifact
	return a != nil && a.Revision == p.revision && r.Storage.Exists(a) &&
		ptrEqual(obj.Status.ObservedIgnore, obj.Spec.Ignore) &&
		selectorEqual(obj.Status.ObservedLayerSelector, obj.Spec.LayerSelector)
}

func setArtifactCondition(obj *sourcev1.OCIRepository) {
	status.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", obj.Status.Artifact.Revision))
}

func (r *Reconciler) finalize(ctx context.Context, obj *sourcev1.OCIRepository, dir string) error {
	if err := r.Storage.Remove(dir); err != nil {
		return err
	}
	return status.RemoveFinalizer(ctx, r.Client, obj, sourcev1.SourceFinalizer)
}

// jitter spreads requeues of many objects with one interval by up to 5%.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(float64(d)*0.05*rand.Float64())
}
