package setup

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/azimuth-gitops/azimuth/internal/kustomize"
)

// render builds the overlay on a copy of the repository's config/ and returns the controller's
// Deployment and ServiceAccount.
func render(t *testing.T, overlay string) (deploy, sa *unstructured.Unstructured) {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "config"), os.DirFS("../../config")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "overlay"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "overlay", "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := kustomize.Build(root, "overlay", kustomize.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, overlay)
	}
	for _, o := range objs {
		if o.GetName() == ControllerName && o.GetKind() == "Deployment" {
			deploy = o
		}
		if o.GetName() == ControllerName && o.GetKind() == "ServiceAccount" {
			sa = o
		}
	}
	if deploy == nil || sa == nil {
		t.Fatal("the build has no controller Deployment or ServiceAccount")
	}
	return deploy, sa
}

func container(t *testing.T, deploy *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1 (the patch must merge into the manager)", len(cs))
	}
	return cs[0].(map[string]any)
}

func env(t *testing.T, deploy *unstructured.Unstructured) map[string]string {
	t.Helper()
	vars := map[string]string{}
	list, _, _ := unstructured.NestedSlice(container(t, deploy), "env")
	for _, v := range list {
		m := v.(map[string]any)
		value, _ := m["value"].(string)
		if _, ok := m["valueFrom"]; ok {
			value = "valueFrom"
		}
		vars[m["name"].(string)] = value
	}
	return vars
}

func volume(t *testing.T, deploy *unstructured.Unstructured, name string) map[string]any {
	t.Helper()
	vols, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "volumes")
	for _, v := range vols {
		if v.(map[string]any)["name"] == name {
			return v.(map[string]any)
		}
	}
	t.Fatalf("no volume %s", name)
	return nil
}

func mountPath(t *testing.T, deploy *unstructured.Unstructured, name string) string {
	t.Helper()
	mounts, _, _ := unstructured.NestedSlice(container(t, deploy), "volumeMounts")
	for _, m := range mounts {
		if m.(map[string]any)["name"] == name {
			return m.(map[string]any)["mountPath"].(string)
		}
	}
	t.Fatalf("no mount of %s", name)
	return ""
}

// baseGates is how often config/ itself passes the gate: an overlay without patches.
func baseGates(t *testing.T) int {
	t.Helper()
	deploy, _ := render(t, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../config\n")
	return gates(t, deploy)
}

func gates(t *testing.T, deploy *unstructured.Unstructured) int {
	args, _, _ := unstructured.NestedStringSlice(container(t, deploy), "args")
	n := 0
	for _, a := range args {
		if a == "--feature-gates=ObjectLevelWorkloadIdentity=true" {
			n++
		}
	}
	return n
}

func TestControllerAKS(t *testing.T) {
	overlay, err := Controller(ControllerSpec{Cluster: AKS, ClientID: testClient, TenantID: tenant})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "controller-aks.yaml", overlay)
	deploy, sa := render(t, overlay)
	if a := sa.GetAnnotations(); a[ClientIDAnnotation] != testClient || a[TenantIDAnnotation] != tenant {
		t.Errorf("service account annotations: %v", a)
	}
	labels, _, _ := unstructured.NestedStringMap(deploy.Object, "spec", "template", "metadata", "labels")
	if labels["azure.workload.identity/use"] != "true" || labels["app"] != "azimuth-controller" {
		t.Errorf("pod labels: %v", labels)
	}
	if n, base := gates(t, deploy), baseGates(t); n != base {
		t.Errorf("the feature gate is passed %d times, want config/'s %d", n, base)
	}
}

func TestControllerOther(t *testing.T) {
	overlay, err := Controller(ControllerSpec{Cluster: Other, ClientID: testClient, TenantID: tenant, Cloud: "usgov"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "controller-other.yaml", overlay)
	deploy, _ := render(t, overlay)
	want := map[string]string{"AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": testClient, "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us/", "AZURE_FEDERATED_TOKEN_FILE": TokenPath}
	got := env(t, deploy)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("env %s = %q, want %q (env %v)", k, got[k], v, got)
		}
	}
	src, _, _ := unstructured.NestedSlice(volume(t, deploy, "azure-token"), "projected", "sources")
	tok := src[0].(map[string]any)["serviceAccountToken"].(map[string]any)
	if tok["audience"] != ExchangeAudience || tok["path"] != "azure-token" {
		t.Errorf("projected token: %v", tok)
	}
	if p := mountPath(t, deploy, "azure-token"); p+"/azure-token" != TokenPath {
		t.Errorf("token mounted at %s", p)
	}
	mountPath(t, deploy, "data") // the existing mount is kept
}

func TestControllerAppCertificate(t *testing.T) {
	overlay, err := Controller(ControllerSpec{Cluster: AppCertificate, ClientID: testClient, TenantID: tenant, CertificateSecret: "app-cert",
		CertificatePassword: true, SendCertificateChain: true, FeatureGate: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "controller-app-certificate.yaml", overlay)
	deploy, _ := render(t, overlay)
	got := env(t, deploy)
	for k, v := range map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": CertificatePath, "AZURE_CLIENT_CERTIFICATE_PASSWORD": "valueFrom", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": "true", "AZURE_CLIENT_ID": testClient} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if name, _, _ := unstructured.NestedString(volume(t, deploy, "app-cert"), "secret", "secretName"); name != "app-cert" {
		t.Errorf("certificate volume from %q", name)
	}
	if p := mountPath(t, deploy, "app-cert"); p != CertificatePath {
		t.Errorf("certificate mounted at %s", p)
	}
	if n, base := gates(t, deploy), baseGates(t); n != base+1 {
		t.Errorf("--feature-gate: the gate is passed %d times, want config/'s %d and the patch's", n, base)
	}
}

func TestControllerErrors(t *testing.T) {
	for _, c := range []ControllerSpec{
		{Cluster: "eks", ClientID: testClient, TenantID: tenant},
		{Cluster: AKS, ClientID: "x", TenantID: tenant},
		{Cluster: Other, ClientID: testClient, TenantID: tenant, Cloud: "mars"},
	} {
		if _, err := Controller(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
