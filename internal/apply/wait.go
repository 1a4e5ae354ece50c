package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Wait waits until every object of objs is Current by kstatus: it reads them at once, then
// every PollInterval, until each is Current, one is Failed (kstatus's Stalled condition, a
// failed Job, a CRD whose names are refused...), or ctx ends. The error names each object not
// ready, with its kstatus status and message; it wraps ctx's error when ctx ended.
//
// An object whose kind has no status rules and no conditions (a ConfigMap) is Current as soon
// as it exists; one being deleted is Terminating, not Current. An object seen Current is not
// read again. A CustomResourceDefinition is Current when Established and its kind is served.
func (m *Manager) Wait(ctx context.Context, objs []ObjMetadata) error {
	targets := make([]*target, len(objs))
	for i, id := range objs {
		targets[i] = &target{id: id, status: status.UnknownStatus, message: "not read yet"}
	}
	return m.wait(ctx, targets)
}

// target is one object Wait waits for.
type target struct {
	id      ObjMetadata
	version string                     // "" for the RESTMapper's preferred version
	obj     *unstructured.Unstructured // already read, for the first round; then nil
	status  status.Status
	message string
}

func (m *Manager) wait(ctx context.Context, pending []*target) error {
	total := len(pending)
	ticker := time.NewTicker(m.opts.PollInterval)
	defer ticker.Stop()
	for {
		m.parallel(len(pending), func(i int) { m.observe(ctx, pending[i]) })
		var failed []error
		next := pending[:0]
		for _, t := range pending {
			switch t.status {
			case status.CurrentStatus:
			case status.FailedStatus:
				failed = append(failed, t.err())
			default:
				next = append(next, t)
			}
		}
		if len(failed) > 0 {
			return joinObjectErrors("", failed, total)
		}
		if len(next) == 0 {
			return nil
		}
		pending = next
		select {
		case <-ctx.Done():
			errs := make([]error, len(pending))
			for i, t := range pending {
				errs[i] = t.err()
			}
			return &objectErrors{
				summary: fmt.Sprintf("%d of %d objects not ready", len(pending), total),
				errs:    errs, cause: ctx.Err(),
			}
		case <-ticker.C:
		}
	}
}

func (t *target) err() error {
	return &ObjectError{Object: t.id, Err: fmt.Errorf("%s: %s", t.status, t.message)}
}

// observe reads t's object and computes its status. A read cut short by ctx leaves the last
// status, which is more useful in the error than "context canceled".
func (m *Manager) observe(ctx context.Context, t *target) {
	u := t.obj
	t.obj = nil
	if u == nil {
		gvk, err := m.gvkOf(t.id, t.version)
		if err != nil {
			t.status, t.message = status.UnknownStatus, explain(err, "mapping its kind").Error()
			return
		}
		u = &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		err = m.client.Get(ctx, client.ObjectKey{Namespace: t.id.Namespace, Name: t.id.Name}, u)
		switch {
		case ctx.Err() != nil:
			return
		case apierrors.IsNotFound(err):
			t.status, t.message = status.NotFoundStatus, "the object does not exist"
			return
		case err != nil:
			t.status, t.message = status.UnknownStatus, explain(err, "get").Error()
			return
		}
	}
	res, err := m.compute(u)
	if err != nil {
		t.status, t.message = status.UnknownStatus, err.Error()
		return
	}
	t.status, t.message = res.Status, res.Message
	if t.status == status.CurrentStatus && isCRD(t.id.Group, t.id.Kind) {
		if msg := m.served(u); msg != "" {
			t.status, t.message = status.InProgressStatus, msg
		}
	}
}

// served checks that the API server's discovery serves the kind a CustomResourceDefinition
// defines, which can trail its Established condition: its custom resources cannot be mapped,
// and so applied, before. It returns "" when served.
func (m *Manager) served(crd *unstructured.Unstructured) string {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		v, _ := v.(map[string]any)
		name, _ := v["name"].(string)
		if served, _ := v["served"].(bool); !served || name == "" {
			continue
		}
		// The dynamic RESTMapper reloads the group from discovery when it does not know the
		// kind, so this both checks and readies the mapper for the custom resources.
		if _, err := m.client.RESTMapper().RESTMapping(schema.GroupKind{Group: group, Kind: kind}, name); err != nil {
			return fmt.Sprintf("Established, but %s/%s %s is not served yet: %v", group, name, kind, err)
		}
	}
	return ""
}

