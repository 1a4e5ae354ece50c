package apply

import (
	"errors"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// workload is a small application of the kinds whose dry-run answers have surprised appliers:
// defaulted fields, allocated ones (a Service's clusterIP), converted ones (a Secret's
// stringData), a cluster-scoped object and RBAC.
func workload(ns string) []*unstructured.Unstructured {
	labels := map[string]any{"app": "web"}
	return []*unstructured.Unstructured{
		object("apps/v1", "Deployment", ns, "web", map[string]any{"spec": map[string]any{
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "web", "image": "nginx:1.27", "ports": []any{map[string]any{"containerPort": int64(80)}},
				}}},
			},
		}}),
		object("v1", "Service", ns, "web", map[string]any{"spec": map[string]any{
			"selector": labels, "ports": []any{map[string]any{"port": int64(80)}},
		}}),
		configMap(ns, "settings", map[string]any{"mode": "fast"}),
		object("v1", "Secret", ns, "token", map[string]any{"stringData": map[string]any{"token": "s3cr3t"}}),
		object("v1", "ServiceAccount", ns, "web", nil),
		object("rbac.authorization.k8s.io/v1", "Role", ns, "web", map[string]any{"rules": []any{map[string]any{
			"apiGroups": []any{""}, "resources": []any{"configmaps"}, "verbs": []any{"get"},
		}}}),
		object("rbac.authorization.k8s.io/v1", "RoleBinding", ns, "web", map[string]any{
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "web"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "web", "namespace": ns}},
		}),
		object("rbac.authorization.k8s.io/v1", "ClusterRole", "", ns+":reader", map[string]any{"rules": []any{map[string]any{
			"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{"list"},
		}}}),
	}
}

func TestApplyCreatesThenWritesNothingWhenNothingChanged(t *testing.T) {
	f := setup(t)
	m := f.manager("app", Options{})
	objs := workload(f.ns)

	cs := mustApply(t, m, objs...)
	want := []string{
		"ClusterRole/" + f.ns + ":reader created", // kustomize's order: ServiceAccount, Role, ClusterRole, ...
		subject("ServiceAccount", f.ns, "web") + " created",
		subject("Role", f.ns, "web") + " created",
		subject("RoleBinding", f.ns, "web") + " created",
		subject("ConfigMap", f.ns, "settings") + " created",
		subject("Secret", f.ns, "token") + " created",
		subject("Service", f.ns, "web") + " created",
		subject("Deployment", f.ns, "web") + " created",
	}
	slices.Sort(want)
	got := actions(cs)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("first apply:\n got %q\nwant %q", got, want)
	}
	cm := f.get("v1", "ConfigMap", f.ns, "settings")
	if l := cm.GetLabels(); l[NameLabel] != "app" || l[NamespaceLabel] != f.ns {
		t.Errorf("owner labels = %v", l)
	}
	if owners := cm.GetManagedFields(); len(owners) != 1 || owners[0].Manager != FieldManager {
		t.Errorf("managed fields = %+v, want only %s", owners, FieldManager)
	}
	before := f.get("apps/v1", "Deployment", f.ns, "web").GetResourceVersion()
	f.count.take()

	cs = mustApply(t, m, objs...)
	_, dryRuns, writes := f.count.take()
	for _, c := range cs.Entries {
		if c.Action != Unchanged {
			t.Errorf("second apply: %s, want unchanged", c)
		}
	}
	if len(writes) != 0 {
		t.Errorf("a no-change apply wrote: %q", writes)
	}
	if dryRuns > len(objs) {
		t.Errorf("a no-change apply made %d dry-runs for %d objects", dryRuns, len(objs))
	}
	if cs.String() != "" {
		t.Errorf("event text of a no-change apply = %q, want none", cs.String())
	}
	if after := f.get("apps/v1", "Deployment", f.ns, "web").GetResourceVersion(); after != before {
		t.Errorf("resourceVersion moved from %s to %s", before, after)
	}
}

