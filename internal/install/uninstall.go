package install

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/apply"
)

// UninstallOptions say what Uninstall removes. nil is the zero value: the controller, its RBAC,
// Service and network policies; not the CRDs, the objects of Azimuth's kinds or the namespace.
type UninstallOptions struct {
	// Namespace Azimuth was installed in. Default: DefaultNamespace.
	Namespace string
	// DeleteCRDs deletes the CustomResourceDefinitions, and with them every object of
	// Azimuth's kinds (its finalizers removed first, so nothing they applied is pruned).
	// Default: false, the CRDs and the objects stay, for a reinstall to take up again.
	DeleteCRDs bool
	// DeleteNamespace deletes the namespace, and everything else in it. Default: false.
	DeleteNamespace bool
	// DryRun sends every change as a server-side dry-run: nothing is written, and the
	// ChangeSet says what would be. Default: false.
	DryRun bool
	// PollInterval is how often Uninstall looks whether the controller's pods are gone.
	// Default: 1s.
	PollInterval time.Duration
}

// FinalizerRemoved is the action of Uninstall on an object of Azimuth's kinds whose finalizer
// it removed.
const FinalizerRemoved apply.Action = "finalizer removed"

// finalizers are Azimuth's (one name, Flux's, for every kind).
var finalizers = []string{sourcev1.SourceFinalizer, imagev1.ImageFinalizer, kustomizev1.KustomizationFinalizer}

// Uninstall removes Azimuth from the cluster through c, in this order: the controller's
// Deployment, waiting until its pods are gone (so that no controller adds a finalizer back or
// prunes); Azimuth's finalizer from every object of its kinds, in every namespace; the other
// objects Install applied (RBAC, Service, service account, network policies); with DeleteCRDs
// the CRDs; with DeleteNamespace the namespace. It deletes only objects that carry
// PartOfLabel: an object of the same name that Azimuth did not install is left, and reported
// skipped. Objects that Kustomizations applied are not read, changed or deleted.
func Uninstall(ctx context.Context, c client.Client, opts *UninstallOptions) (*apply.ChangeSet, error) {
	if opts == nil {
		opts = &UninstallOptions{}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	objs, err := Render(Options{Namespace: opts.Namespace})
	if err != nil {
		return &apply.ChangeSet{}, err
	}
	u := &uninstaller{c: c, opts: opts, cs: &apply.ChangeSet{}}
	shards, err := installedShards(ctx, c, namespaceOf(objs))
	if err != nil {
		return u.cs, err
	}
	objs = append(objs, shards...)
	var deployments, crds, rest []*unstructured.Unstructured
	var namespace *unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment":
			deployments = append(deployments, o)
		case "CustomResourceDefinition":
			crds = append(crds, o)
		case "Namespace":
			namespace = o
		default:
			rest = append(rest, o)
		}
	}
	for _, d := range deployments {
		if err := u.deleteController(ctx, d); err != nil {
			return u.cs, err
		}
	}
	for _, crd := range crds {
		if err := u.removeFinalizers(ctx, crd); err != nil {
			return u.cs, err
		}
	}
	slices.Reverse(rest)
	for _, o := range rest {
		if err := u.delete(ctx, o); err != nil {
			return u.cs, err
		}
	}
	if opts.DeleteCRDs {
		for _, crd := range crds {
			if err := u.delete(ctx, crd); err != nil {
				return u.cs, err
			}
		}
	}
	if opts.DeleteNamespace && namespace != nil {
		if err := u.delete(ctx, namespace); err != nil {
			return u.cs, err
		}
	}
	return u.cs, nil
}

type uninstaller struct {
	c    client.Client
	opts *UninstallOptions
	cs   *apply.ChangeSet
}

func (u *uninstaller) record(o *unstructured.Unstructured, a apply.Action) {
	id := apply.MetadataOf(o)
	u.cs.Entries = append(u.cs.Entries, apply.Change{Subject: id.String(), Action: a, Object: id})
}

func (u *uninstaller) dryRun() []client.DeleteOption {
	if u.opts.DryRun {
		return []client.DeleteOption{client.DryRunAll}
	}
	return nil
}

