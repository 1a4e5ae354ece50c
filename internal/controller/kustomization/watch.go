package kustomization

import (
	"context"
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
)

func sourceKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// dependencyKey is the namespace/name of a dependency of k: its own namespace when unset.
func dependencyKey(k *kustomizev1.Kustomization, d meta.NamespacedObjectReference) string {
	ns := d.Namespace
	if ns == "" {
		ns = k.Namespace
	}
	return ns + "/" + d.Name
}

// artifactRevision is the revision of a source's artifact, "" when it has none.
func artifactRevision(o client.Object) string {
	if s, ok := o.(interface{ GetArtifact() *meta.Artifact }); ok && s.GetArtifact() != nil {
		return s.GetArtifact().Revision + "@" + s.GetArtifact().Digest
	}
	return ""
}

// bySource finds the Kustomizations built from a source of kind.
func (r *Reconciler) bySource(kind string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, src client.Object) []reconcile.Request {
		return r.listRequests(ctx, sourceIndex, sourceKey(kind, src.GetNamespace(), src.GetName()))
	}
}

// dependents finds the Kustomizations that depend on dep.
func (r *Reconciler) dependents(ctx context.Context, dep client.Object) []reconcile.Request {
	return r.listRequests(ctx, dependsOnIndex, dep.GetNamespace()+"/"+dep.GetName())
}

func (r *Reconciler) listRequests(ctx context.Context, index, key string) []reconcile.Request {
	var list kustomizev1.KustomizationList
	if err := r.Client.List(ctx, &list, client.MatchingFields{index: key}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}

// readyChanged passes the updates of a Kustomization whose Ready condition changed: its
// dependents may go on.
var readyChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return readyState(e.ObjectOld) != readyState(e.ObjectNew)
	},
}

func readyState(o client.Object) string {
	k, ok := o.(*kustomizev1.Kustomization)
	if !ok {
		return ""
	}
	c := apimeta.FindStatusCondition(k.Status.Conditions, meta.ReadyCondition)
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%s/%d/%s", c.Status, k.Status.ObservedGeneration, k.Status.LastAppliedRevision)
}

// dependencyError is a dependency not ready yet: retried, and the watch on the dependency
// reconciles obj again as soon as it is.
type dependencyError struct{ err error }

func (e *dependencyError) Error() string  { return e.err.Error() }
func (e *dependencyError) Reason() string { return meta.DependencyNotReadyReason }

// checkDependencies fails unless every Kustomization in spec.dependsOn is Ready for its latest
// generation.
func (r *Reconciler) checkDependencies(ctx context.Context, obj *kustomizev1.Kustomization) error {
	for _, d := range obj.Spec.DependsOn {
		key := dependencyKey(obj, d)
		ns := d.Namespace
		if ns == "" {
			ns = obj.Namespace
		}
		if r.NoCrossNamespaceRefs && ns != obj.Namespace {
			return status.Stall(kustomizev1.AccessDeniedReason, fmt.Errorf("can't access dependency '%s', cross-namespace references have been blocked (--no-cross-namespace-refs)", key))
		}
		var dep kustomizev1.Kustomization
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: d.Name}, &dep); err != nil {
			if client.IgnoreNotFound(err) == nil {
				return &dependencyError{fmt.Errorf("dependency '%s' not found: create it or remove it from spec.dependsOn", key)}
			}
			return err
		}
		ready := apimeta.FindStatusCondition(dep.Status.Conditions, meta.ReadyCondition)
		if dep.Generation != dep.Status.ObservedGeneration || ready == nil || ready.Status != metav1.ConditionTrue {
			return &dependencyError{fmt.Errorf("dependency '%s' is not ready", key)}
		}
	}
	return nil
}