func TestApplyCorrectsDrift(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(map[bool]string{false: "dry-run every time", true: "cache"}[cached], func(t *testing.T) {
			f := setup(t)
			opts := Options{}
			if cached {
				opts.Cache = NewCache()
			}
			m := f.manager("app", opts)
			cm := configMap(f.ns, "settings", map[string]any{"mode": "fast"})
			mustApply(t, m, cm)

			// Someone edits a field the manifest sets, and adds a label it does not.
			live := f.get("v1", "ConfigMap", f.ns, "settings")
			live.Object["data"] = map[string]any{"mode": "slow"}
			live.SetLabels(map[string]string{"team": "blue", NameLabel: "app", NamespaceLabel: f.ns})
			if err := f.c.Update(t.Context(), live, client.FieldOwner("kubectl-edit")); err != nil {
				t.Fatal(err)
			}

			cs := mustApply(t, m, cm)
			if got, want := cs.String(), subject("ConfigMap", f.ns, "settings")+" configured"; got != want {
				t.Errorf("apply after an edit: %q, want %q", got, want)
			}
			live = f.get("v1", "ConfigMap", f.ns, "settings")
			if mode, _, _ := unstructured.NestedString(live.Object, "data", "mode"); mode != "fast" {
				t.Errorf("data.mode = %q after apply, want the manifest's fast", mode)
			}
			if live.GetLabels()["team"] != "blue" {
				t.Errorf("the label another manager added is gone: %v", live.GetLabels())
			}

			f.count.take()
			if cs := mustApply(t, m, cm); cs.Entries[0].Action != Unchanged {
				t.Errorf("apply after the correction: %s", cs.Entries[0])
			}
			_, dryRuns, writes := f.count.take()
			if len(writes) != 0 {
				t.Errorf("writes %q", writes)
			}
			if cached && dryRuns != 0 {
				t.Errorf("%d dry-runs with the cache warm, want 0", dryRuns)
			}

			cm.Object["data"] = map[string]any{"mode": "faster"}
			if got, want := mustApply(t, m, cm).String(), subject("ConfigMap", f.ns, "settings")+" configured"; got != want {
				t.Errorf("apply of a changed manifest: %q, want %q", got, want)
			}
		})
	}
}