// gvkOf is the kind and version to read id with: version when the API server still serves it,
// else the preferred version.
func (m *Manager) gvkOf(id ObjMetadata, version string) (schema.GroupVersionKind, error) {
	mapper := m.client.RESTMapper()
	if version != "" {
		mapping, err := mapper.RESTMapping(id.GroupKind(), version)
		if err == nil {
			return mapping.GroupVersionKind, nil
		}
	}
	mapping, err := mapper.RESTMapping(id.GroupKind())
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return mapping.GroupVersionKind, nil
}

// waitDefinitions waits for the objects of the definitions stage Apply applied or found
// unchanged, starting from what the API server returned for them.
func (m *Manager) waitDefinitions(ctx context.Context, items []*item) error {
	var targets []*target
	for _, it := range items {
		if it.action == Skipped || it.result == nil {
			continue
		}
		targets = append(targets, &target{
			id: it.id, version: it.desired.GroupVersionKind().Version, obj: it.result,
			status: status.UnknownStatus, message: "not read yet",
		})
	}
	return m.wait(ctx, targets)
}

// WaitDeleted waits until none of objs exists: it reads them at once, then every PollInterval,
// until each is gone or ctx ends. An object of a kind no longer served is gone, and so is one
// created anew under the same name. The error names each object still there and what holds it
// (its finalizers); it wraps ctx's error.
func (m *Manager) WaitDeleted(ctx context.Context, objs []ObjMetadata) error {
	pending := slices.Clone(objs)
	ticker := time.NewTicker(m.opts.PollInterval)
	defer ticker.Stop()
	held := map[ObjMetadata]string{} // why each pending object is still there
	for {
		next := pending[:0]
		for _, id := range pending {
			why, there, read := m.stillThere(ctx, id)
			if !there {
				continue
			}
			// A read that failed (often one the client's rate limiter refused as the deadline
			// came) says less than the last that did not.
			if _, known := held[id]; read || !known {
				held[id] = why
			}
			next = append(next, id)
		}
		if pending = next; len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			errs := make([]error, len(pending))
			for i, id := range pending {
				errs[i] = &ObjectError{Object: id, Err: errors.New(held[id])}
			}
			return &objectErrors{summary: fmt.Sprintf("%d of %d objects not deleted", len(pending), len(objs)), errs: errs, cause: ctx.Err()}
		case <-ticker.C:
		}
	}
}

// stillThere reads id: whether it exists, what keeps it (its finalizers) if so, and whether
// it was read. A read that fails counts as there, with the failure as the reason.
func (m *Manager) stillThere(ctx context.Context, id ObjMetadata) (why string, there, read bool) {
	gvk, err := m.gvkOf(id, "")
	if apimeta.IsNoMatchError(err) {
		return "", false, true
	}
	if err != nil {
		return explain(err, "mapping its kind").Error(), true, false
	}
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(gvk)
	err = m.client.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		return "", false, true
	case err != nil:
		return explain(err, "get").Error(), true, false
	case live.GetDeletionTimestamp() == nil:
		return "", false, true // a deleted object keeps its deletion timestamp: this one was created anew
	case len(live.GetFinalizers()) > 0:
		return fmt.Sprintf("terminating, held by the finalizers %s", strings.Join(live.GetFinalizers(), ", ")), true, true
	default:
		return "terminating", true, true
	}
}

// compute is u's status: by Options.Health when it knows u's kind, otherwise by kstatus.
func (m *Manager) compute(u *unstructured.Unstructured) (*status.Result, error) {
	if m.opts.Health != nil {
		if res, ok := m.opts.Health(u); ok {
			return res, nil
		}
	}
	return status.Compute(u)
}