// delete deletes the live object of desired if Azimuth installed it.
func (u *uninstaller) delete(ctx context.Context, desired *unstructured.Unstructured) error {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(desired.GroupVersionKind())
	err := u.c.Get(ctx, client.ObjectKeyFromObject(desired), live)
	if apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", apply.MetadataOf(desired), err)
	}
	if live.GetLabels()[PartOfLabel] != PartOf {
		u.record(live, apply.Skipped)
		return nil
	}
	opts := append(u.dryRun(), client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err := u.c.Delete(ctx, live, opts...); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting %s: %w", apply.MetadataOf(live), err)
	}
	u.record(live, apply.Deleted)
	return nil
}

// deleteController deletes the Deployment d and waits until no pod of it is left.
func (u *uninstaller) deleteController(ctx context.Context, d *unstructured.Unstructured) error {
	if err := u.delete(ctx, d); err != nil || u.opts.DryRun {
		return err
	}
	selector, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
	if len(selector) == 0 {
		return nil
	}
	ticker := time.NewTicker(u.opts.PollInterval)
	defer ticker.Stop()
	running := 0 // pods seen by the last list
	waiting := func() error {
		return fmt.Errorf("waiting for the %d pods of %s to stop, so that no controller is left to add a finalizer back: %w", running, apply.MetadataOf(d), ctx.Err())
	}
	for {
		var pods metav1.PartialObjectMetadataList
		pods.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "PodList"})
		if err := u.c.List(ctx, &pods, client.InNamespace(d.GetNamespace()), client.MatchingLabels(selector)); err != nil {
			if running > 0 && ctx.Err() != nil {
				return waiting() // the time ran out during the list: the pods are what it waited for
			}
			return fmt.Errorf("listing the pods of %s: %w", apply.MetadataOf(d), err)
		}
		if running = len(pods.Items); running == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return waiting()
		case <-ticker.C:
		}
	}
}

// removeFinalizers removes Azimuth's finalizer from every object of the kind crd defines.
func (u *uninstaller) removeFinalizers(ctx context.Context, crd *unstructured.Unstructured) error {
	gvk, ok := storedKind(crd)
	if !ok {
		return nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	for {
		err := u.c.List(ctx, list, client.Limit(500), client.Continue(list.GetContinue()))
		if apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err) {
			return nil // the CRD is not installed: no object to free
		}
		if err != nil {
			return fmt.Errorf("listing the %s objects: %w", gvk.Kind, err)
		}
		for i := range list.Items {
			if err := u.removeFinalizer(ctx, &list.Items[i]); err != nil {
				return err
			}
		}
		if list.GetContinue() == "" {
			return nil
		}
	}
}

// removeFinalizer removes Azimuth's finalizer from obj, reading it again on a conflict.
func (u *uninstaller) removeFinalizer(ctx context.Context, obj *unstructured.Unstructured) error {
	removed := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if removed { // a conflict: read the object again
			if err := u.c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return client.IgnoreNotFound(err)
			}
		}
		kept := slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return slices.Contains(finalizers, f) })
		if len(kept) == len(obj.GetFinalizers()) {
			removed = false
			return nil
		}
		removed = true
		before := obj.DeepCopy()
		obj.SetFinalizers(kept)
		var opts []client.PatchOption
		if u.opts.DryRun {
			opts = append(opts, client.DryRunAll)
		}
		return client.IgnoreNotFound(u.c.Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), opts...))
	})
	if err != nil {
		return fmt.Errorf("removing the finalizer %s from %s: %w", kustomizev1.KustomizationFinalizer, apply.MetadataOf(obj), err)
	}
	if removed {
		u.record(obj, FinalizerRemoved)
	}
	return nil
}

// storedKind is the kind crd defines, at its storage version.
func storedKind(crd *unstructured.Unstructured) (schema.GroupVersionKind, bool) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		v, _ := v.(map[string]any)
		if stored, _ := v["storage"].(bool); stored {
			name, _ := v["name"].(string)
			return schema.GroupVersionKind{Group: group, Version: name, Kind: kind}, group != "" && kind != ""
		}
	}
	return schema.GroupVersionKind{}, false
}
