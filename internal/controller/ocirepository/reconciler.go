// Package ocirepository reconciles OCIRepository objects: it chooses the artifact to pull from
// spec.ref, pulls it from the registry with the object's own access (package oci), and stores its
// content as a tarball artifact served to other controllers.
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe, reaching the registry
// through package oci and storing through package artifact.
package ocirepository

import (
	"context"
	"fmt"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/oci"
)

// Reconciler reconciles OCIRepository objects.
type Reconciler struct {
	Client   client.Client
	Storage  *artifact.Storage
	Access   *oci.Factory
	Recorder events.EventRecorder
	// MaxArtifactSize bounds a layer, in bytes: as the registry stores it, and for extract also
	// once decompressed. Default: 1 GiB (artifact.Limits).
	MaxArtifactSize int64
}

// SetupWithManager registers the reconciler on the shared recipe.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts recipe.Options) error {
	rec := &recipe.Recipe[*sourcev1.OCIRepository]{
		Client: r.Client, Recorder: r.Recorder,
		New:       func() *sourcev1.OCIRepository { return &sourcev1.OCIRepository{} },
		Finalizer: sourcev1.SourceFinalizer,
		Finalize:  func(_ context.Context, obj *sourcev1.OCIRepository) error { return r.Storage.Remove(artifactDir(obj)) },
		Steps:     r.reconcile,
	}
	return rec.Builder(mgr, opts).Complete(rec)
}

func artifactDir(obj *sourcev1.OCIRepository) string {
	return artifact.Dir(sourcev1.OCIRepositoryKind, obj.Namespace, obj.Name)
}

// reconcile chooses the artifact, and pulls and stores it unless it is stored already.
func (r *Reconciler) reconcile(ctx context.Context, obj *sourcev1.OCIRepository, patcher *status.Patcher) error {
	dir := artifactDir(obj)
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
	return !r.mustPull(obj) && obj.Status.Artifact.Revision == p.revision
}

// mustPull reports whether no stored artifact can serve, whatever the revision: there is none,
// it is gone from disk, or the ignore rules or layer selection changed since it was made.
func (r *Reconciler) mustPull(obj *sourcev1.OCIRepository) bool {
	a := obj.Status.Artifact
	return a == nil || !r.Storage.Exists(a) ||
		!ptrEqual(obj.Status.ObservedIgnore, obj.Spec.Ignore) ||
		!selectorEqual(obj.Status.ObservedLayerSelector, obj.Spec.LayerSelector)
}

func setArtifactCondition(obj *sourcev1.OCIRepository) {
	status.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason,
		fmt.Sprintf("stored artifact for revision '%s'", obj.Status.Artifact.Revision))
}
