package install

import (
	"slices"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// can asks the API server whether the controller installed in ns may do verb on resource.
func can(t *testing.T, f *fixture, ns string, attrs authorizationv1.ResourceAttributes) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + ns + ":" + ControllerName,
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &attrs,
	}}
	if err := f.c.Create(t.Context(), sar); err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// grantsEverything reports whether the rendered ClusterRole has a rule for every verb on every
// resource: internal/manager's kubebuilder marker groups=*,resources=*,verbs=*, which makes
// the multi-tenancy lockdown moot.
func grantsEverything(objs []*unstructured.Unstructured) bool {
	for _, u := range objs {
		if u.GetKind() != "ClusterRole" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(u.Object, "rules")
		for _, r := range rules {
			r, _ := r.(map[string]any)
			groups, _, _ := unstructured.NestedStringSlice(r, "apiGroups")
			resources, _, _ := unstructured.NestedStringSlice(r, "resources")
			if slices.Contains(groups, "*") && slices.Contains(resources, "*") {
				return true
			}
		}
	}
	return false
}

// TestRBAC installs config/ and config/ with multi-tenancy, and asks the API server what the
// controller may do: what its reconcilers need in both; cluster-admin only without the lockdown.
func TestRBAC(t *testing.T) {
	f := newFixture(t)
	open, locked := uniqueNamespace("rbac-"), uniqueNamespace("rbac-mt-")
	for ns, components := range map[string][]string{open: nil, locked: {"multi-tenancy"}} {
		if _, err := Install(bounded(t), f.c, render(t, Options{Namespace: ns, Components: components}), nil); err != nil {
			t.Fatal(err)
		}
	}
	needed := []authorizationv1.ResourceAttributes{
		{Verb: "list", Group: "kustomize.toolkit.fluxcd.io", Resource: "kustomizations"},
		{Verb: "watch", Group: "source.toolkit.fluxcd.io", Resource: "ocirepositories"},
		{Verb: "patch", Group: "source.toolkit.fluxcd.io", Resource: "gitrepositories", Subresource: "status", Namespace: "team-a"},
		{Verb: "update", Group: "image.toolkit.fluxcd.io", Resource: "imagerepositories", Subresource: "finalizers", Namespace: "team-a"},
		{Verb: "get", Resource: "secrets", Namespace: "team-a"},
		{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: "team-a"},
		{Verb: "impersonate", Resource: "serviceaccounts", Namespace: "team-a"},
		{Verb: "create", Group: "events.k8s.io", Resource: "events", Namespace: "team-a"},
		{Verb: "list", Group: "notification.toolkit.fluxcd.io", Resource: "alerts"},
	}
	deployInTeam := authorizationv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments", Namespace: "team-a"}
	for _, ns := range []string{open, locked} {
		for _, a := range needed {
			if !can(t, f, ns, a) {
				t.Errorf("%s: the controller may not %s %s/%s %s in %q", ns, a.Verb, a.Group, a.Resource, a.Subresource, a.Namespace)
			}
		}
		lease := authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: ns}
		if !can(t, f, ns, lease) {
			t.Errorf("%s: the controller may not update its leader election Lease", ns)
		}
	}
	if !can(t, f, open, deployInTeam) {
		t.Error("without multi-tenancy the controller is not cluster-admin: Kustomizations without a service account cannot apply")
	}
	t.Run("lockdown", func(t *testing.T) {
		if grantsEverything(render(t, Options{})) {
			t.Skip("config/rbac/role.yaml grants every verb on every resource (the +kubebuilder:rbac:groups=*,resources=*,verbs=* marker of internal/manager/rbac.go): remove it and run make generate")
		}
		if can(t, f, locked, deployInTeam) {
			t.Error("with multi-tenancy the controller may still create Deployments in any namespace")
		}
		if can(t, f, locked, authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "team-a"}) {
			t.Error("the controller may update Leases outside its namespace")
		}
	})
}
