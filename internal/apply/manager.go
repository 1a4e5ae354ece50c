package apply

import (
	"errors"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the field manager of every apply: kustomize-controller's, so that objects
// Flux applied before are owned by Azimuth without a conflict, and the other way round.
const FieldManager = "kustomize-controller"

// Labels Apply sets on every object, naming its owner: Prune deletes only objects that carry
// both with its owner's values.
const (
	NameLabel      = "kustomize.toolkit.fluxcd.io/name"
	NamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"
)

// Annotations (or labels: Flux reads both) that change what Apply and Prune do to an object.
// Values compare without regard to case, as Flux compares them.
const (
	// SSAAnnotation: Ignore skips the object (on the desired or the live object); IfNotPresent
	// creates it when absent and leaves it alone after. Override and Merge apply it.
	SSAAnnotation = "kustomize.toolkit.fluxcd.io/ssa"
	// ForceAnnotation: Enabled (on the desired or the live object) recreates the object when a
	// change touches an immutable field, as Options.Force does for all objects.
	ForceAnnotation = "kustomize.toolkit.fluxcd.io/force"
	// PruneAnnotation: Disabled keeps Prune from deleting the object.
	PruneAnnotation = "kustomize.toolkit.fluxcd.io/prune"
	// ReconcileAnnotation: Disabled skips the object, as SSAAnnotation: Ignore does.
	ReconcileAnnotation = "kustomize.toolkit.fluxcd.io/reconcile"

	Ignore       = "Ignore"
	IfNotPresent = "IfNotPresent"
	Enabled      = "Enabled"
	Disabled     = "Disabled"
)

// Owner is the Kustomization whose objects a Manager applies, prunes and waits for.
type Owner struct {
	Name      string
	Namespace string
}

// Options tune a Manager. The zero value is Flux's default behaviour.
type Options struct {
	// Force recreates an object whose change the API server refuses as immutable: the
	// Kustomization's spec.force. An object annotated ForceAnnotation: Enabled is recreated
	// whatever Force says. Default: false, such a change is an error.
	Force bool
	// PollInterval is how often Wait reads the objects it waits for, and Apply the
	// CustomResourceDefinitions and Namespaces it waits for. Default (zero or less): 2s, Flux's.
	PollInterval time.Duration
	// Concurrency bounds the reads in flight: the GETs and dry-runs of Apply, the GETs of Wait.
	// Writes are made one at a time, in order. Default (zero or less): 4, kustomize-controller's
	// --concurrent-ssa.
	Concurrency int
	// Cache lets Apply skip the dry-run of objects it already found in the desired state (see
	// Cache), before it looks at their managedFields. Default: nil, every object that the
	// managedFields do not show unchanged is dry-run (see the package's documentation, "When
	// the dry-run is skipped").
	Cache *Cache
	// Health, when set, computes the status of the objects it knows in place of kstatus's
	// rules: the Kustomization's spec.healthCheckExprs. Default: nil, kstatus for all.
	Health HealthFunc
}

// HealthFunc is the status of u, and ok true, when it knows u's kind; ok false otherwise.
type HealthFunc func(u *unstructured.Unstructured) (res *status.Result, ok bool)

// Manager applies, prunes and waits for the objects of one Kustomization. Make one per
// reconcile: it holds no state of its own but what Options.Cache holds.
type Manager struct {
	client client.Client
	owner  Owner
	opts   Options
}

// New returns the Manager of owner's objects, reaching the API server through c: a client
// that reads from the API server, not from an informer cache (a manager's default client reads
// unstructured objects live), impersonating the Kustomization's service account when it has
// one. c's RESTMapper must discover kinds added after it was made, as controller-runtime's
// default dynamic mapper does, so that the custom resources of a CRD applied in the same Apply
// resolve.
func New(c client.Client, owner Owner, opts Options) *Manager {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	return &Manager{client: c, owner: owner, opts: opts}
}

// checkOwner refuses an empty owner: its labels would be empty, and an empty label value would
// match objects that have no owner label at all.
func (m *Manager) checkOwner() error {
	if m.owner.Name == "" || m.owner.Namespace == "" {
		return errors.New("apply: the owner Kustomization needs a name and a namespace")
	}
	return nil
}

// owns reports whether u carries this Manager's owner labels.
func (m *Manager) owns(u *unstructured.Unstructured) bool {
	l := u.GetLabels()
	return l[NameLabel] == m.owner.Name && l[NamespaceLabel] == m.owner.Namespace
}

// marked reports whether u's annotations or labels set key to value, ignoring case.
func marked(u *unstructured.Unstructured, key, value string) bool {
	if u == nil {
		return false
	}
	return strings.EqualFold(u.GetAnnotations()[key], value) || strings.EqualFold(u.GetLabels()[key], value)
}

// parallel runs fn(0) ... fn(n-1), at most Options.Concurrency at a time.
func (m *Manager) parallel(n int, fn func(i int)) {
	if n == 1 || m.opts.Concurrency == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	sem := make(chan struct{}, m.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}
