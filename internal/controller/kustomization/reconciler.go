// Package kustomization reconciles Kustomization objects, as Flux's kustomize-controller does:
// it waits for the objects it depends on, fetches its source's artifact from the artifact server
// and verifies its digest, builds it with kustomize (package kustomize), substitutes variables,
// applies the result server-side as the object's service account (package apply), prunes what
// left the source, and checks the health of what it applied.
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe. It reaches no Azure
// service itself: the artifact comes from the sources' artifact server over HTTP, and the
// cluster is the API server the manager runs against.
package kustomization

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/apply"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/remote"
)

// Reconciler reconciles Kustomization objects.
type Reconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Clients applies as the Kustomization's service account.
	Clients *Clients
	// Access reads decryption secrets and resolves the decryption identity for Key Vault.
	Access *access.Resolver
	// Remote reaches the AKS clusters of spec.kubeConfig.configMapRef.
	Remote *remote.Resolver
	// Cache lets an unchanged object skip its dry run (apply.Cache). Default: none, every object
	// is dry-run on every reconcile.
	Cache *apply.Cache
	// HTTP downloads artifacts from the artifact server.
	HTTP *http.Client
	// Scratch is where artifacts are unpacked and built, one private directory per reconcile.
	Scratch string
	// NoCrossNamespaceRefs refuses sources and dependencies in other namespaces
	// (--no-cross-namespace-refs).
	NoCrossNamespaceRefs bool
	// StrictSubstitutions makes a variable without a value or default a build error
	// (--feature-gates=StrictPostBuildSubstitutions=true).
	StrictSubstitutions bool
	// HealthPollInterval is how often health checks look at the objects. Default: 2s.
	HealthPollInterval time.Duration
	// Limits bound the artifacts fetched. Default: artifact.Limits' defaults.
	Limits *artifact.Limits
}

// Index keys of Kustomization fields, so that a source's or a dependency's change finds the
// Kustomizations to reconcile without listing them all.
const (
	sourceIndex    = "kustomize.azimuth.dev/source"
	dependsOnIndex = "kustomize.azimuth.dev/dependsOn"
)

// SetupWithManager registers the reconciler on the shared recipe, with watches on the sources
// (a new artifact) and on the Kustomizations others depend on (Ready changed).
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts recipe.Options) error {
	indexer := mgr.GetFieldIndexer()
	if err := indexer.IndexField(ctx, &kustomizev1.Kustomization{}, sourceIndex, func(o client.Object) []string {
		k := o.(*kustomizev1.Kustomization)
		return []string{sourceKey(k.Spec.SourceRef.Kind, k.SourceNamespace(), k.Spec.SourceRef.Name)}
	}); err != nil {
		return err
	}
	if err := indexer.IndexField(ctx, &kustomizev1.Kustomization{}, dependsOnIndex, func(o client.Object) []string {
		k := o.(*kustomizev1.Kustomization)
		keys := make([]string, 0, len(k.Spec.DependsOn))
		for _, d := range k.Spec.DependsOn {
			keys = append(keys, dependencyKey(k, d))
		}
		return keys
	}); err != nil {
		return err
	}
	rec := &recipe.Recipe[*kustomizev1.Kustomization]{
		Client: r.Client, Recorder: r.Recorder,
		New:       func() *kustomizev1.Kustomization { return &kustomizev1.Kustomization{} },
		Finalizer: kustomizev1.KustomizationFinalizer,
		Finalize:  r.finalizeReported,
		Steps:     r.reconcile,
	}
	newArtifact := builder.WithPredicates(predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool { return artifactRevision(e.ObjectOld) != artifactRevision(e.ObjectNew) },
		CreateFunc: func(event.CreateEvent) bool { return true },
	})
	return rec.Builder(mgr, opts).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.GitRepositoryKind)), newArtifact).
		Watches(&sourcev1.OCIRepository{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.OCIRepositoryKind)), newArtifact).
		Watches(&sourcev1.Bucket{}, handler.EnqueueRequestsFromMapFunc(r.bySource(sourcev1.BucketKind)), newArtifact).
		Watches(&kustomizev1.Kustomization{}, handler.EnqueueRequestsFromMapFunc(r.dependents), builder.WithPredicates(readyChanged)).
		Complete(rec)
}

