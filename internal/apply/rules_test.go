package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestChangeSetString(t *testing.T) {
	cs := &ChangeSet{}
	cs.add(ObjMetadata{Name: "prod", Kind: "Namespace"}, Created)
	cs.add(ObjMetadata{Namespace: "prod", Name: "a", Kind: "ConfigMap"}, Unchanged)
	cs.add(ObjMetadata{Namespace: "prod", Name: "b", Kind: "ConfigMap"}, Skipped)
	cs.add(ObjMetadata{Namespace: "prod", Name: "web", Group: "apps", Kind: "Deployment"}, Configured)
	cs.add(ObjMetadata{Namespace: "prod", Name: "old", Kind: "Secret"}, Deleted)
	want := "Namespace/prod created\nDeployment/prod/web configured\nSecret/prod/old deleted"
	if got := cs.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (*ChangeSet)(nil).String(); got != "" {
		t.Errorf("nil change set: %q", got)
	}
}

func TestStages(t *testing.T) {
	objs := []*unstructured.Unstructured{
		object("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", "hook", nil),
		object("example.com/v1", "Widget", "ns", "w", nil),
		object("apps/v1", "Deployment", "ns", "web", nil),
		configMap("ns", "b", nil),
		configMap("ns", "a", nil),
		object("storage.k8s.io/v1", "StorageClass", "", "fast", nil),
		object("networking.k8s.io/v1", "IngressClass", "", "nginx", nil),
		object("rbac.authorization.k8s.io/v1", "ClusterRole", "", "view", nil),
		object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com", nil),
		object("v1", "Namespace", "", "ns", nil),
	}
	var got [stages][]string
	for s, batch := range byStage(objs) {
		for _, u := range batch {
			got[s] = append(got[s], MetadataOf(u).String())
		}
	}
	want := [stages][]string{
		{"Namespace/ns", "CustomResourceDefinition/widgets.example.com"},
		{"StorageClass/fast", "IngressClass/nginx"},
		{"ClusterRole/view", "ConfigMap/ns/a", "ConfigMap/ns/b", "Deployment/ns/web", "Widget/ns/w", "ValidatingWebhookConfiguration/hook"},
	}
	for s := range want {
		if !slices.Equal(got[s], want[s]) {
			t.Errorf("stage %d: got %q, want %q", s, got[s], want[s])
		}
	}

	ids := []ObjMetadata{
		{Name: "ns", Kind: "Namespace"},
		{Namespace: "ns", Name: "w", Group: "example.com", Kind: "Widget"},
		{Name: "widgets.example.com", Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"},
		{Namespace: "ns", Name: "a", Kind: "ConfigMap"},
	}
	pruneOrder(ids)
	var order []string
	for _, id := range ids {
		order = append(order, id.String())
	}
	if want := []string{"Widget/ns/w", "ConfigMap/ns/a", "CustomResourceDefinition/widgets.example.com", "Namespace/ns"}; !slices.Equal(order, want) {
		t.Errorf("prune order %q, want %q", order, want)
	}
}

func TestImmutableErrorNamesTheFields(t *testing.T) {
	template := `{"labels":{"job-name":"migrate"},"spec":{"containers":[` + strings.Repeat(`{"name":"m"},`, 300) + `]}}`
	err := immutableError(apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, "migrate", field.ErrorList{
		field.Invalid(field.NewPath("spec", "template"), template, "field is immutable"),
		field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests\n  diff..."),
	}))
	want := "the change touches immutable fields (spec.template: field is immutable; spec: spec is immutable after creation except resources.requests): " +
		"set spec.force: true on the Kustomization, or annotate the object kustomize.toolkit.fluxcd.io/force: Enabled, to have it deleted and created anew"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if !apierrors.IsInvalid(err) {
		t.Error("the API server's error is not wrapped")
	}
}

func TestIsImmutable(t *testing.T) {
	gk := schema.GroupKind{Kind: "ConfigMap"}
	invalid := func(errs ...*field.Error) error { return apierrors.NewInvalid(gk, "cm", field.ErrorList(errs)) }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{invalid(field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set")), true},
		{invalid(field.Invalid(field.NewPath("spec", "selector"), "x", "field is immutable")), true},
		{invalid(field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas' are forbidden")), true},
		{invalid(field.Required(field.NewPath("spec", "containers"), "")), false},
		{apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "cm", nil), false},
		{apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "cm", nil), false},
	} {
		if got := isImmutable(tc.err); got != tc.want {
			t.Errorf("isImmutable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestObjectErrorsListAtMostTwenty(t *testing.T) {
	var errs []error
	for i := range 25 {
		errs = append(errs, &ObjectError{Object: ObjMetadata{Namespace: "ns", Name: fmt.Sprint("cm", i), Kind: "ConfigMap"},
			Err: apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, fmt.Sprint("cm", i), errors.New("no"))})
	}
	err := &objectErrors{summary: "apply: 25 of 30 objects failed", errs: errs, cause: context.DeadlineExceeded}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 22 || lines[0] != "apply: 25 of 30 objects failed (context deadline exceeded):" || lines[21] != "... and 5 more" {
		t.Errorf("got %d lines:\n%s", len(lines), err)
	}
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Object.Name != "cm0" || !apierrors.IsForbidden(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the errors are not reachable through %T", err)
	}
}
