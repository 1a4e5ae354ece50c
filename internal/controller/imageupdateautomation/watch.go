package imageupdateautomation

import (
	"context"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// sourceIndex indexes automations by their GitRepository, NAMESPACE/NAME.
const sourceIndex = ".spec.sourceRef"

func sourceKey(o client.Object) []string {
	obj := o.(*imagev1.ImageUpdateAutomation)
	return []string{obj.GetSourceNamespace() + "/" + obj.Spec.SourceRef.Name}
}

// watch adds the watches: a GitRepository's new spec (or its creation) runs the automations that
// name it; an ImagePolicy's new latest image, readiness, creation or deletion runs the
// automations of its namespace that select it.
func (r *Reconciler) watch(b *builder.Builder) *builder.Builder {
	return b.
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.forSource), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&imagev1.ImagePolicy{}, handler.EnqueueRequestsFromMapFunc(r.forPolicy), builder.WithPredicates(latestChanged{}))
}

func (r *Reconciler) forSource(ctx context.Context, o client.Object) []reconcile.Request {
	var list imagev1.ImageUpdateAutomationList
	if err := r.Client.List(ctx, &list, client.MatchingFields{sourceIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the ImageUpdateAutomations of a GitRepository")
		return nil
	}
	return requests(list.Items, nil)
}

func (r *Reconciler) forPolicy(ctx context.Context, o client.Object) []reconcile.Request {
	var list imagev1.ImageUpdateAutomationList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the ImageUpdateAutomations of an ImagePolicy's namespace")
		return nil
	}
	return requests(list.Items, labels.Set(o.GetLabels()))
}

// requests are the automations of list; with policyLabels, only those whose selector matches
// them (or does not parse, so that the automation says so).
func requests(list []imagev1.ImageUpdateAutomation, policyLabels labels.Set) []reconcile.Request {
	var out []reconcile.Request
	for i := range list {
		if policyLabels != nil {
			if sel, err := selector(&list[i]); err == nil && !sel.Matches(policyLabels) {
				continue
			}
		}
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list[i])})
	}
	return out
}

// latestChanged passes an ImagePolicy's update when its latest image or its readiness changed,
// and every creation and deletion.
type latestChanged struct{}

func (latestChanged) Update(e event.UpdateEvent) bool {
	before, ok1 := e.ObjectOld.(*imagev1.ImagePolicy)
	after, ok2 := e.ObjectNew.(*imagev1.ImagePolicy)
	if !ok1 || !ok2 {
		return false
	}
	if (before.Status.LatestRef == nil) != (after.Status.LatestRef == nil) ||
		before.Status.LatestRef != nil && *before.Status.LatestRef != *after.Status.LatestRef {
		return true
	}
	if !labels.Equals(before.Labels, after.Labels) {
		return true
	}
	return readiness(before) != readiness(after)
}

func (latestChanged) Create(event.CreateEvent) bool   { return true }
func (latestChanged) Delete(event.DeleteEvent) bool   { return true }
func (latestChanged) Generic(event.GenericEvent) bool { return false }

func readiness(p *imagev1.ImagePolicy) string {
	if c := apimeta.FindStatusCondition(p.Status.Conditions, meta.ReadyCondition); c != nil {
		return string(c.Status)
	}
	return ""
}