// reconcile is one pass: dependencies, artifact, build, apply, prune, health.
func (r *Reconciler) reconcile(ctx context.Context, obj *kustomizev1.Kustomization, patcher *status.Patcher) error {
	if n := len(obj.Name); n > validation.LabelValueMaxLength {
		return status.Stall(meta.ReconciliationFailedReason, fmt.Errorf("the name '%s' is %d characters long, but it labels every object applied (%s) "+
			"and a label's value is at most %d: recreate the Kustomization with a shorter name", obj.Name, n, kustomizev1.NameLabel, validation.LabelValueMaxLength))
	}
	health, err := healthChecker(obj)
	if err != nil {
		return status.Stall(meta.InvalidCELExpressionReason, err)
	}
	if err := r.checkDependencies(ctx, obj); err != nil {
		return err
	}
	src, err := r.source(ctx, obj)
	if err != nil {
		return err
	}
	// The origin comes from whoever pushed the artifact: cut to what a status and an event carry.
	revision, origin := src.Revision, clip.String(src.Metadata[sourcev1.OCIRevisionAnnotation], clip.EventNote)
	obj.Status.LastAttemptedRevision = revision
	patcher.Revision(revision)
	patcher.OriginRevision(origin)
	status.Progressing(obj, fmt.Sprintf("Fetching manifests for revision %s with a timeout of %s", revision, obj.GetTimeout()))

	dir, err := os.MkdirTemp(r.Scratch, "kustomization-")
	if err != nil {
		return status.Fail("", kustomizev1.ArtifactFailedReason, fmt.Errorf("creating a build directory: %w", err))
	}
	defer os.RemoveAll(dir)
	if err := artifact.Fetch(ctx, r.HTTP, src, dir, r.Limits); err != nil {
		return status.Fail("", kustomizev1.ArtifactFailedReason, err)
	}
	objs, err := r.build(ctx, obj, dir)
	if err != nil {
		return err
	}

	m, who, err := r.applier(ctx, obj, health)
	if err != nil {
		return status.Fail("", meta.ReconciliationFailedReason, err)
	}
	changes, err := r.apply(ctx, obj, m, who, objs)
	if err != nil {
		return err
	}
	if err := r.checkHealth(ctx, obj, m, objs); err != nil {
		return err
	}
	obj.Status.LastAppliedRevision = revision
	obj.Status.LastAppliedOriginRevision = origin
	status.Succeeded(obj, meta.ReconciliationSucceededReason, "Applied revision: "+revision)
	if text := changes.String(); text != "" {
		patcher.Announce(meta.ReconciliationSucceededReason, text+"\nrevision: "+revision)
	}
	return nil
}

// source returns the artifact of obj's source, or why there is none to build.
func (r *Reconciler) source(ctx context.Context, obj *kustomizev1.Kustomization) (*meta.Artifact, error) {
	ref := obj.Spec.SourceRef
	ns := obj.SourceNamespace()
	name := fmt.Sprintf("%s/%s/%s", ref.Kind, ns, ref.Name)
	if r.NoCrossNamespaceRefs && ns != obj.Namespace {
		return nil, status.Stall(kustomizev1.AccessDeniedReason, fmt.Errorf("can't access '%s', cross-namespace references have been blocked "+
			"(--no-cross-namespace-refs): move the source to namespace '%s'", name, obj.Namespace))
	}
	var src interface {
		client.Object
		GetArtifact() *meta.Artifact
	}
	switch ref.Kind {
	case sourcev1.GitRepositoryKind:
		src = &sourcev1.GitRepository{}
	case sourcev1.OCIRepositoryKind:
		src = &sourcev1.OCIRepository{}
	case sourcev1.BucketKind:
		src = &sourcev1.Bucket{}
	default:
		return nil, status.Stall(kustomizev1.ArtifactFailedReason, fmt.Errorf("source kind '%s' is not supported: use a GitRepository, an OCIRepository or a Bucket", ref.Kind))
	}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, src); err != nil {
		if client.IgnoreNotFound(err) == nil {
			//lint:ignore ST1005 Flux's message, word for word: users search for it
			return nil, status.Fail("", kustomizev1.ArtifactFailedReason, fmt.Errorf("Source '%s' not found", name))
		}
		return nil, status.Fail("", kustomizev1.ArtifactFailedReason, fmt.Errorf("reading source '%s': %w", name, err))
	}
	a := src.GetArtifact()
	if a == nil {
		//lint:ignore ST1005 Flux's message, word for word: users search for it
		return nil, status.Fail("", kustomizev1.ArtifactFailedReason, fmt.Errorf("Source '%s' is not ready, artifact not found", name))
	}
	return a, nil
}
