package apply

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Apply applies objs by server-side apply, as kustomize-controller does, in three stages:
// CustomResourceDefinitions and Namespaces, then the "Class" kinds, then everything else.
// After the first stage it waits, until ctx ends, for its CRDs to be Established and served
// and its Namespaces to exist, so that the custom resources and namespaced objects of the same
// build are accepted.
//
// Within a stage every object is read and dry-run first; an object that the dry-run shows
// already in the desired state is left alone ("unchanged": no write, so its resourceVersion
// does not move). The dry-run is skipped when the Cache or the live object's managedFields show
// that it would find the object unchanged (see the package's documentation). When any dry-run
// fails the stage writes nothing, and Apply returns the error of every failing object of the
// stage. Otherwise the objects that differ are applied, one at a time in kustomize's kind
// order.
//
// Apply stops at the first stage that fails. The ChangeSet it returns then holds what the
// earlier stages did and the objects of the failing stage found unchanged or written, so that
// the caller can record them in the inventory. objs are not modified.
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured) (*ChangeSet, error) {
	cs := &ChangeSet{}
	if err := m.checkOwner(); err != nil {
		return cs, err
	}
	desired, err := m.desired(objs)
	if err != nil {
		return cs, err
	}
	applied := make(map[ObjMetadata]bool, len(desired))
	for stage, batch := range byStage(desired) {
		if len(batch) == 0 {
			continue
		}
		items, err := m.applyStage(ctx, batch, cs)
		if err != nil {
			return cs, err
		}
		if stage == definitionStage {
			if err := m.waitDefinitions(ctx, items); err != nil {
				return cs, fmt.Errorf("waiting for the CustomResourceDefinitions and Namespaces to be ready: %w", err)
			}
		}
		for _, it := range items {
			applied[it.id] = true
		}
	}
	m.opts.Cache.retain(m.owner, applied)
	return cs, nil
}

// desired copies objs with the owner's labels set, refusing objects that cannot be applied.
func (m *Manager) desired(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	seen := make(map[ObjMetadata]bool, len(objs))
	var errs []error
	for i, u := range objs {
		if u == nil || u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			errs = append(errs, fmt.Errorf("object %d of %d has no apiVersion, kind or metadata.name", i+1, len(objs)))
			continue
		}
		id := MetadataOf(u)
		if seen[id] {
			errs = append(errs, &ObjectError{Object: id, Err: errors.New("the build holds it twice")})
			continue
		}
		seen[id] = true
		c := u.DeepCopy()
		labels := c.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[NameLabel] = m.owner.Name
		labels[NamespaceLabel] = m.owner.Namespace
		c.SetLabels(labels)
		out = append(out, c)
	}
	return out, joinObjectErrors("invalid objects", errs, len(objs))
}

// item is one object through a stage: what was found, what is planned, what was done.
type item struct {
	desired *unstructured.Unstructured
	id      ObjMetadata
	hash    [sha256.Size]byte
	live    *unstructured.Unstructured // nil when absent
	action  Action
	// recreate: the change touches an immutable field and force allows deleting live first.
	recreate bool
	// result is the object as the API server last returned it: live when unchanged, the
	// apply's answer when written.
	result *unstructured.Unstructured
	err    error
}

// applyStage plans every object of batch, then writes those that differ, adding to cs.
func (m *Manager) applyStage(ctx context.Context, batch []*unstructured.Unstructured, cs *ChangeSet) ([]*item, error) {
	items := make([]*item, len(batch))
	scopes := m.scopes(batch)
	for i, u := range batch {
		items[i] = &item{desired: u, id: MetadataOf(u)}
		if s := scopes[u.GroupVersionKind()]; s.err != nil {
			items[i].err = s.err
		} else if s.namespaced && items[i].id.Namespace == "" {
			items[i].err = fmt.Errorf("namespace not specified: %s is namespaced; set metadata.namespace, or the Kustomization's spec.targetNamespace", u.GetKind())
		}
	}
	m.parallel(len(items), func(i int) {
		if items[i].err == nil {
			m.plan(ctx, items[i])
		}
	})
	if err := ctx.Err(); err != nil {
		return items, fmt.Errorf("apply cut short: %w", err)
	}

	var errs []error
	for _, it := range items {
		if it.err != nil {
			errs = append(errs, &ObjectError{Object: it.id, Err: it.err})
		}
	}
	if len(errs) > 0 {
		for _, it := range items {
			if it.err == nil && (it.action == Unchanged || it.action == Skipped) {
				cs.add(it.id, it.action)
			}
		}
		return items, joinObjectErrors("apply (nothing of this stage was written)", errs, len(items))
	}
	for _, it := range items {
		if it.action == Created || it.action == Configured {
			if ctx.Err() != nil {
				return items, &objectErrors{summary: "apply cut short", errs: errs, cause: ctx.Err()}
			}
			if err := m.write(ctx, it); err != nil {
				errs = append(errs, &ObjectError{Object: it.id, Err: err})
				continue
			}
		}
		cs.add(it.id, it.action)
	}
	return items, joinObjectErrors("apply", errs, len(items))
}

type scope struct {
	namespaced bool
	err        error
}

