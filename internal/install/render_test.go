package install

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	testClientID = "11111111-2222-3333-4444-555555555555"
	testTenantID = "66666666-7777-8888-9999-000000000000"
)

// render renders opts, failing t on error.
func render(t testing.TB, opts Options) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Render(opts)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// find returns the object of kind and name among objs, nil when absent.
func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	return lookup(objs, kind, name)
}

// deployment is the controller's Deployment among objs, typed.
func deployment(t testing.TB, objs []*unstructured.Unstructured) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	u := find(objs, "Deployment", ControllerName)
	if u == nil {
		t.Fatal("no Deployment azimuth-controller rendered")
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		t.Fatal(err)
	}
	return &d, &d.Spec.Template.Spec.Containers[0]
}

func envOf(c *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func TestRenderBase(t *testing.T) {
	objs := render(t, Options{})
	var crds []string
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, u.GetName())
		}
		if u.GetLabels()[PartOfLabel] != PartOf {
			t.Errorf("%s/%s lacks %s: %s", u.GetKind(), u.GetName(), PartOfLabel, PartOf)
		}
	}
	if len(crds) != 9 {
		t.Errorf("CRDs rendered: %v, want the 9 of config/crd/bases", crds)
	}
	if ns := find(objs, "Namespace", DefaultNamespace); ns == nil {
		t.Error("no Namespace flux-system")
	}
	d, c := deployment(t, objs)
	if c.Image != Image+":latest" {
		t.Errorf("image %q", c.Image)
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--feature-gates") }) {
		t.Errorf("the base turns a feature gate on: %v", c.Args)
	}
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*sc.RunAsNonRoot || *sc.RunAsUser != 65532 ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v", sc)
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Error("probes or resources missing")
	}
	var mounts []string
	for _, m := range c.VolumeMounts {
		mounts = append(mounts, m.MountPath)
	}
	if !slices.Equal(mounts, []string{"/data", "/tmp"}) {
		t.Errorf("mounts %v, want /data and /tmp", mounts)
	}
	if d.Spec.Template.Spec.ServiceAccountName != ControllerName {
		t.Errorf("service account %q", d.Spec.Template.Spec.ServiceAccountName)
	}
	if find(objs, "ClusterRoleBinding", "azimuth-cluster-reconciler-flux-system") == nil {
		t.Error("no cluster-reconciler binding")
	}
	for _, np := range []string{"azimuth-allow-egress", "azimuth-allow-scraping"} {
		if find(objs, "NetworkPolicy", np) == nil {
			t.Errorf("no NetworkPolicy %s", np)
		}
	}
}

func TestRenderNamespaceAndImage(t *testing.T) {
	objs := render(t, Options{Namespace: "gitops", Image: "myreg.azurecr.io/azimuth:v1.2.3"})
	for _, u := range objs {
		if ns := u.GetNamespace(); ns != "" && ns != "gitops" {
			t.Errorf("%s/%s in namespace %s", u.GetKind(), u.GetName(), ns)
		}
		if strings.Contains(u.GetName(), DefaultNamespace) {
			t.Errorf("%s %s still names flux-system", u.GetKind(), u.GetName())
		}
	}
	crb := find(objs, "ClusterRoleBinding", "azimuth-controller-gitops")
	if crb == nil {
		t.Fatal("no ClusterRoleBinding azimuth-controller-gitops")
	}
	if ref, _, _ := unstructured.NestedString(crb.Object, "roleRef", "name"); ref != "azimuth-controller-gitops" || find(objs, "ClusterRole", ref) == nil {
		t.Errorf("roleRef %q", ref)
	}
	subjects, _, _ := unstructured.NestedSlice(crb.Object, "subjects")
	if ns := subjects[0].(map[string]any)["namespace"]; ns != "gitops" {
		t.Errorf("subject namespace %v", ns)
	}
	_, c := deployment(t, objs)
	if c.Image != "myreg.azurecr.io/azimuth:v1.2.3" {
		t.Errorf("image %q", c.Image)
	}
	digest := "myreg.azurecr.io/azimuth@sha256:" + strings.Repeat("ab", 32)
	_, c = deployment(t, render(t, Options{Image: digest}))
	if c.Image != digest {
		t.Errorf("image %q, want %q", c.Image, digest)
	}
}

