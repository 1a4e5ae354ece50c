package apply

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestPrune(t *testing.T) {
	f := setup(t)
	m := f.manager("app", Options{})
	kept := configMap(f.ns, "kept", nil)
	left := configMap(f.ns, "left", nil)
	protected := annotate(configMap(f.ns, "protected", nil), PruneAnnotation, "disabled")
	mustApply(t, m, kept, left, protected)
	// Objects other Kustomizations own now, though this one's old inventory holds them: one of
	// another name, one of the same name in another namespace.
	taken := configMap(f.ns, "taken", nil)
	mustApply(t, f.manager("other", Options{}), taken)
	namesake := configMap(f.ns, "namesake", nil)
	mustApply(t, New(f.c, Owner{Name: "app", Namespace: "elsewhere"}, Options{}), namesake)
	gone := configMap(f.ns, "gone", nil) // in the old inventory, deleted since by someone

	old := InventoryOf([]*unstructured.Unstructured{kept, left, protected, taken, namesake, gone})
	cs, err := m.Prune(bounded(t), old, InventoryOf([]*unstructured.Unstructured{kept}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		subject("ConfigMap", f.ns, "taken") + " skipped",
		subject("ConfigMap", f.ns, "protected") + " skipped",
		subject("ConfigMap", f.ns, "namesake") + " skipped",
		subject("ConfigMap", f.ns, "left") + " deleted",
	}
	if got := actions(cs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := cs.String(), subject("ConfigMap", f.ns, "left")+" deleted"; got != want {
		t.Errorf("event text %q, want %q", got, want)
	}
	for name, exists := range map[string]bool{"kept": true, "left": false, "protected": true, "taken": true, "namesake": true} {
		if got := f.get("v1", "ConfigMap", f.ns, name) != nil; got != exists {
			t.Errorf("%s exists: %v, want %v", name, got, exists)
		}
	}
}

func TestPruneOrderAndVersions(t *testing.T) {
	f := setup(t)
	group := f.ns + ".example.com"
	ns := f.ns + "-pruned"
	m := f.manager("app", Options{})
	objs := []*unstructured.Unstructured{
		crd(group, "Gizmo", "Namespaced"),
		object("v1", "Namespace", "", ns, nil),
		object(group+"/v1", "Gizmo", ns, "g1", nil),
		configMap(ns, "settings", nil),
	}
	mustApply(t, m, objs...)
	old := InventoryOf(objs)
	old[3].Version = "v0" // a version no longer served: Prune falls back to the preferred one

	cs, err := m.Prune(bounded(t), old, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		subject("Gizmo", ns, "g1") + " deleted",
		subject("ConfigMap", ns, "settings") + " deleted",
		"CustomResourceDefinition/gizmos." + group + " deleted",
		"Namespace/" + ns + " deleted",
	}
	if got := actions(cs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPruneRefusesAnUnreadableNewInventory(t *testing.T) {
	f := setup(t)
	mustApply(t, f.manager("app", Options{}), configMap(f.ns, "kept", nil))
	old := InventoryOf([]*unstructured.Unstructured{configMap(f.ns, "kept", nil)})
	if _, err := f.manager("app", Options{}).Prune(bounded(t), old, []InventoryEntry{{ID: "garbage"}}); err == nil {
		t.Fatal("pruned with an unreadable new inventory")
	}
	if f.get("v1", "ConfigMap", f.ns, "kept") == nil {
		t.Error("deleted an object with an unreadable new inventory")
	}
}

func TestWait(t *testing.T) {
	f := setup(t)
	m := f.manager("app", Options{PollInterval: 100 * time.Millisecond})
	group := f.ns + ".example.com"
	// A custom object whose controller gave up. Without a status subresource, status is
	// written with the object.
	stalled := object(group+"/v1", "Sprocket", f.ns, "broken", map[string]any{"status": map[string]any{
		"conditions": []any{
			map[string]any{"type": "Ready", "status": "False", "reason": "Broken", "message": "the sprocket is broken"},
			map[string]any{"type": "Stalled", "status": "True", "reason": "Broken", "message": "the sprocket is broken"},
		},
	}})
	mustApply(t, m,
		configMap(f.ns, "settings", nil),
		workload(f.ns)[0], // a Deployment: no controller runs here, so it never becomes available
		crd(group, "Sprocket", "Namespaced"),
		stalled,
	)
	id := func(group, kind, name string) ObjMetadata {
		return ObjMetadata{Namespace: f.ns, Name: name, Group: group, Kind: kind}
	}

	t.Run("a ConfigMap is current at once", func(t *testing.T) {
		// Polled hourly: only the first read can end the wait within the bounded context.
		hourly := f.manager("app", Options{PollInterval: time.Hour})
		if err := hourly.Wait(bounded(t), []ObjMetadata{id("", "ConfigMap", "settings")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a Deployment never ready times out", func(t *testing.T) {
		// Long enough for the first round of reads on a loaded machine, or the error would say
		// "not read yet" instead of each object's status.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		err := m.Wait(ctx, []ObjMetadata{id("", "ConfigMap", "settings"), id("apps", "Deployment", "web"), id("", "ConfigMap", "missing")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline", err)
		}
		for _, want := range []string{
			"2 of 3 objects not ready",
			subject("Deployment", f.ns, "web") + ": InProgress: ",
			subject("ConfigMap", f.ns, "missing") + ": NotFound",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q:\n%v", want, err)
			}
		}
		if strings.Contains(err.Error(), "settings") {
			t.Errorf("error names a ready object:\n%v", err)
		}
	})
	t.Run("a stalled object fails early", func(t *testing.T) {
		// The Deployment never becomes ready: a wait that did not stop at the failure would
		// last until the deadline.
		err := m.Wait(bounded(t), []ObjMetadata{id(group, "Sprocket", "broken"), id("apps", "Deployment", "web")})
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a failure before the deadline", err)
		}
		if want := subject("Sprocket", f.ns, "broken") + ": Failed: the sprocket is broken"; !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	})
}

// TestServed checks the wait for discovery after a CRD is Established, which the dynamic
// RESTMapper usually makes moot by reloading a group it does not know.
func TestServed(t *testing.T) {
	f := setup(t)
	m := f.manager("app", Options{})
	group := f.ns + ".example.com"
	mustApply(t, m, crd(group, "Served", "Namespaced"))
	if msg := m.served(crd(group, "Served", "Namespaced")); msg != "" {
		t.Errorf("a served kind: %q", msg)
	}
	if msg := m.served(crd(group, "Missing", "Namespaced")); !strings.Contains(msg, group+"/v1 Missing is not served yet") {
		t.Errorf("a kind not served: %q", msg)
	}
}

// TestWaitDeleted: a pruned object held by a finalizer is waited for, and named with the
// finalizer when the wait ends; once the finalizer goes, so does the wait. An object already
// gone, or created anew under the same name, is not waited for.
func TestWaitDeleted(t *testing.T) {
	f := setup(t)
	m := f.manager("app", Options{PollInterval: 100 * time.Millisecond})
	held := configMap(f.ns, "held", nil)
	held.SetFinalizers([]string{"example.com/hold"})
	objs := []*unstructured.Unstructured{held, configMap(f.ns, "free", nil), configMap(f.ns, "again", nil)}
	mustApply(t, m, objs...)
	cs, err := m.Prune(bounded(t), InventoryOf(objs), nil)
	if err != nil || len(cs.Entries) != 3 {
		t.Fatalf("prune: %v, %v", actions(cs), err)
	}
	ids := make([]ObjMetadata, len(cs.Entries))
	for i, c := range cs.Entries {
		ids[i] = c.Object
	}
	mustApply(t, f.manager("other", Options{}), configMap(f.ns, "again", nil))

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err = m.WaitDeleted(ctx, ids)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	for _, want := range []string{"1 of 3 objects not deleted", subject("ConfigMap", f.ns, "held") + ": terminating, held by the finalizers example.com/hold"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "free") || strings.Contains(err.Error(), "again") {
		t.Errorf("error names an object that is gone or new:\n%v", err)
	}

	live := f.get("v1", "ConfigMap", f.ns, "held")
	live.SetFinalizers(nil)
	if err := f.c.Update(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitDeleted(bounded(t), ids); err != nil {
		t.Fatalf("after the finalizer went: %v", err)
	}
}
