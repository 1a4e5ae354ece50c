package apply

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestInventoryIDs(t *testing.T) {
	for _, tc := range []struct {
		obj     *unstructured.Unstructured
		id      string
		subject string
	}{
		{configMap("default", "cm1", nil), "default_cm1__ConfigMap", "ConfigMap/default/cm1"},
		{object("apps/v1", "Deployment", "prod", "web", nil), "prod_web_apps_Deployment", "Deployment/prod/web"},
		{object("v1", "Namespace", "", "prod", nil), "_prod__Namespace", "Namespace/prod"},
		{object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:view", nil),
			"_system__view_rbac.authorization.k8s.io_ClusterRole", "ClusterRole/system:view"},
		{object("example.com/v1", "Thing", "ns", "a:b", nil), "ns_a:b_example.com_Thing", "Thing/ns/a:b"},
	} {
		inv := InventoryOf([]*unstructured.Unstructured{tc.obj})
		if inv[0].ID != tc.id || inv[0].Version != tc.obj.GroupVersionKind().Version {
			t.Errorf("InventoryOf(%s) = %+v, want ID %q", tc.subject, inv[0], tc.id)
		}
		id, err := ParseID(tc.id)
		if err != nil {
			t.Errorf("ParseID(%q): %v", tc.id, err)
			continue
		}
		if id != MetadataOf(tc.obj) || id.String() != tc.subject {
			t.Errorf("ParseID(%q) = %+v (%s), want %+v (%s)", tc.id, id, id, MetadataOf(tc.obj), tc.subject)
		}
	}
}

func TestParseIDRefuses(t *testing.T) {
	for _, id := range []string{
		"", "default", "default_cm1", "default_cm1_ConfigMap_", "_cm1__", "default___ConfigMap",
		"ns_a_b__ConfigMap", // a name cannot hold "_"
	} {
		if got, err := ParseID(id); err == nil {
			t.Errorf("ParseID(%q) = %+v, want an error", id, got)
		}
	}
}

// FuzzParseID checks that ParseID never panics, and that what it accepts reads back the same
// from its ID: an inventory written by ID is read by ParseID, reconcile after reconcile.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"default_cm1__ConfigMap", "_prod__Namespace", "_system__view_rbac.authorization.k8s.io_ClusterRole",
		"ns_a:b_example.com_Thing", "___", "a_b_c_d_e", "ns_____K", "ns_\xff_g_K",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		if id.Name == "" || id.Kind == "" || strings.Contains(id.Name, "_") {
			t.Fatalf("ParseID(%q) accepted %+v", s, id)
		}
		again, err := ParseID(id.ID())
		if err != nil || again != id {
			t.Fatalf("ParseID(%q) = %+v; its ID %q reads back as %+v, %v", s, id, id.ID(), again, err)
		}
	})
}
