package kustomization

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/apply"
	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
)

// applier is the apply.Manager of obj, reading health by the compiled spec.healthCheckExprs
// health (nil: kstatus only): on this cluster as the user it impersonates, or on the cluster
// of spec.kubeConfig. It returns who applies, for explain.
func (r *Reconciler) applier(ctx context.Context, obj *kustomizev1.Kustomization, health apply.HealthFunc) (*apply.Manager, actor, error) {
	opts := apply.Options{Force: obj.Spec.Force, PollInterval: r.HealthPollInterval, Cache: r.Cache, Health: health}
	owner := apply.Owner{Name: obj.Name, Namespace: obj.Namespace}
	if kc := obj.Spec.KubeConfig; kc != nil && kc.ConfigMapRef != nil {
		t, err := r.Remote.Target(ctx, obj.Namespace, kc.ConfigMapRef.Name)
		if err != nil {
			return nil, actor{}, err
		}
		c, user, err := r.Clients.RemoteConfig(obj.Namespace, t.Key, t.Config, obj.Spec.ServiceAccountName, t.Cluster)
		if err != nil {
			return nil, actor{}, err
		}
		opts.Cache = nil
		return apply.New(c, owner, opts), actor{user: user, configMap: kc.ConfigMapRef.Name, cluster: t.Cluster, identity: t.Identity}, nil
	}
	if kc := obj.Spec.KubeConfig; kc != nil && kc.SecretRef != nil {
		data, err := r.Access.Secret(ctx, obj.Namespace, kc.SecretRef.Name)
		if err != nil {
			return nil, actor{}, err
		}
		c, user, err := r.Clients.Remote(obj.Namespace, kc.SecretRef, data, obj.Spec.ServiceAccountName)
		if err != nil {
			return nil, actor{}, err
		}
		// The cache knows this cluster's objects; a remote one's are dry-run every time.
		opts.Cache = nil
		return apply.New(c, owner, opts), actor{user: user, kubeconfig: kc.SecretRef.Name}, nil
	}
	c, user, err := r.Clients.For(obj.Namespace, obj.Spec.ServiceAccountName)
	if err != nil {
		return nil, actor{}, err
	}
	return apply.New(c, owner, opts), actor{user: user}, nil
}

// actor is who applies a Kustomization's objects: user, impersonated ("" for none), on this
// cluster, on the cluster of the kubeconfig in secret kubeconfig, or on the AKS cluster of
// ConfigMap configMap (cluster describes it) as identity.
type actor struct {
	user       string
	kubeconfig string
	configMap  string
	cluster    string
	identity   string
}

// apply applies objs, records the inventory and prunes what left it. When the apply fails
// part way, the inventory keeps both the old entries and those applied, so that nothing applied
// is left without a record in status for a later prune.
func (r *Reconciler) apply(ctx context.Context, obj *kustomizev1.Kustomization, m *apply.Manager, who actor, objs []*unstructured.Unstructured) (*apply.ChangeSet, error) {
	old := inventoryEntries(obj)
	changes, err := m.Apply(ctx, objs)
	if err != nil {
		setInventory(obj, union(old, appliedEntries(changes, objs)))
		return nil, status.Fail("", meta.ReconciliationFailedReason, explain(err, who))
	}
	current := apply.InventoryOf(objs)
	if obj.Spec.Prune {
		pruned, err := m.Prune(ctx, old, current)
		if err != nil {
			setInventory(obj, union(old, current))
			return nil, status.Fail("", kustomizev1.PruneFailedReason, explain(err, who))
		}
		changes.Entries = append(changes.Entries, pruned.Entries...)
	}
	setInventory(obj, current)
	return changes, nil
}

// checkHealth waits for the objects spec.wait or spec.healthChecks name to be ready, within
// what is left of spec.timeout.
func (r *Reconciler) checkHealth(ctx context.Context, obj *kustomizev1.Kustomization, m *apply.Manager, objs []*unstructured.Unstructured) error {
	var targets []apply.ObjMetadata
	switch {
	case obj.Spec.Wait:
		for _, e := range apply.InventoryOf(objs) {
			id, err := apply.ParseID(e.ID)
			if err != nil {
				return err
			}
			targets = append(targets, id)
		}
	case len(obj.Spec.HealthChecks) > 0:
		for _, hc := range obj.Spec.HealthChecks {
			id, err := healthCheckTarget(hc)
			if err != nil {
				return status.Stall(kustomizev1.HealthCheckFailedReason, err)
			}
			targets = append(targets, id)
		}
	default:
		status.Remove(obj, kustomizev1.HealthyCondition)
		return nil
	}
	start := time.Now()
	if err := m.Wait(ctx, targets); err != nil {
		status.MarkFalse(obj, kustomizev1.HealthyCondition, kustomizev1.HealthCheckFailedReason, err.Error())
		return status.Fail("", kustomizev1.HealthCheckFailedReason, fmt.Errorf("health check failed after %s: %w", time.Since(start).Round(time.Millisecond), err))
	}
	status.MarkTrue(obj, kustomizev1.HealthyCondition, meta.SucceededReason, fmt.Sprintf("Health check passed in %s", time.Since(start).Round(time.Millisecond)))
	return nil
}

