package install

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/internal/setup"
)

// dryRunCreate sends every object of objs to the API server as a create with dryRun=All,
// after creating the namespace for real (a namespaced object's create needs it) and
// installing the CRDs, which are shared with the other tests and may exist already. It fails
// t with each object the API server refuses, and on any warning (the namespace warns about the
// restricted Pod Security Standard, which the Deployment must meet).
func dryRunCreate(t *testing.T, f *fixture, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := bounded(t)
	for _, u := range objs {
		u := u.DeepCopy()
		var err error
		switch u.GetKind() {
		case "Namespace":
			if err = f.c.Create(ctx, u, client.DryRunAll); err == nil {
				err = client.IgnoreAlreadyExists(f.c.Create(ctx, u))
			}
		case "CustomResourceDefinition":
			if err = f.c.Create(ctx, u, client.DryRunAll); apierrors.IsAlreadyExists(err) {
				err = f.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("install-test"), client.ForceOwnership, client.DryRunAll)
			}
		default:
			err = f.c.Create(ctx, u, client.DryRunAll)
		}
		if err != nil {
			t.Errorf("%s/%s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	if w := f.warn.take(); len(w) > 0 {
		t.Errorf("the API server warned: %s", strings.Join(w, "; "))
	}
}

// TestDryRun sends config/, and config/ with each component, to the API server as dry-run
// creates.
func TestDryRun(t *testing.T) {
	f := newFixture(t)
	// The CRDs first, for real, as `make generate` wrote them.
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.env.InstallCRDsFS(bounded(t), bases); err != nil {
		t.Fatal(err)
	}
	cases := append([][]string{nil}, func() [][]string {
		var cs [][]string
		for _, c := range Components() {
			cs = append(cs, []string{c})
		}
		return cs
	}()...)
	cases = append(cases, []string{"multi-tenancy", "workload-identity", "projected-token"})
	for i, components := range cases {
		t.Run(strings.Join(append([]string{"base"}, components...), "+"), func(t *testing.T) {
			o := Options{Namespace: uniqueNamespace("dry-"), Components: components}
			if i == len(cases)-1 {
				o.Shards = []string{"shard1", "shard2"}
			}
			if slices.ContainsFunc(components, func(c string) bool { return slices.Contains(identityComponents, c) }) {
				o.ClientID, o.TenantID = testClientID, testTenantID
			}
			dryRunCreate(t, f, render(t, o))
		})
	}
}

// TestSetupControllerOverConfig checks that the overlays `azimuth setup controller` writes
// build over config/ and that what they build is accepted by the API server.
func TestSetupControllerOverConfig(t *testing.T) {
	f := newFixture(t)
	specs := []setup.ControllerSpec{
		{Cluster: setup.AKS},
		{Cluster: setup.Other, Cloud: "usgov"},
		{Cluster: setup.AppCertificate, CertificatePassword: true, SendCertificateChain: true, FeatureGate: true},
	}
	for _, spec := range specs {
		t.Run(string(spec.Cluster), func(t *testing.T) {
			spec.ClientID, spec.TenantID = testClientID, testTenantID
			overlay, err := setup.Controller(spec)
			if err != nil {
				t.Fatal(err)
			}
			ns := uniqueNamespace("setup-")
			objs := buildOverlay(t, overlay, ns)
			d, c := deployment(t, objs)
			if d.Namespace != ns || len(d.Spec.Template.Spec.Containers) != 1 || !slices.Contains(c.Args, "controller") {
				t.Fatalf("the overlay's Deployment: namespace %s, %d containers, args %v", d.Namespace, len(d.Spec.Template.Spec.Containers), c.Args)
			}
			if env := envOf(c); env["AZURE_CLIENT_ID"] == "" && spec.Cluster != setup.AKS {
				t.Errorf("env %v: the patch did not reach the manager container", env)
			}
			dryRunCreate(t, f, objs)
		})
	}
}

// buildOverlay builds overlay, written as /overlay/kustomization.yaml next to the embedded
// config/, in namespace ns as an install there would.
func buildOverlay(t *testing.T, overlay, ns string) []*unstructured.Unstructured {
	t.Helper()
	fsys, err := memFS()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + ns + "\nresources:\n  - ../overlay\n"
	for path, data := range map[string]string{"/overlay/kustomization.yaml": overlay, "/wrapper/kustomization.yaml": wrapper} {
		if err := fsys.WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := build(fsys, "/wrapper")
	if err != nil {
		t.Fatalf("%v\n%s", err, overlay)
	}
	renameClusterScoped(objs, ns)
	return objs
}
