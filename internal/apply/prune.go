package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Prune deletes the objects of the old inventory that the new one no longer holds (compared
// without their version, so an apiVersion bump deletes nothing), in the reverse of the apply
// order: custom resources before their definitions, a namespace's objects before it.
//
// It deletes only objects whose owner labels name this Manager's owner, so it never deletes
// what another Kustomization has taken over (a Kustomization renamed, an object moved between
// two), nor an object annotated kustomize.toolkit.fluxcd.io/prune: Disabled: both are
// "skipped". An object already gone, or whose kind is no longer served, is left out of the
// ChangeSet. Deletion propagates in the background, as Flux's does.
//
// Prune tries every object and returns the errors of those it could not delete. It refuses to
// start when an entry of new cannot be parsed: it could not tell what to keep.
func (m *Manager) Prune(ctx context.Context, old, new []InventoryEntry) (*ChangeSet, error) {
	cs := &ChangeSet{}
	if err := m.checkOwner(); err != nil {
		return cs, err
	}
	keep := make(map[ObjMetadata]bool, len(new))
	for _, e := range new {
		id, err := ParseID(e.ID)
		if err != nil {
			return cs, fmt.Errorf("prune: the new inventory: %w", err)
		}
		keep[id] = true
	}
	var errs []error
	var stale []ObjMetadata
	versions := map[ObjMetadata]string{}
	for _, e := range old {
		id, err := ParseID(e.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("the old inventory: %w", err))
			continue
		}
		if !keep[id] {
			if _, dup := versions[id]; !dup {
				stale = append(stale, id)
			}
			versions[id] = e.Version
		}
	}
	pruneOrder(stale)
	for _, id := range stale {
		action, err := m.pruneOne(ctx, id, versions[id])
		if err != nil {
			errs = append(errs, &ObjectError{Object: id, Err: err})
			continue
		}
		if action != "" {
			cs.add(id, action)
		}
	}
	return cs, joinObjectErrors("prune", errs, len(stale))
}

// pruneOne deletes id if this owner owns it; "" when it is already gone.
func (m *Manager) pruneOne(ctx context.Context, id ObjMetadata, version string) (Action, error) {
	gvk, err := m.gvkOf(id, version)
	if meta.IsNoMatchError(err) {
		return "", nil // no such kind any more: its CRD went, and its objects with it
	}
	if err != nil {
		return "", explain(err, "mapping its kind")
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(gvk)
	err = m.client.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, live)
	if apierrors.IsNotFound(err) {
		m.opts.Cache.drop(m.owner, id)
		return "", nil
	}
	if err != nil {
		return "", explain(err, "get")
	}
	if !m.owns(live) || marked(live, PruneAnnotation, Disabled) {
		return Skipped, nil
	}
	// The UID precondition keeps a delete from reaching an object created anew since the GET.
	uid := live.GetUID()
	err = m.client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground),
		client.Preconditions{UID: &uid})
	if apierrors.IsNotFound(err) {
		m.opts.Cache.drop(m.owner, id)
		return "", nil
	}
	if err != nil {
		return "", explain(err, "delete")
	}
	m.opts.Cache.drop(m.owner, id)
	return Deleted, nil
}