// healthCheckTarget is a spec.healthChecks entry as the object it names.
func healthCheckTarget(hc meta.NamespacedObjectKindReference) (apply.ObjMetadata, error) {
	group, _, ok := strings.Cut(hc.APIVersion, "/")
	if !ok {
		group = "" // "v1": the core group
	}
	if hc.APIVersion == "" {
		return apply.ObjMetadata{}, fmt.Errorf("health check '%s/%s': set apiVersion", hc.Kind, hc.Name)
	}
	return apply.ObjMetadata{Group: group, Kind: hc.Kind, Namespace: hc.Namespace, Name: hc.Name}, nil
}

// finalizeReported is finalize, with its failure also an event on the Kustomization: the
// object is being deleted, so no condition of its is written, and the event is how a user
// learns why it stays.
func (r *Reconciler) finalizeReported(ctx context.Context, obj *kustomizev1.Kustomization) error {
	err := r.finalize(ctx, obj)
	if err != nil && r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, kustomizev1.PruneFailedReason, "Finalize", "%s", clip.String(err.Error(), clip.EventNote))
	}
	return err
}

// finalize deletes what a deleted Kustomization applied, when spec.deletionPolicy (or, by
// default, spec.prune) says so and it is not suspended, as Flux does. Under WaitForTermination
// it returns an error, and so keeps the finalizer, until the deleted objects are gone.
func (r *Reconciler) finalize(ctx context.Context, obj *kustomizev1.Kustomization) error {
	if r.Cache != nil {
		r.Cache.Forget(apply.Owner{Name: obj.Name, Namespace: obj.Namespace})
	}
	policy := obj.GetDeletionPolicy()
	if policy == kustomizev1.DeletionPolicyOrphan || obj.Spec.Suspend || obj.Status.Inventory == nil {
		return nil
	}
	m, who, err := r.applier(ctx, obj, nil)
	if obj.Spec.KubeConfig != nil && (errors.Is(err, access.ErrSecretNotFound) || errors.Is(err, access.ErrConfigMapNotFound)) {
		// The remote cluster cannot be reached without it (a namespace being deleted takes the
		// secret with it): what was applied there stays, and the event says so.
		if r.Recorder != nil {
			r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, kustomizev1.PruneFailedReason, "Finalize", "%s",
				clip.String(fmt.Sprintf("the %d objects applied to the remote cluster were left there: %v", len(obj.Status.Inventory.Entries), err), clip.EventNote))
		}
		return nil
	}
	if err != nil {
		return err
	}
	deleted, err := m.Prune(ctx, inventoryEntries(obj), nil)
	if err != nil {
		log.FromContext(ctx).Error(err, "pruning the objects of a deleted Kustomization; retrying")
		return explain(err, who)
	}
	if policy != kustomizev1.DeletionPolicyWaitForTermination {
		return nil
	}
	var ids []apply.ObjMetadata
	for _, c := range deleted.Entries {
		if c.Action == apply.Deleted {
			ids = append(ids, c.Object)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, obj.GetTimeout())
	defer cancel()
	if err := m.WaitDeleted(waitCtx, ids); err != nil {
		return fmt.Errorf("spec.deletionPolicy is WaitForTermination, and after spec.timeout (%s) %w; "+
			"the Kustomization stays until they are gone: remove what holds them, or set spec.deletionPolicy to Delete", obj.GetTimeout(), err)
	}
	return nil
}