// TestRenderComponents checks that each component does what its comment says.
func TestRenderComponents(t *testing.T) {
	ids := func(o Options) Options { o.ClientID, o.TenantID = testClientID, testTenantID; return o }
	tests := []struct {
		component string
		check     func(t *testing.T, objs []*unstructured.Unstructured)
	}{
		{"workload-identity", func(t *testing.T, objs []*unstructured.Unstructured) {
			_, c := deployment(t, objs)
			if !slices.Contains(c.Args, "--feature-gates=ObjectLevelWorkloadIdentity=true") {
				t.Errorf("args %v", c.Args)
			}
		}},
		{"multi-tenancy", func(t *testing.T, objs []*unstructured.Unstructured) {
			_, c := deployment(t, objs)
			if !slices.Contains(c.Args, "--no-cross-namespace-refs=true") || !slices.Contains(c.Args, "--default-service-account=default") {
				t.Errorf("args %v", c.Args)
			}
			if find(objs, "ClusterRoleBinding", "azimuth-cluster-reconciler-flux-system") != nil {
				t.Error("the cluster-admin binding is still there")
			}
			if find(objs, "ClusterRoleBinding", "azimuth-controller-flux-system") == nil {
				t.Error("the controller's own binding went too")
			}
		}},
		{"aks-workload-identity", func(t *testing.T, objs []*unstructured.Unstructured) {
			sa := find(objs, "ServiceAccount", ControllerName)
			a := sa.GetAnnotations()
			if a["azure.workload.identity/client-id"] != testClientID || a["azure.workload.identity/tenant-id"] != testTenantID {
				t.Errorf("service account annotations %v", a)
			}
			d, c := deployment(t, objs)
			if d.Spec.Template.Labels["azure.workload.identity/use"] != "true" || d.Spec.Template.Labels["app"] != ControllerName {
				t.Errorf("pod labels %v", d.Spec.Template.Labels)
			}
			if len(c.Env) != 3 {
				t.Errorf("env %v: the webhook injects Azure's, the component adds none", c.Env)
			}
		}},
		{"projected-token", func(t *testing.T, objs []*unstructured.Unstructured) {
			d, c := deployment(t, objs)
			env := envOf(c)
			want := map[string]string{"AZURE_CLIENT_ID": testClientID, "AZURE_TENANT_ID": testTenantID,
				"AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com/", "AZURE_FEDERATED_TOKEN_FILE": "/var/run/service-account/azure-token"}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
			if env["RUNTIME_NAMESPACE"] != "" || len(c.Env) != 7 {
				t.Errorf("env %v: the base's must stay", c.Env)
			}
			var token *corev1.ServiceAccountTokenProjection
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Projected != nil {
					token = v.Projected.Sources[0].ServiceAccountToken
				}
			}
			if token == nil || token.Audience != "api://AzureADTokenExchange" || token.Path != "azure-token" {
				t.Errorf("projected token %+v", token)
			}
			if len(c.VolumeMounts) != 3 {
				t.Errorf("mounts %v", c.VolumeMounts)
			}
		}},
		{"app-certificate", func(t *testing.T, objs []*unstructured.Unstructured) {
			d, c := deployment(t, objs)
			env := envOf(c)
			if env["AZURE_CLIENT_CERTIFICATE_PATH"] != "/var/run/app-cert/cert-and-key" || env["AZURE_CLIENT_ID"] != testClientID || env["AZURE_TENANT_ID"] != testTenantID {
				t.Errorf("env %v", env)
			}
			var secret string
			for _, v := range d.Spec.Template.Spec.Volumes {
				if v.Secret != nil {
					secret = v.Secret.SecretName
				}
			}
			if secret != "azimuth-app-certificate" {
				t.Errorf("secret volume %q", secret)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			o := Options{Components: []string{tt.component}}
			if slices.Contains(identityComponents, tt.component) {
				o = ids(o)
			}
			objs := render(t, o)
			for _, u := range objs {
				if data, _ := Export([]*unstructured.Unstructured{u}); strings.Contains(string(data), "<client-id>") || strings.Contains(string(data), "<tenant-id>") {
					t.Errorf("%s/%s keeps a placeholder", u.GetKind(), u.GetName())
				}
			}
			tt.check(t, objs)
		})
	}
	if got := Components(); len(got) != len(tests) {
		t.Errorf("Components() = %v, and this test covers %d", got, len(tests))
	}
}