// scopes maps each kind of batch once: the mapper reloads discovery on every miss, and a
// build of 1,000 custom resources of a kind not installed would otherwise reload it 1,000
// times.
func (m *Manager) scopes(batch []*unstructured.Unstructured) map[schema.GroupVersionKind]scope {
	out := map[schema.GroupVersionKind]scope{}
	for _, u := range batch {
		gvk := u.GroupVersionKind()
		if _, ok := out[gvk]; ok {
			continue
		}
		mapping, err := m.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			out[gvk] = scope{err: explain(err, "mapping its kind")}
			continue
		}
		out[gvk] = scope{namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace}
	}
	return out
}

// plan reads the live object and dry-runs the desired one, unless the Cache or the live
// object's managedFields show it unchanged, deciding it.action. Reads only.
func (m *Manager) plan(ctx context.Context, it *item) {
	// Flux's rules: Ignore (or reconcile: disabled) on either side leaves the object alone,
	// IfNotPresent on the desired object leaves an existing one alone. The manifest's own
	// marks need no GET.
	if marked(it.desired, SSAAnnotation, Ignore) || marked(it.desired, ReconcileAnnotation, Disabled) {
		it.action = Skipped
		return
	}
	var err error
	if it.hash, err = m.opts.Cache.hash(it.desired); err != nil {
		it.err = err
		return
	}
	gvk := it.desired.GroupVersionKind()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(gvk)
	switch err := m.client.Get(ctx, client.ObjectKeyFromObject(it.desired), live); {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		it.err = explain(err, "get")
		return
	}
	it.live = live

	if marked(live, SSAAnnotation, Ignore) || marked(live, ReconcileAnnotation, Disabled) ||
		(live != nil && marked(it.desired, SSAAnnotation, IfNotPresent)) {
		it.action = Skipped
		return
	}
	if m.opts.Cache.current(m.owner, it.id, live, it.hash) {
		it.action, it.result = Unchanged, live
		return
	}
	// The second check, for an object the cache does not know: live's managedFields.
	if ok, _ := ownedFieldsCurrent(it.desired, live); ok {
		it.action, it.result = Unchanged, live
		m.opts.Cache.put(m.owner, it.id, live, it.hash)
		return
	}

	dry := it.desired.DeepCopy()
	err = m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(dry),
		client.DryRunAll, client.ForceOwnership, client.FieldOwner(FieldManager))
	switch {
	case err != nil && live != nil && isImmutable(err):
		if !m.opts.Force && !marked(it.desired, ForceAnnotation, Enabled) && !marked(live, ForceAnnotation, Enabled) {
			it.err = immutableError(err)
			return
		}
		it.action, it.recreate = Created, true
	case err != nil:
		it.err = explain(err, "dry-run")
	case live == nil:
		it.action = Created
	case equalIgnoringServerFields(dry, live):
		it.action, it.result = Unchanged, live
		m.opts.Cache.put(m.owner, it.id, live, it.hash)
	default:
		it.action = Configured
	}
}

// equalIgnoringServerFields compares a dry-run's answer with the live object, leaving out what
// the API server alone writes: status, and the metadata that changes with every write.
func equalIgnoringServerFields(dryRun, live *unstructured.Unstructured) bool {
	return equality.Semantic.DeepEqual(withoutServerFields(dryRun.Object), withoutServerFields(live.Object))
}

func withoutServerFields(obj map[string]any) map[string]any {
	out := maps.Clone(obj) // shallow: the fields are removed from the copies, not from obj
	delete(out, "status")
	if md, ok := out["metadata"].(map[string]any); ok {
		md = maps.Clone(md)
		for _, f := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid"} {
			delete(md, f)
		}
		out["metadata"] = md
	}
	return out
}

// write applies it.desired, deleting the live object first when it must be recreated.
func (m *Manager) write(ctx context.Context, it *item) error {
	if it.recreate {
		m.opts.Cache.drop(m.owner, it.id)
		if err := m.deleteAndWait(ctx, it.live); err != nil {
			return err
		}
	}
	obj := it.desired.DeepCopy()
	err := m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.ForceOwnership, client.FieldOwner(FieldManager))
	if err != nil {
		return explain(err, "apply")
	}
	it.result = obj
	m.opts.Cache.put(m.owner, it.id, obj, it.hash)
	return nil
}

// deleteAndWait deletes live, to recreate it, and waits until it is gone: an object with
// finalizers stays until their controllers remove them, and applying before then would only
// update the object being deleted. Dependents go in the background (a Job's pods), as Flux
// deletes them; foreground deletion would keep the object until the garbage collector is done.
func (m *Manager) deleteAndWait(ctx context.Context, live *unstructured.Unstructured) error {
	uid := live.GetUID()
	err := m.client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground),
		client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) {
		return explain(err, "delete (to recreate it, as force allows)")
	}
	for {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(live.GroupVersionKind())
		err := m.client.Get(ctx, client.ObjectKeyFromObject(live), u)
		if apierrors.IsNotFound(err) || (err == nil && u.GetUID() != uid) {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return explain(err, "get (waiting for its deletion, to recreate it)")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deleted to be recreated, but still there (finalizers %v): %w", u.GetFinalizers(), ctx.Err())
		case <-time.After(m.opts.PollInterval):
		}
	}
}
