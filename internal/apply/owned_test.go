package apply

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// fastPathObjects are objects whose no-change apply needs no dry-run even with an empty cache:
// the workload's kinds (server defaults in a Deployment, a Service's allocated clusterIP and
// defaulted port protocol and targetPort, a Secret's stringData and defaulted type, RBAC), a
// headless Service, a Secret of data, a ConfigMap and a Deployment as `kubectl create
// --dry-run=client -o yaml` writes them (null creationTimestamps, empty strategy and
// resources), a CustomResourceDefinition, and a custom resource without lists (its kind has no
// schema here: it is compared with the deduced one).
func fastPathObjects(ns string) []*unstructured.Unstructured {
	group := ns + ".example.com"
	return append(workload(ns),
		generatedDeployment(ns, "generated", false),
		object("v1", "Secret", ns, "data", map[string]any{"data": map[string]any{"token": "czNjcjN0"}}),
		object("v1", "Service", ns, "headless", map[string]any{"spec": map[string]any{
			"clusterIP": "None", "selector": map[string]any{"app": "web"},
			"ports": []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}},
		}}),
		object("v1", "ConfigMap", ns, "generated", map[string]any{
			"metadata": map[string]any{"name": "generated", "namespace": ns, "creationTimestamp": nil},
			"data":     map[string]any{"k": "v"},
		}),
		crd(group, "Widget", "Namespaced"),
		object(group+"/v1", "Widget", ns, "w1", map[string]any{"spec": map[string]any{
			"size": int64(3), "owner": map[string]any{"team": "blue"},
		}}),
	)
}

// generatedDeployment is a Deployment as `kubectl create deployment --dry-run=client -o yaml`
// writes it, with its `status: {}` when status is set.
func generatedDeployment(ns, name string, status bool) *unstructured.Unstructured {
	labels := map[string]any{"app": name}
	fields := map[string]any{
		"metadata": map[string]any{"name": name, "namespace": ns, "creationTimestamp": nil, "labels": labels},
		"spec": map[string]any{
			"replicas": int64(1), "selector": map[string]any{"matchLabels": labels}, "strategy": map[string]any{},
			"template": map[string]any{
				"metadata": map[string]any{"creationTimestamp": nil, "labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{
					"image": "nginx", "name": "nginx", "resources": map[string]any{},
				}}},
			},
		},
	}
	if status {
		fields["status"] = map[string]any{}
	}
	return object("apps/v1", "Deployment", ns, name, fields)
}

