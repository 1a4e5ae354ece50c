package install

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// TestControllerRunsUnderItsRBAC runs the manager as the service account config/ installs, with
// only the RBAC config/ gives it (and leader election in its namespace, as deployed): a
// GitRepository and a Kustomization applying it become Ready. With the multi-tenancy component
// the controller is not cluster-admin: a Kustomization naming no service account acts as its
// namespace's "default", which may not create the ConfigMap, and one naming a service account
// the tenant admin gave a Role over ConfigMaps applies.
func TestControllerRunsUnderItsRBAC(t *testing.T) {
	for _, tc := range []struct {
		name       string
		components []string
	}{{"base", nil}, {"multi-tenancy", []string{"multi-tenancy"}}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ns := uniqueNamespace("rbac-")
			if _, err := Install(bounded(t), f.c, render(t, Options{Namespace: ns, Components: tc.components}), nil); err != nil {
				t.Fatal(err)
			}
			tenant := uniqueNamespace("tenant-")
			kube := adminClient(t, f.env)
			create(t, kube, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}})
			repo := testenv.ServeGit(t, map[string]string{"deploy/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n"})

			opts := manager.Options{LeaderElection: true, LeaderElectionNamespace: ns}
			if tc.components != nil {
				opts.Identity.DefaultServiceAccount = "default"
				opts.Kustomize.NoCrossNamespaceRefs = true
			}
			runAs(t, f.env, "system:serviceaccount:"+ns+":"+ControllerName, opts)

			src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "fleet"},
				Spec: sourcev1.GitRepositorySpec{URL: repo, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, Interval: metav1.Duration{Duration: time.Hour}}}
			create(t, kube, src)
			waitCondition(t, kube, src, metav1.ConditionTrue)

			ks := kustomization(tenant, "apps", "")
			create(t, kube, ks)
			if tc.components == nil {
				waitCondition(t, kube, ks, metav1.ConditionTrue)
				return
			}
			waitCondition(t, kube, ks, metav1.ConditionFalse) // as tenant's "default": forbidden
			create(t, kube, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"}})
			// The test control plane runs no controller manager to fill the aggregated "edit" role.
			create(t, kube, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}}})
			create(t, kube, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "deployer"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deployer"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: tenant, Name: "deployer"}}})
			permitted := kustomization(tenant, "apps-deployer", "deployer")
			create(t, kube, permitted)
			waitCondition(t, kube, permitted, metav1.ConditionTrue)
		})
	}
}

func kustomization(ns, name, serviceAccount string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:          kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet"},
			Path:               "./deploy",
			TargetNamespace:    ns,
			Prune:              true,
			Interval:           metav1.Duration{Duration: time.Hour},
			ServiceAccountName: serviceAccount,
		}}
}

// adminClient is a client of the control plane as its administrator, with Azimuth's kinds.
func adminClient(t *testing.T, env *testenv.Env) client.Client {
	t.Helper()
	scheme, err := manager.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func create(t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	if err := c.Create(bounded(t), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// runAs starts a manager that reaches the API server as user (impersonation), until t ends.
func runAs(t *testing.T, env *testenv.Env, user string, opts manager.Options) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	opts.StoragePath, opts.StorageAddr = t.TempDir(), "127.0.0.1:0"
	opts.MetricsAddr, opts.HealthAddr = "0", "0"
	opts.Controllers = []string{"gitrepository", "kustomization"}
	opts.Identity.LookupEnv = func(string) (string, bool) { return "", false }
	m, err := manager.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// waitCondition waits until obj's Ready condition has status.
func waitCondition[T interface {
	client.Object
	GetConditions() []metav1.Condition
}](t *testing.T, c client.Client, obj T, status metav1.ConditionStatus) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		ready := apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition)
		if ready != nil && ready.Status == status && ready.ObservedGeneration == obj.GetGeneration() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s/%s: Ready is %+v, want %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), ready, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