// explain adds to a refusal of the API server who was refused and how to allow it, and to a
// remote cluster that cannot be reached or trusted which kubeconfig names it.
func explain(err error, who actor) error {
	if who.configMap != "" {
		return explainAKS(err, who)
	}
	if !apierrors.IsForbidden(err) {
		if who.kubeconfig != "" {
			return explainRemote(err, who.kubeconfig)
		}
		return err
	}
	switch {
	case who.kubeconfig != "" && who.user == "":
		return fmt.Errorf("%w (applied as the user of the kubeconfig in secret '%s': grant it the permission in the remote cluster)", err, who.kubeconfig)
	case who.kubeconfig != "":
		return fmt.Errorf("%w (applied as '%s' in the cluster of the kubeconfig in secret '%s', spec.serviceAccountName or --default-service-account: "+
			"grant it a Role or ClusterRole binding with the permission there)", err, who.user, who.kubeconfig)
	case who.user == "":
		return fmt.Errorf("%w (the controller's own service account is refused: grant it the permission in its ClusterRole)", err)
	}
	return fmt.Errorf("%w (applied as '%s', spec.serviceAccountName or --default-service-account: grant it a Role or ClusterRole binding with the permission)", err, who.user)
}

// explainRemote says which kubeconfig to fix when its cluster cannot be reached or trusted.
func explainRemote(err error, secret string) error {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var netErr net.Error
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname):
		return fmt.Errorf("%w (the remote cluster's certificate does not match the kubeconfig in secret '%s': fix its certificate-authority-data or server)", err, secret)
	case errors.As(err, &netErr):
		return fmt.Errorf("%w (the cluster of the kubeconfig in secret '%s' cannot be reached: check its server address, and that the controller's network reaches it)", err, secret)
	}
	return err
}

// explainAKS says what to change when an AKS cluster refuses, cannot be reached or is not
// trusted. Its Kubernetes RBAC names an Entra identity by its object ID, which the API server's
// refusal quotes as the user.
func explainAKS(err error, who actor) error {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var netErr net.Error
	switch {
	case apierrors.IsForbidden(err) && who.user != "":
		return fmt.Errorf("%w (applied as '%s' in %s, spec.serviceAccountName or --default-service-account: grant it a Role or ClusterRole binding "+
			"with the permission there, and %s the permission to impersonate it)", err, who.user, who.cluster, who.identity)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w (applied as %s in %s: bind a Role or ClusterRole with the permission there to the user the refusal names, "+
			"the identity's object ID; with Azure RBAC for Kubernetes, assign it a role such as Azure Kubernetes Service RBAC Writer on the cluster)", err, who.identity, who.cluster)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w (the API server of %s did not accept the Microsoft Entra token of %s: the cluster needs Entra ID integration in the identity's tenant)",
			err, who.cluster, who.identity)
	case errors.As(err, &unknownCA), errors.As(err, &hostname):
		return fmt.Errorf("%w (the API server's certificate does not match the CA of %s: fix or remove the ConfigMap's 'ca.crt', or its 'address')", err, who.cluster)
	case errors.As(err, &netErr):
		return fmt.Errorf("%w (%s cannot be reached: check the ConfigMap's 'address', and that the controller's network reaches the API server; a private cluster needs a network path to it)",
			err, who.cluster)
	}
	return err
}

func inventoryEntries(obj *kustomizev1.Kustomization) []apply.InventoryEntry {
	if obj.Status.Inventory == nil {
		return nil
	}
	out := make([]apply.InventoryEntry, 0, len(obj.Status.Inventory.Entries))
	for _, e := range obj.Status.Inventory.Entries {
		out = append(out, apply.InventoryEntry{ID: e.ID, Version: e.Version})
	}
	return out
}

func setInventory(obj *kustomizev1.Kustomization, entries []apply.InventoryEntry) {
	inv := &kustomizev1.ResourceInventory{Entries: make([]kustomizev1.ResourceRef, 0, len(entries))}
	for _, e := range entries {
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: e.ID, Version: e.Version})
	}
	obj.Status.Inventory = inv
}

// appliedEntries are the inventory entries of the objects changes says were applied.
func appliedEntries(changes *apply.ChangeSet, objs []*unstructured.Unstructured) []apply.InventoryEntry {
	if changes == nil {
		return nil
	}
	applied := map[string]bool{}
	for _, c := range changes.Entries {
		applied[c.Subject] = true
	}
	var out []apply.InventoryEntry
	for _, e := range apply.InventoryOf(objs) {
		id, err := apply.ParseID(e.ID)
		if err == nil && applied[id.String()] {
			out = append(out, e)
		}
	}
	return out
}

// union is a's entries then b's not in a, sorted by ID as Flux sorts its inventory.
func union(a, b []apply.InventoryEntry) []apply.InventoryEntry {
	out := slices.Clone(a)
	seen := make(map[string]bool, len(a))
	for _, e := range a {
		seen[e.ID] = true
	}
	for _, e := range b {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(x, y apply.InventoryEntry) int { return strings.Compare(x.ID, y.ID) })
	return out
}