// TestApplyFreshManagerSkipsDryRunsOfUnchangedObjects is the first reconcile after a restart:
// a Manager with an empty Cache (or none) applies objects another Manager applied, unchanged.
// It reads them, and neither dry-runs nor writes any.
func TestApplyFreshManagerSkipsDryRunsOfUnchangedObjects(t *testing.T) {
	f := setup(t)
	objs := fastPathObjects(f.ns)
	mustApply(t, f.manager("app", Options{Cache: NewCache()}), objs...)
	versions := map[string]string{}
	for _, u := range objs {
		versions[MetadataOf(u).String()] = f.get(u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName()).GetResourceVersion()
	}

	// Which kinds the check itself finds unchanged, object by object.
	desired, err := f.manager("app", Options{}).desired(objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range desired {
		live := f.get(d.GetAPIVersion(), d.GetKind(), d.GetNamespace(), d.GetName())
		if ok, why := ownedFieldsCurrent(d, live); !ok {
			t.Errorf("%s: dry-run needed: %s", MetadataOf(d), why)
		}
	}

	for _, cache := range []*Cache{NewCache(), nil} {
		f.count.take()
		cs := mustApply(t, f.manager("app", Options{Cache: cache}), objs...)
		reads, dryRuns, writes := f.count.take()
		if len(cs.Entries) != len(objs) {
			t.Errorf("%d changes for %d objects", len(cs.Entries), len(objs))
		}
		for _, c := range cs.Entries {
			if c.Action != Unchanged {
				t.Errorf("%s, want unchanged", c)
			}
		}
		if dryRuns != 0 || len(writes) != 0 {
			t.Errorf("cache %v: %d dry-runs and writes %q, want none (%d reads)", cache != nil, dryRuns, writes, reads)
		}
		for _, u := range objs {
			id := MetadataOf(u).String()
			if rv := f.get(u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName()).GetResourceVersion(); rv != versions[id] {
				t.Errorf("%s: resourceVersion moved from %s to %s", id, versions[id], rv)
			}
		}
		if cache != nil {
			// The check fills the cache: the next Apply of the process needs no check either.
			if n := len(cache.owners[Owner{Name: "app", Namespace: f.ns}]); n != len(objs) {
				t.Errorf("%d objects cached, want %d", n, len(objs))
			}
		}
	}
}

// TestApplyFreshManagerCorrectsEdits: a field edited by another manager (an Update, as kubectl
// edit sends; or a forced apply of another field manager) leaves kustomize-controller's set,
// and so does a field deleted by hand; a fresh Manager dry-runs those objects, and puts the
// manifest's values back. The objects nobody touched still need no dry-run.
func TestApplyFreshManagerCorrectsEdits(t *testing.T) {
	f := setup(t)
	edited := configMap(f.ns, "edited", map[string]any{"mode": "fast"})
	takenOver := configMap(f.ns, "taken-over", map[string]any{"mode": "fast"})
	deleted := configMap(f.ns, "deleted", map[string]any{"mode": "fast", "extra": "x"})
	untouched := configMap(f.ns, "untouched", map[string]any{"mode": "fast"})
	web := workload(f.ns)[0] // the Deployment
	objs := []*unstructured.Unstructured{edited, takenOver, deleted, untouched, web}
	mustApply(t, f.manager("app", Options{Cache: NewCache()}), objs...)

	live := f.get("v1", "ConfigMap", f.ns, "edited")
	live.Object["data"] = map[string]any{"mode": "slow"}
	if err := f.c.Update(t.Context(), live, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	live = f.get("v1", "ConfigMap", f.ns, "deleted")
	live.Object["data"] = map[string]any{"mode": "fast"}
	if err := f.c.Update(t.Context(), live, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	dep := f.get("apps/v1", "Deployment", f.ns, "web")
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["image"] = "nginx:1.28"
	if err := unstructured.SetNestedSlice(dep.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Update(t.Context(), dep, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	other := configMap(f.ns, "taken-over", map[string]any{"mode": "slow"})
	if err := f.c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(other), client.ForceOwnership, client.FieldOwner("someone-else")); err != nil {
		t.Fatal(err)
	}

	f.count.take()
	cs := mustApply(t, f.manager("app", Options{Cache: NewCache()}), objs...)
	_, dryRuns, writes := f.count.take()
	want := []string{
		subject("ConfigMap", f.ns, "deleted") + " configured",
		subject("ConfigMap", f.ns, "edited") + " configured",
		subject("ConfigMap", f.ns, "taken-over") + " configured",
		subject("ConfigMap", f.ns, "untouched") + " unchanged",
		subject("Deployment", f.ns, "web") + " configured",
	}
	got := actions(cs)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if dryRuns != 4 || len(writes) != 4 {
		t.Errorf("%d dry-runs and writes %q, want 4 of each: the edited objects'", dryRuns, writes)
	}
	for _, name := range []string{"edited", "taken-over"} {
		u := f.get("v1", "ConfigMap", f.ns, name)
		if mode, _, _ := unstructured.NestedString(u.Object, "data", "mode"); mode != "fast" {
			t.Errorf("%s: data.mode = %q after apply, want the manifest's fast", name, mode)
		}
	}
	if extra, _, _ := unstructured.NestedString(f.get("v1", "ConfigMap", f.ns, "deleted").Object, "data", "extra"); extra != "x" {
		t.Errorf("data.extra = %q after apply, want the manifest's x back", extra)
	}
	dep = f.get("apps/v1", "Deployment", f.ns, "web")
	containers, _, _ = unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if image := containers[0].(map[string]any)["image"]; image != "nginx:1.27" {
		t.Errorf("image = %v after apply, want the manifest's nginx:1.27", image)
	}

	// The forced apply took the fields back: the next fresh Manager needs no dry-run.
	f.count.take()
	mustApply(t, f.manager("app", Options{}), objs...)
	if _, dryRuns, writes := f.count.take(); dryRuns != 0 || len(writes) != 0 {
		t.Errorf("after the correction: %d dry-runs, writes %q, want none", dryRuns, writes)
	}
}

// TestApplyFreshManagerRemovesFieldsDroppedFromTheManifest: the manifest no longer sets a key,
// a label and an annotation it set: the sets differ, the object is dry-run, and the apply
// removes them.
func TestApplyFreshManagerRemovesFieldsDroppedFromTheManifest(t *testing.T) {
	f := setup(t)
	cm := annotate(configMap(f.ns, "settings", map[string]any{"a": "1", "b": "2"}), "note", "x")
	cm.SetLabels(map[string]string{"tier": "web"})
	mustApply(t, f.manager("app", Options{Cache: NewCache()}), cm)

	f.count.take()
	cs := mustApply(t, f.manager("app", Options{Cache: NewCache()}), configMap(f.ns, "settings", map[string]any{"a": "1"}))
	_, dryRuns, writes := f.count.take()
	if got, want := cs.String(), subject("ConfigMap", f.ns, "settings")+" configured"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if dryRuns != 1 || len(writes) != 1 {
		t.Errorf("%d dry-runs and writes %q, want the dry-run and the apply", dryRuns, writes)
	}
	live := f.get("v1", "ConfigMap", f.ns, "settings")
	if data, _, _ := unstructured.NestedStringMap(live.Object, "data"); len(data) != 1 || data["a"] != "1" {
		t.Errorf("data = %v, want only a", data)
	}
	if _, ok := live.GetLabels()["tier"]; ok {
		t.Errorf("label tier kept: %v", live.GetLabels())
	}
	if _, ok := live.GetAnnotations()["note"]; ok {
		t.Errorf("annotation note kept: %v", live.GetAnnotations())
	}
}

// TestApplyFreshManagerStatusInTheManifest: a manifest's `status: {}` is ignored by the API
// server for a kind with a status subresource, which the check knows once a controller wrote
// the object's status there; until then, the object is dry-run.
func TestApplyFreshManagerStatusInTheManifest(t *testing.T) {
	f := setup(t)
	dep := generatedDeployment(f.ns, "web", true)
	mustApply(t, f.manager("app", Options{}), dep)
	dryRuns := func() int {
		t.Helper()
		f.count.take()
		if cs := mustApply(t, f.manager("app", Options{}), dep); cs.Entries[0].Action != Unchanged {
			t.Errorf("apply: %s, want unchanged", cs.Entries[0])
		}
		_, dryRuns, writes := f.count.take()
		if len(writes) != 0 {
			t.Errorf("writes %q", writes)
		}
		return dryRuns
	}
	if n := dryRuns(); n != 1 {
		t.Errorf("%d dry-runs before a status was written, want 1", n)
	}
	live := f.get("apps/v1", "Deployment", f.ns, "web")
	live.Object["status"] = map[string]any{"observedGeneration": int64(1)}
	if err := f.c.Status().Update(t.Context(), live, client.FieldOwner("kube-controller-manager")); err != nil {
		t.Fatal(err)
	}
	if n := dryRuns(); n != 0 {
		t.Errorf("%d dry-runs once the deployment controller wrote the status, want 0", n)
	}
}

// TestOwnedFieldsFallBack lists what the check does not decide: each case is dry-run, and the
// dry-run decides as it did before the check existed.
func TestOwnedFieldsFallBack(t *testing.T) {
	f := setup(t)
	group := f.ns + ".example.com"
	mustApply(t, f.manager("app", Options{}), crd(group, "Widget", "Namespaced"))
	deployment := func(cpu any) *unstructured.Unstructured {
		u := workload(f.ns)[0].DeepCopy()
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		containers[0].(map[string]any)["resources"] = map[string]any{"limits": map[string]any{"cpu": cpu}}
		_ = unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
		return u
	}
	for _, c := range []struct {
		name    string
		applied *unstructured.Unstructured // by a first Manager
		before  func(t *testing.T)         // after the first apply, before the check
		desired *unstructured.Unstructured // by a fresh one
		why     string                     // in the check's reason
		action  Action                     // the dry-run's answer; "" for its error
	}{{
		name:    "a key added to the manifest",
		applied: configMap(f.ns, "added", map[string]any{"a": "1"}),
		desired: configMap(f.ns, "added", map[string]any{"a": "1", "b": "2"}),
		why:     "fields are not those", action: Configured,
	}, {
		name:    "a value changed in the manifest",
		applied: configMap(f.ns, "changed", map[string]any{"a": "1"}),
		desired: configMap(f.ns, "changed", map[string]any{"a": "2"}),
		why:     "values differ", action: Configured,
	}, {
		name:    "a quantity the API server writes otherwise",
		applied: deployment(int64(1)),
		desired: deployment(int64(1)),
		why:     "values differ", action: Unchanged,
	}, {
		name:    "a field another manager applied with the same value",
		applied: configMap(f.ns, "shared", map[string]any{"a": "1"}),
		before: func(t *testing.T) {
			u := configMap(f.ns, "shared", map[string]any{"a": "1"})
			if err := f.c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("someone-else")); err != nil {
				t.Fatal(err)
			}
		},
		desired: configMap(f.ns, "shared", map[string]any{"a": "1"}),
		why:     "another manager owns", action: Unchanged,
	}, {
		name:    "a status in the manifest, and none written to the status subresource",
		applied: generatedDeployment(f.ns, "status", true),
		desired: generatedDeployment(f.ns, "status", true),
		why:     "fields are not those", action: Unchanged,
	}, {
		name:    "an object created by an update",
		applied: nil,
		before: func(t *testing.T) {
			u := configMap(f.ns, "created", map[string]any{"a": "1"})
			u.SetLabels(map[string]string{NameLabel: "app", NamespaceLabel: f.ns})
			if err := f.c.Create(t.Context(), u, client.FieldOwner("kubectl-create")); err != nil {
				t.Fatal(err)
			}
		},
		desired: configMap(f.ns, "created", map[string]any{"a": "1"}),
		why:     "no apply entry", action: Unchanged,
	}, {
		name:    "a field the schema does not know",
		applied: configMap(f.ns, "unknown", map[string]any{"a": "1"}),
		desired: func() *unstructured.Unstructured {
			u := configMap(f.ns, "unknown", map[string]any{"a": "1"})
			u.Object["color"] = "blue"
			return u
		}(),
		why: "does not parse", action: "", // as before: the dry-run's error names the field
	}, {
		name:    "a custom resource with a list",
		applied: object(group+"/v1", "Widget", f.ns, "listed", map[string]any{"spec": map[string]any{"tags": []any{"a"}}}),
		desired: object(group+"/v1", "Widget", f.ns, "listed", map[string]any{"spec": map[string]any{"tags": []any{"a"}}}),
		why:     "a list at .spec.tags", action: Unchanged,
	}, {
		name:    "a custom resource with an empty map",
		applied: object(group+"/v1", "Widget", f.ns, "empty", map[string]any{"spec": map[string]any{}}),
		desired: object(group+"/v1", "Widget", f.ns, "empty", map[string]any{"spec": map[string]any{}}),
		why:     "an empty map at .spec", action: Unchanged,
	}, {
		name:    "metadata the API server writes, in the manifest",
		applied: configMap(f.ns, "uid", map[string]any{"a": "1"}),
		desired: func() *unstructured.Unstructured {
			u := configMap(f.ns, "uid", map[string]any{"a": "1"})
			u.SetGeneration(1)
			return u
		}(),
		why: "metadata.generation", action: Unchanged,
	}} {
		t.Run(c.name, func(t *testing.T) {
			if c.applied != nil {
				mustApply(t, f.manager("app", Options{}), c.applied)
			}
			if c.before != nil {
				c.before(t)
			}
			desired, err := f.manager("app", Options{}).desired([]*unstructured.Unstructured{c.desired})
			if err != nil {
				t.Fatal(err)
			}
			d := desired[0]
			live := f.get(d.GetAPIVersion(), d.GetKind(), d.GetNamespace(), d.GetName())
			if ok, why := ownedFieldsCurrent(d, live); ok || !strings.Contains(why, c.why) {
				t.Errorf("check: %v, %q; want false, %q", ok, why, c.why)
			}
			f.count.take()
			cs, err := f.manager("app", Options{Cache: NewCache()}).Apply(bounded(t), []*unstructured.Unstructured{c.desired})
			_, dryRuns, writes := f.count.take()
			switch {
			case c.action == "" && err == nil:
				t.Errorf("apply: %s, want the dry-run's error", cs.Entries[0].Action)
			case c.action == "":
			case err != nil:
				t.Fatal(err)
			case cs.Entries[0].Action != c.action:
				t.Errorf("apply: %s, want %s", cs.Entries[0].Action, c.action)
			}
			if wantWrites := map[Action]int{Configured: 1}[c.action]; dryRuns != 1 || len(writes) != wantWrites {
				t.Errorf("%d dry-runs and writes %q, want 1 dry-run and %d writes", dryRuns, writes, wantWrites)
			}
		})
	}
}
