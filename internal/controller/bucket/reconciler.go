// Package bucket reconciles Bucket objects: it lists the blobs of the Azure Blob Storage
// container under spec.prefix (package bucket), and when their index (names and ETags) is not
// the stored artifact's revision, downloads the blobs that changed, reuses the others from the
// stored artifact, and stores the tree, without what spec.ignore and the container's
// .sourceignore leave out, as a tarball artifact served to other controllers.
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe, reaching the
// container through package bucket (and the Blob adapter behind it) and storing through package
// artifact.
package bucket

import (
	"context"
	"fmt"
	"os"
	"strings"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/bucket"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Reconciler reconciles Bucket objects.
type Reconciler struct {
	Client   client.Client
	Storage  *artifact.Storage
	Buckets  *bucket.Factory
	Recorder events.EventRecorder
	// Limits bound an artifact. Default: bucket.Limits' defaults.
	Limits bucket.Limits
}

// SetupWithManager registers the reconciler on the shared recipe.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, opts recipe.Options) error {
	rec := &recipe.Recipe[*sourcev1.Bucket]{
		Client: r.Client, Recorder: r.Recorder,
		New:       func() *sourcev1.Bucket { return &sourcev1.Bucket{} },
		Finalizer: sourcev1.SourceFinalizer,
		Finalize:  func(_ context.Context, obj *sourcev1.Bucket) error { return r.Storage.Remove(artifactDir(obj)) },
		Steps:     r.reconcile,
	}
	return rec.Builder(mgr, opts).Complete(rec)
}

func artifactDir(obj *sourcev1.Bucket) string {
	return artifact.Dir(sourcev1.BucketKind, obj.Namespace, obj.Name)
}

// reconcile lists the container, and fetches and stores its blobs unless their index is the
// stored artifact's revision.
func (r *Reconciler) reconcile(ctx context.Context, obj *sourcev1.Bucket, patcher *status.Patcher) error {
	b, err := r.Buckets.Open(ctx, bucketSpec(obj))
	if err != nil {
		return status.Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, err)
	}
	listing, err := b.List(ctx, obj.Spec.Prefix, obj.Spec.Ignore, &r.Limits)
	if err != nil {
		return status.Fail(sourcev1.FetchFailedCondition, sourcev1.BucketOperationFailedReason,
			fmt.Errorf("indexation of objects from bucket '%s' failed: %w", obj.Spec.BucketName, transport.ExplainTLS(err)))
	}
	revision := listing.Index.Revision()
	patcher.Revision(revision)
	if a := obj.Status.Artifact; a != nil && a.Revision == revision && r.Storage.Exists(a) {
		stored(obj, a)
		return nil
	}
	news := fmt.Sprintf("new upstream revision '%s'", revision)
	if obj.Status.Artifact != nil {
		status.MarkTrue(obj, sourcev1.ArtifactOutdatedCondition, "NewRevision", news)
	}
	status.Progressing(obj, "building artifact: "+news)
	a, fetched, err := r.store(ctx, obj, b, listing)
	if err != nil {
		return err
	}
	patcher.Revision(a.Revision)
	patcher.Announce(sourcev1.NewArtifactReason, fmt.Sprintf("stored artifact with %d fetched files from '%s' bucket", len(fetched.Index), obj.Spec.BucketName))
	stored(obj, a)
	if err := r.Storage.GarbageCollect(artifactDir(obj), a); err != nil {
		return status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.StatOperationFailedReason, fmt.Errorf("garbage collecting old artifacts: %w", err))
	}
	return nil
}

// stored records a as obj's artifact, in storage, and obj Ready, with Flux's words.
func stored(obj *sourcev1.Bucket, a *meta.Artifact) {
	obj.Status.Artifact, obj.Status.ObservedIgnore, obj.Status.URL = a, obj.Spec.Ignore, a.URL
	msg := fmt.Sprintf("stored artifact: revision '%s'", a.Revision)
	status.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason, msg)
	status.Succeeded(obj, meta.SucceededReason, msg,
		sourcev1.FetchFailedCondition, sourcev1.ArtifactOutdatedCondition, sourcev1.StorageOperationFailedCondition)
}

// store fills a directory of the storage (never the OS temp directory) with the listed blobs,
// those the stored artifact holds with the same ETags copied from it and the others downloaded,
// and archives it as the object's artifact, with its index beside it for the next reconcile.
func (r *Reconciler) store(ctx context.Context, obj *sourcev1.Bucket, b *bucket.Bucket, listing *bucket.Listing) (*meta.Artifact, *bucket.Fetched, error) {
	tmp, err := os.MkdirTemp(r.Storage.Root, ".fetch-")
	if err != nil {
		return nil, nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.DirCreationFailedReason, err)
	}
	defer os.RemoveAll(tmp)
	have := r.reuse(ctx, obj, tmp, listing.Index)
	fetched, err := b.Fetch(ctx, tmp, listing.Index, have, r.Limits.MaxSize)
	if err != nil {
		return nil, nil, status.Fail(sourcev1.FetchFailedCondition, sourcev1.BucketOperationFailedReason,
			fmt.Errorf("fetch from bucket '%s' failed: %w", obj.Spec.BucketName, transport.ExplainTLS(err)))
	}
	revision := fetched.Index.Revision()
	w, err := r.Storage.Create(artifactDir(obj) + "/" + strings.TrimPrefix(revision, "sha256:") + ".tar.gz")
	if err != nil {
		return nil, nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.DirCreationFailedReason, err)
	}
	defer w.Close()
	if err := artifact.Archive(w, tmp, artifact.Ignore{}); err != nil {
		return nil, nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err)
	}
	a, err := w.Commit(revision)
	if err != nil {
		return nil, nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err)
	}
	if err := r.saveIndex(obj, fetched.Index, revision); err != nil {
		// The artifact stands without it; the next change downloads every blob.
		ctrl.LoggerFrom(ctx).Error(err, "storing the index of the artifact")
	}
	return a, fetched, nil
}

func bucketSpec(obj *sourcev1.Bucket) bucket.Spec {
	name := func(ref *meta.LocalObjectReference) string {
		if ref == nil {
			return ""
		}
		return ref.Name
	}
	return bucket.Spec{
		Spec: access.Spec{
			Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName,
			CertSecretRef: name(obj.Spec.CertSecretRef), ProxySecretRef: name(obj.Spec.ProxySecretRef),
		},
		Provider: obj.GetProvider(), Endpoint: obj.Spec.Endpoint, Container: obj.Spec.BucketName,
		SecretRef: name(obj.Spec.SecretRef), Insecure: obj.Spec.Insecure,
	}
}