// TestRenderShards: each shard is a copy of the controller's Deployment and of the artifact
// server's Service under the shard's name, selecting the shard's objects and advertising its own
// Service; the main controller takes the objects without a shard label.
func TestRenderShards(t *testing.T) {
	objs := render(t, Options{Namespace: "gitops", Shards: []string{"shard1", "shard2"}})
	args := func(name string) []string {
		u := find(objs, "Deployment", name)
		if u == nil {
			t.Fatalf("no Deployment %s", name)
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
			t.Fatal(err)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if d.Spec.Selector.MatchLabels["app"] != name || d.Spec.Template.Labels["app"] != name {
			t.Errorf("%s selects pods %v labelled %v", name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		if d.Spec.Template.Spec.SecurityContext == nil || d.Spec.Template.Spec.SecurityContext.RunAsNonRoot == nil {
			t.Errorf("%s lost the pod's security context", name)
		}
		return c.Args
	}
	main := args(ControllerName)
	if !slices.Contains(main, "--watch-label-selector=!sharding.fluxcd.io/key") ||
		!slices.Contains(main, "--storage-adv-addr=azimuth.$(RUNTIME_NAMESPACE).svc.cluster.local") {
		t.Errorf("main controller args %v", main)
	}
	for _, s := range []string{"shard1", "shard2"} {
		a := args(ControllerName + "-" + s)
		if !slices.Contains(a, "--watch-label-selector=sharding.fluxcd.io/key in ("+s+")") ||
			!slices.Contains(a, "--storage-adv-addr=azimuth-"+s+".$(RUNTIME_NAMESPACE).svc.cluster.local") ||
			!slices.Contains(a, "--enable-leader-election") {
			t.Errorf("%s args %v", s, a)
		}
		svc := find(objs, "Service", "azimuth-"+s)
		if svc == nil {
			t.Fatalf("no Service azimuth-%s", s)
		}
		if sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector"); sel["app"] != ControllerName+"-"+s || len(sel) != 1 {
			t.Errorf("Service azimuth-%s selects %v", s, sel)
		}
		if svc.GetNamespace() != "gitops" || svc.GetLabels()[PartOfLabel] != PartOf {
			t.Errorf("Service azimuth-%s: namespace %s, labels %v", s, svc.GetNamespace(), svc.GetLabels())
		}
	}
	if sel, _, _ := unstructured.NestedStringMap(find(objs, "Service", "azimuth").Object, "spec", "selector"); sel["app"] != ControllerName {
		t.Errorf("the main Service selects %v", sel)
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"namespace", Options{Namespace: "Flux_System"}, "--namespace"},
		{"component", Options{Components: []string{"aks"}}, "unknown component"},
		{"twice", Options{Components: []string{"multi-tenancy", "multi-tenancy"}}, "twice"},
		{"two identities", Options{Components: []string{"projected-token", "app-certificate"}, ClientID: testClientID, TenantID: testTenantID}, "choose one"},
		{"no ids", Options{Components: []string{"projected-token"}}, "--client-id"},
		{"bad id", Options{Components: []string{"aks-workload-identity"}, ClientID: "me", TenantID: testTenantID}, "GUIDs"},
		{"ids alone", Options{ClientID: testClientID, TenantID: testTenantID}, "add one to --components"},
		{"image without tag", Options{Image: "myreg.azurecr.io/azimuth"}, "--image"},
		{"image garbage", Options{Image: "UPPER/case:tag"}, "--image"},
		{"shard name", Options{Shards: []string{"Shard_1"}}, "cannot name a shard"},
		{"long shard name", Options{Shards: []string{strings.Repeat("s", 50)}}, "cannot name a shard"},
		{"shard twice", Options{Shards: []string{"a", "a"}}, "names a twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render(%+v) = %v, want an error with %q", tt.opts, err, tt.want)
			}
		})
	}
}

// BenchmarkRender measures a render of config/ with two components: what `azimuth install`
// and `uninstall` pay before they reach the cluster.
func BenchmarkRender(b *testing.B) {
	for b.Loop() {
		if _, err := Render(Options{Namespace: "gitops", Components: []string{"workload-identity", "multi-tenancy"}}); err != nil {
			b.Fatal(err)
		}
	}
}