func TestApplySSAAnnotations(t *testing.T) {
	f := setup(t)
	m := f.manager("app", Options{})
	ignored := annotate(configMap(f.ns, "ignored", map[string]any{"k": "v"}), SSAAnnotation, Ignore)
	once := annotate(configMap(f.ns, "once", map[string]any{"k": "first"}), SSAAnnotation, IfNotPresent)
	handsOff := configMap(f.ns, "hands-off", map[string]any{"k": "first"})
	mustApply(t, m, ignored, once, handsOff)
	if f.get("v1", "ConfigMap", f.ns, "ignored") != nil {
		t.Error("an object annotated ssa: Ignore was created")
	}
	if f.get("v1", "ConfigMap", f.ns, "once") == nil {
		t.Fatal("an object annotated ssa: IfNotPresent was not created")
	}

	// The live object may carry the annotation too, set by whoever took it over.
	live := f.get("v1", "ConfigMap", f.ns, "hands-off")
	annotate(live, SSAAnnotation, "ignore") // Flux compares without regard to case
	if err := f.c.Update(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	once.Object["data"] = map[string]any{"k": "second"}
	handsOff.Object["data"] = map[string]any{"k": "second"}
	cs := mustApply(t, m, ignored, once, handsOff)

	want := []string{
		subject("ConfigMap", f.ns, "hands-off") + " skipped",
		subject("ConfigMap", f.ns, "ignored") + " skipped",
		subject("ConfigMap", f.ns, "once") + " skipped",
	}
	if got := actions(cs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, name := range []string{"once", "hands-off"} {
		u := f.get("v1", "ConfigMap", f.ns, name)
		if k, _, _ := unstructured.NestedString(u.Object, "data", "k"); k != "first" {
			t.Errorf("%s: data.k = %q, want it left at first", name, k)
		}
	}
	if cs.String() != "" {
		t.Errorf("skipped objects in the event text: %q", cs.String())
	}
}

func TestApplyImmutableChange(t *testing.T) {
	f := setup(t)
	immutable := func(name, value string) *unstructured.Unstructured {
		u := configMap(f.ns, name, map[string]any{"k": value})
		u.Object["immutable"] = true
		return u
	}
	mustApply(t, f.manager("app", Options{}), immutable("frozen", "1"), immutable("annotated", "1"))
	uid := f.get("v1", "ConfigMap", f.ns, "frozen").GetUID()

	_, err := f.manager("app", Options{}).Apply(bounded(t), []*unstructured.Unstructured{immutable("frozen", "2")})
	if err == nil {
		t.Fatal("an immutable change applied without force")
	}
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Object.String() != subject("ConfigMap", f.ns, "frozen") {
		t.Errorf("error does not name the object: %v", err)
	}
	for _, want := range []string{"data", "immutable", "spec.force", ForceAnnotation} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if u := f.get("v1", "ConfigMap", f.ns, "frozen"); u.GetUID() != uid {
		t.Error("refused, yet the object was recreated")
	}

	t.Run("spec.force", func(t *testing.T) {
		cs := mustApply(t, f.manager("app", Options{Force: true}), immutable("frozen", "2"))
		if got, want := cs.String(), subject("ConfigMap", f.ns, "frozen")+" created"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		u := f.get("v1", "ConfigMap", f.ns, "frozen")
		if k, _, _ := unstructured.NestedString(u.Object, "data", "k"); k != "2" || u.GetUID() == uid {
			t.Errorf("not recreated with the new data: data.k=%q, same UID %v", k, u.GetUID() == uid)
		}
	})
	t.Run("force annotation", func(t *testing.T) {
		u := annotate(immutable("annotated", "2"), ForceAnnotation, Enabled)
		cs := mustApply(t, f.manager("app", Options{}), u)
		if got, want := cs.String(), subject("ConfigMap", f.ns, "annotated")+" created"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestApplyCustomResourceWithItsDefinition(t *testing.T) {
	f := setup(t)
	group := f.ns + ".example.com"
	// The mapper has already been asked for the kind, and told there is none: a mapper that
	// remembered the answer would fail the custom resource below.
	if _, err := f.c.RESTMapper().RESTMapping(schema.GroupKind{Group: group, Kind: "Widget"}, "v1"); !meta.IsNoMatchError(err) {
		t.Fatalf("Widget mapped before its CRD exists: %v", err)
	}
	widget := object(group+"/v1", "Widget", f.ns, "w1", map[string]any{"spec": map[string]any{"size": int64(3)}})
	m := f.manager("app", Options{})
	cs := mustApply(t, m, widget, crd(group, "Widget", "Namespaced")) // the CR first: Apply orders them
	want := []string{
		"CustomResourceDefinition/widgets." + group + " created",
		subject("Widget", f.ns, "w1") + " created",
	}
	if got := actions(cs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if f.get(group+"/v1", "Widget", f.ns, "w1") == nil {
		t.Error("the custom resource does not exist")
	}
	if cs := mustApply(t, m, widget, crd(group, "Widget", "Namespaced")); cs.String() != "" {
		t.Errorf("second apply changed %q", cs.String())
	}
}

func TestApplyNamespaceWithItsObjects(t *testing.T) {
	f := setup(t)
	ns := f.ns + "-team"
	cs := mustApply(t, f.manager("app", Options{}),
		configMap(ns, "settings", map[string]any{"k": "v"}),
		object("v1", "Namespace", "", ns, nil))
	want := []string{"Namespace/" + ns + " created", subject("ConfigMap", ns, "settings") + " created"}
	if got := actions(cs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestApplyStopsAtTheFailingStage(t *testing.T) {
	f := setup(t)
	ns := f.ns + "-partial"
	cs, err := f.manager("app", Options{}).Apply(bounded(t), []*unstructured.Unstructured{
		object("v1", "Namespace", "", ns, nil),
		configMap(ns, "fine", map[string]any{"k": "v"}),
		object("gadgets.example.com/v1", "Gadget", ns, "g1", nil),
		object("v1", "ConfigMap", "", "nowhere", nil),
	})
	if err == nil {
		t.Fatal("applied a kind the cluster does not serve")
	}
	for _, want := range []string{
		subject("Gadget", ns, "g1") + ": the cluster serves no such kind",
		"CustomResourceDefinition is missing",
		"ConfigMap/nowhere: namespace not specified",
		"2 of 3 objects failed",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if got, want := actions(cs), []string{"Namespace/" + ns + " created"}; !slices.Equal(got, want) {
		t.Errorf("change set %q, want what the earlier stage did: %q", got, want)
	}
	if f.get("v1", "ConfigMap", ns, "fine") != nil {
		t.Error("an object of the failing stage was written")
	}
}

func TestApplyForbiddenForServiceAccountWithoutRBAC(t *testing.T) {
	f := setup(t)
	testenvServiceAccount(t, f, "deployer")
	user := "system:serviceaccount:" + f.ns + ":deployer"
	c := f.client(&rest.ImpersonationConfig{UserName: user})
	m := New(c, Owner{Name: "app", Namespace: f.ns}, Options{})
	_, err := m.Apply(bounded(t), []*unstructured.Unstructured{configMap(f.ns, "settings", map[string]any{"k": "v"})})
	if err == nil {
		t.Fatal("a service account without RBAC applied")
	}
	if !apierrors.IsForbidden(err) {
		t.Errorf("apierrors.IsForbidden is false for %v", err)
	}
	for _, want := range []string{subject("ConfigMap", f.ns, "settings"), user, "forbidden", "RBAC"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

func testenvServiceAccount(t *testing.T, f *fixture, name string) {
	t.Helper()
	sa := object("v1", "ServiceAccount", f.ns, name, nil)
	if err := f.c.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRefusesAnEmptyOwner(t *testing.T) {
	m := New(nil, Owner{Name: "app"}, Options{})
	if _, err := m.Apply(bounded(t), nil); err == nil {
		t.Error("Apply accepted an owner without a namespace")
	}
	if _, err := m.Prune(bounded(t), nil, nil); err == nil {
		t.Error("Prune accepted an owner without a namespace")
	}
}
