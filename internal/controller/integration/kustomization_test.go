package integration_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func kustomizationCases() []testCase {
	return []testCase{
		{"apply, drift corrected, prune, events, deletion", testKustomizationLifecycle},
		{"dependsOn waits for the dependency to be ready", testKustomizationDependsOn},
		{"impersonation refused, then allowed by a role binding", testKustomizationImpersonation},
		{"postBuild substitution from values, ConfigMaps and Secrets", testKustomizationSubstitution},
		{"health checks pass and time out", testKustomizationHealth},
		{"a missing source, a build error, a name too long for a label", testKustomizationFailures},
		{"an OCI artifact's origin revision", testKustomizationOriginRevision},
		{"deletionPolicy Orphan, Delete and WaitForTermination", testKustomizationDeletionPolicy},
		{"healthCheckExprs: in progress, current, failed, and one that does not compile", testKustomizationHealthCheckExprs},
		{"kubeConfig: applied to and pruned from another cluster", testKustomizationRemoteCluster},
	}
}

// gitSource serves a repository of files and returns a Ready GitRepository of it, with the work
// tree to commit more from.
func gitSource(t *testing.T, h *harness, ns string, files map[string]string) (*sourcev1.GitRepository, *gitServer, string) {
	t.Helper()
	srv := startGitServer(t, "", "")
	url, work := srv.repo(t, "fleet", files)
	repo := gitRepository(ns, "fleet", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	h.create(t, repo)
	h.waitFor(t, repo, "ready", ready(repo))
	return repo, srv, work
}

func kustomization(ns, name, path string, prune bool) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			Interval:      metav1.Duration{Duration: time.Hour},
			RetryInterval: &metav1.Duration{Duration: time.Second},
			Path:          path, Prune: prune, TargetNamespace: ns,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet"},
		},
	}
}

func configMapYAML(name string, data string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  %s\n", name, data)
}

// applied is Ready=True with reason ReconciliationSucceeded for the current generation.
func applied(obj *kustomizev1.Kustomization) func() bool {
	return is(obj, meta.ReadyCondition, metav1.ConditionTrue, meta.ReconciliationSucceededReason)
}

func (h *harness) configMap(t *testing.T, ns, name string) (*corev1.ConfigMap, error) {
	t.Helper()
	var cm corev1.ConfigMap
	err := h.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &cm)
	return &cm, err
}

// waitConfigMap waits until the ConfigMap ns/name satisfies ok (nil for gone).
func (h *harness) waitConfigMap(t *testing.T, ns, name, what string, ok func(*corev1.ConfigMap) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		cm, err := h.configMap(t, ns, name)
		switch {
		case ok == nil && apierrors.IsNotFound(err):
			return
		case ok != nil && err == nil && ok(cm):
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ConfigMap %s/%s: gave up waiting until %s (last error: %v, data %v)", ns, name, what, err, cm.Data)
		}
		time.Sleep(pollInterval)
	}
}

func testKustomizationLifecycle(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo, _, work := gitSource(t, h, ns, map[string]string{
		"deploy/a.yaml": configMapYAML("a", "k: one"),
		"deploy/b.yaml": configMapYAML("b", "k: two"),
		"README.md":     "not a manifest",
	})
	ks := kustomization(ns, "apps", "./deploy", true)
	ks.Spec.CommonMetadata = &kustomizev1.CommonMetadata{Labels: map[string]string{"team": "apps"}}
	h.create(t, ks)
	h.waitFor(t, ks, "applied", applied(ks))
	revision := repo.Status.Artifact.Revision
	if ks.Status.LastAppliedRevision != revision || ks.Status.LastAttemptedRevision != revision {
		t.Errorf("revisions = %q/%q, want %q", ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision, revision)
	}
	if ks.Status.LastAppliedOriginRevision != "" {
		t.Errorf("lastAppliedOriginRevision = %q for a Git source, which has none", ks.Status.LastAppliedOriginRevision)
	}
	if c := condition(ks, meta.ReadyCondition); c.Message != "Applied revision: "+revision {
		t.Errorf("Ready message = %q", c.Message)
	}
	wantInventory := []kustomizev1.ResourceRef{{ID: ns + "_a__ConfigMap", Version: "v1"}, {ID: ns + "_b__ConfigMap", Version: "v1"}}
	if inv := ks.Status.Inventory; inv == nil || fmt.Sprint(inv.Entries) != fmt.Sprint(wantInventory) {
		t.Errorf("inventory = %+v, want %v", inv, wantInventory)
	}
	a, err := h.configMap(t, ns, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Data["k"] != "one" || a.Labels[kustomizev1.NameLabel] != "apps" || a.Labels[kustomizev1.NamespaceLabel] != ns || a.Labels["team"] != "apps" {
		t.Errorf("ConfigMap a = %v %v", a.Labels, a.Data)
	}
	h.waitEvent(t, ks, kustomizev1.KustomizationKind, "Normal", meta.ReconciliationSucceededReason, "ConfigMap/"+ns+"/a created")

	// Drift: a field the Kustomization owns, edited by hand, is set back.
	a.Data["k"] = "edited"
	if err := h.client.Update(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	h.requestReconcile(t, ks)
	h.waitConfigMap(t, ns, "a", "the drift corrected", func(cm *corev1.ConfigMap) bool { return cm.Data["k"] == "one" })

	// Prune: what left the source is deleted once the source has a new artifact.
	testenv.Git(t, work, "rm", "-q", "deploy/b.yaml")
	testenv.Git(t, work, "commit", "-q", "-m", "drop b")
	testenv.Git(t, work, "push", "-q", "origin", "main")
	h.requestReconcile(t, repo)
	h.waitConfigMap(t, ns, "b", "pruned", nil)
	h.waitFor(t, ks, "the inventory without b", func() bool {
		return ks.Status.Inventory != nil && len(ks.Status.Inventory.Entries) == 1
	})

	// Deleting the Kustomization prunes what it applied.
	if err := h.client.Delete(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	h.waitGone(t, ks)
	h.waitConfigMap(t, ns, "a", "deleted with its Kustomization", nil)
}

func testKustomizationDependsOn(t *testing.T, h *harness) {
	ns := h.namespace(t)
	gitSource(t, h, ns, map[string]string{
		"infra/a.yaml": configMapYAML("infra", "k: v"),
		"apps/b.yaml":  configMapYAML("app", "k: v"),
	})
	apps := kustomization(ns, "apps", "./apps", false)
	apps.Spec.DependsOn = []meta.NamespacedObjectReference{{Name: "infra"}}
	h.create(t, apps)
	h.waitFor(t, apps, "waiting for its dependency", is(apps, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason))
	if c := condition(apps, meta.ReadyCondition); !strings.Contains(c.Message, "dependency '"+ns+"/infra' not found") {
		t.Errorf("Ready message = %q", c.Message)
	}
	if _, err := h.configMap(t, ns, "app"); !apierrors.IsNotFound(err) {
		t.Fatalf("applied before its dependency: %v", err)
	}
	h.create(t, kustomization(ns, "infra", "./infra", false))
	h.waitFor(t, apps, "applied after its dependency", applied(apps))
}

func testKustomizationImpersonation(t *testing.T, h *harness) {
	ns := h.namespace(t)
	gitSource(t, h, ns, map[string]string{"deploy/a.yaml": configMapYAML("a", "k: v")})
	h.create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}})
	ks := kustomization(ns, "apps", "./deploy", false)
	ks.Spec.ServiceAccountName = "deployer"
	h.create(t, ks)
	h.waitFor(t, ks, "refused", is(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.ReconciliationFailedReason))
	msg := condition(ks, meta.ReadyCondition).Message
	for _, want := range []string{"ConfigMap/" + ns + "/a", "forbidden", "system:serviceaccount:" + ns + ":deployer", "Role or ClusterRole binding"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q lacks %q", msg, want)
		}
	}
	h.create(t,
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"},
		}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deployer"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "deployer"}}},
	)
	h.waitFor(t, ks, "applied once allowed", applied(ks))
}

func testKustomizationSubstitution(t *testing.T, h *harness) {
	ns := h.namespace(t)
	gitSource(t, h, ns, map[string]string{
		"deploy/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${app}\ndata:\n  region: ${region}\n  tier: ${tier:=gold}\n  secret: ${password}\n",
		"deploy/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: literal\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  k: ${app}\n",
	})
	h.create(t,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vars"}, Data: map[string]string{"region": "westeurope", "app": "from-configmap"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vars"}, StringData: map[string]string{"password": "s3cret"}},
	)
	ks := kustomization(ns, "apps", "./deploy", false)
	ks.Spec.PostBuild = &kustomizev1.PostBuild{
		Substitute: map[string]string{"app": "web"},
		SubstituteFrom: []kustomizev1.SubstituteReference{
			{Kind: "ConfigMap", Name: "vars"}, {Kind: "Secret", Name: "vars"}, {Kind: "ConfigMap", Name: "absent", Optional: true},
		},
	}
	h.create(t, ks)
	h.waitFor(t, ks, "applied", applied(ks))
	web, err := h.configMap(t, ns, "web")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"region": "westeurope", "tier": "gold", "secret": "s3cret"}
	if fmt.Sprint(web.Data) != fmt.Sprint(want) {
		t.Errorf("substituted data = %v, want %v", web.Data, want)
	}
	if lit, err := h.configMap(t, ns, "literal"); err != nil || lit.Data["k"] != "${app}" {
		t.Errorf("a ConfigMap with substitution disabled = %v, %v", lit.Data, err)
	}

	// A ConfigMap that is not optional and does not exist fails the build, and says which.
	h.update(t, ks, func() { ks.Spec.PostBuild.SubstituteFrom[2].Optional = false })
	h.waitFor(t, ks, "a build failure", is(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.BuildFailedReason))
	if c := condition(ks, meta.ReadyCondition); !strings.Contains(c.Message, "substitute from 'ConfigMap/absent'") || strings.Contains(c.Message, "s3cret") {
		t.Errorf("Ready message = %q", c.Message)
	}
}

func testKustomizationHealth(t *testing.T, h *harness) {
	ns := h.namespace(t)
	deployment := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n" +
		"  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n"
	gitSource(t, h, ns, map[string]string{"config/a.yaml": configMapYAML("a", "k: v"), "app/web.yaml": deployment})

	// A ConfigMap is ready once it exists.
	cfg := kustomization(ns, "config", "./config", false)
	cfg.Spec.HealthChecks = []meta.NamespacedObjectKindReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "a", Namespace: ns}}
	h.create(t, cfg)
	h.waitFor(t, cfg, "healthy", func() bool {
		return applied(cfg)() && is(cfg, kustomizev1.HealthyCondition, metav1.ConditionTrue, meta.SucceededReason)()
	})

	// No kube-controller-manager runs here: the Deployment never rolls out, and the health check
	// gives up at spec.timeout.
	app := kustomization(ns, "app", "./app", false)
	app.Spec.Wait = true
	app.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	h.create(t, app)
	h.waitFor(t, app, "unhealthy", is(app, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.HealthCheckFailedReason))
	expectCondition(t, app, kustomizev1.HealthyCondition, metav1.ConditionFalse, kustomizev1.HealthCheckFailedReason)
	if c := condition(app, meta.ReadyCondition); !strings.Contains(c.Message, "Deployment/"+ns+"/web") {
		t.Errorf("Ready message = %q, want it to name the Deployment", c.Message)
	}
	var d appsv1.Deployment
	if err := h.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "web"}, &d); err != nil {
		t.Fatalf("the Deployment was not applied before the health check: %v", err)
	}
}

func testKustomizationFailures(t *testing.T, h *harness) {
	ns := h.namespace(t)
	orphan := kustomization(ns, "orphan", "./", false)
	h.create(t, orphan)
	h.waitFor(t, orphan, "no source", is(orphan, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ArtifactFailedReason))
	if c := condition(orphan, meta.ReadyCondition); !strings.Contains(c.Message, "Source 'GitRepository/"+ns+"/fleet' not found") {
		t.Errorf("Ready message = %q", c.Message)
	}

	ns2 := h.namespace(t)
	gitSource(t, h, ns2, map[string]string{"deploy/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n"})
	bad := kustomization(ns2, "bad", "./deploy", false)
	h.create(t, bad)
	h.waitFor(t, bad, "a build failure", is(bad, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.BuildFailedReason))
	if bad.Status.Inventory != nil && len(bad.Status.Inventory.Entries) > 0 {
		t.Errorf("a failed build left an inventory: %+v", bad.Status.Inventory)
	}

	// The name labels every applied object, and the API server refuses a label value over 63
	// characters: say so before applying anything, rather than object by object.
	long := kustomization(ns2, strings.Repeat("a", 64), "./", false)
	long.Spec.SourceRef.Name = "fleet"
	h.create(t, long)
	h.waitFor(t, long, "stalled on its name", stalled(long, meta.ReconciliationFailedReason))
	if c := condition(long, meta.ReadyCondition); !strings.Contains(c.Message, "is 64 characters long") || !strings.Contains(c.Message, "shorter name") {
		t.Errorf("Ready message = %q, want it to name the length and the fix", c.Message)
	}
	if long.Status.Inventory != nil && len(long.Status.Inventory.Entries) > 0 {
		t.Errorf("a Kustomization whose name cannot label applied objects applied some: %+v", long.Status.Inventory)
	}
}

// testKustomizationOriginRevision: the revision an OCI artifact was pushed from (its
// org.opencontainers.image.revision annotation, as `flux push artifact --revision` writes it)
// is the Kustomization's lastAppliedOriginRevision; an artifact pushed without one clears it.
func testKustomizationOriginRevision(t *testing.T, h *harness) {
	ns := h.namespace(t)
	ref := h.reg.open + "/" + ns + "/manifests"
	const origin = "main@sha1:0123456789abcdef0123456789abcdef01234567"
	pushArtifact(t, ref+":latest", map[string]string{sourcev1.OCIRevisionAnnotation: origin},
		contentLayer(t, map[string]string{"a.yaml": configMapYAML("a", "k: one")}))
	repo := ociRepository(ns, "manifests", sourcev1.OCIRepositorySpec{
		URL: "oci://" + ref, Reference: &sourcev1.OCIRepositoryRef{Tag: "latest"}, Insecure: true,
	})
	h.create(t, repo)
	h.waitFor(t, repo, "ready", ready(repo))
	ks := kustomization(ns, "apps", "./", false)
	ks.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: repo.Name}
	h.create(t, ks)
	h.waitFor(t, ks, "applied", applied(ks))
	if got := ks.Status.LastAppliedOriginRevision; got != origin {
		t.Errorf("lastAppliedOriginRevision = %q, want the artifact's %q", got, origin)
	}

	d := pushArtifact(t, ref+":latest", nil, contentLayer(t, map[string]string{"a.yaml": configMapYAML("a", "k: two")}))
	h.requestReconcile(t, repo)
	h.waitFor(t, ks, "the new artifact applied", func() bool {
		return strings.HasSuffix(ks.Status.LastAppliedRevision, d.String())
	})
	if got := ks.Status.LastAppliedOriginRevision; got != "" {
		t.Errorf("lastAppliedOriginRevision = %q after an artifact without one", got)
	}
}

// testKustomizationDeletionPolicy: deleting a Kustomization leaves its objects under Orphan
// (even with prune), deletes them under Delete (even without), and under WaitForTermination
// stays, saying which object holds it, until the objects are gone.
func testKustomizationDeletionPolicy(t *testing.T, h *harness) {
	ns := h.namespace(t)
	held := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.com/hold]\n"
	gitSource(t, h, ns, map[string]string{
		"orphan/a.yaml": configMapYAML("orphaned", "k: v"),
		"delete/a.yaml": configMapYAML("deleted", "k: v"),
		"wait/a.yaml":   held,
	})
	orphan := kustomization(ns, "orphan", "./orphan", true)
	orphan.Spec.DeletionPolicy = kustomizev1.DeletionPolicyOrphan
	del := kustomization(ns, "delete", "./delete", false)
	del.Spec.DeletionPolicy = kustomizev1.DeletionPolicyDelete
	wait := kustomization(ns, "wait", "./wait", false)
	wait.Spec.DeletionPolicy = kustomizev1.DeletionPolicyWaitForTermination
	wait.Spec.Timeout = &metav1.Duration{Duration: time.Second}
	for _, ks := range []*kustomizev1.Kustomization{orphan, del, wait} {
		h.create(t, ks)
		h.waitFor(t, ks, "applied", applied(ks))
		if err := h.client.Delete(t.Context(), ks); err != nil {
			t.Fatal(err)
		}
	}
	h.waitGone(t, orphan)
	if _, err := h.configMap(t, ns, "orphaned"); err != nil {
		t.Errorf("the object of an Orphan Kustomization: %v", err)
	}
	h.waitGone(t, del)
	h.waitConfigMap(t, ns, "deleted", "deleted with its Delete Kustomization", nil)

	h.waitEvent(t, wait, kustomizev1.KustomizationKind, "Warning", kustomizev1.PruneFailedReason,
		"ConfigMap/"+ns+"/held: terminating, held by the finalizers example.com/hold")
	if err := h.client.Get(t.Context(), client.ObjectKeyFromObject(wait), wait); err != nil {
		t.Fatalf("the WaitForTermination Kustomization went while its ConfigMap was held: %v", err)
	}
	cm, err := h.configMap(t, ns, "held")
	if err != nil {
		t.Fatal(err)
	}
	h.update(t, cm, func() { cm.Finalizers = nil })
	h.waitGone(t, wait)
}

// testKustomizationHealthCheckExprs: a custom resource without conditions, which kstatus takes
// as ready once it exists, is ready by spec.healthCheckExprs only when its expression says so;
// its failed expression fails the health check; an expression that does not compile stalls.
func testKustomizationHealthCheckExprs(t *testing.T, h *harness) {
	ns := h.namespace(t)
	group := ns + ".example.com"
	crd := fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sprockets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {kind: Sprocket, plural: sprockets, singular: sprocket, listKind: SprocketList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, group)
	// Without a status subresource, the status is applied with the object.
	sprocket := func(phase string) string {
		return fmt.Sprintf("apiVersion: %s/v1\nkind: Sprocket\nmetadata:\n  name: s\nstatus:\n  phase: %s\n", group, phase)
	}
	gitSource(t, h, ns, map[string]string{"crd/crd.yaml": crd, "app/s.yaml": sprocket("Pending")})
	crds := kustomization(ns, "crds", "./crd", false)
	h.create(t, crds)
	h.waitFor(t, crds, "applied", applied(crds))

	exprs := []kustomizev1.CustomHealthCheck{{APIVersion: group + "/v1", Kind: "Sprocket",
		InProgress: "status.phase == 'Pending'", Failed: "status.phase == 'Broken'", Current: "status.phase == 'Ready'"}}
	app := kustomization(ns, "app", "./app", false)
	app.Spec.Wait, app.Spec.HealthCheckExprs = true, exprs
	app.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	h.create(t, app)
	h.waitFor(t, app, "unhealthy while Pending", is(app, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.HealthCheckFailedReason))
	if c := condition(app, meta.ReadyCondition); !strings.Contains(c.Message, "Sprocket/"+ns+"/s") || !strings.Contains(c.Message, "inProgress is true") {
		t.Errorf("Ready message = %q, want the Sprocket in progress by its expression", c.Message)
	}

	// The Sprocket's controller, played by the test, moves it on; the Kustomization's retries
	// see it. (Applying a new status from the source would not: like Flux, the apply leaves
	// status out of what it compares.)
	setPhase := func(phase string) {
		live := &unstructured.Unstructured{}
		live.SetAPIVersion(group + "/v1")
		live.SetKind("Sprocket")
		live.SetNamespace(ns)
		live.SetName("s")
		h.update(t, live, func() { _ = unstructured.SetNestedField(live.Object, phase, "status", "phase") })
	}
	setPhase("Ready")
	h.waitFor(t, app, "healthy once Ready", func() bool {
		return applied(app)() && is(app, kustomizev1.HealthyCondition, metav1.ConditionTrue, meta.SucceededReason)()
	})
	setPhase("Broken")
	h.requestReconcile(t, app)
	h.waitFor(t, app, "failed once Broken", func() bool {
		c := condition(app, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "failed is true")
	})

	bad := kustomization(ns, "bad", "./app", false)
	bad.Spec.HealthCheckExprs = []kustomizev1.CustomHealthCheck{{APIVersion: group + "/v1", Kind: "Sprocket", Current: "status.phase =="}}
	h.create(t, bad)
	h.waitFor(t, bad, "stalled", is(bad, meta.StalledCondition, metav1.ConditionTrue, meta.InvalidCELExpressionReason))
	if c := condition(bad, meta.ReadyCondition); !strings.Contains(c.Message, "spec.healthCheckExprs[0].current") {
		t.Errorf("Ready message = %q, want the expression named", c.Message)
	}
}

// testKustomizationRemoteCluster applies to a second control plane, named by a kubeconfig in a
// secret of the Kustomization's namespace: nothing lands in the manager's own cluster, a missing
// secret is a failure that says what to create, and deleting the Kustomization prunes there.
func testKustomizationRemoteCluster(t *testing.T, h *harness) {
	ns := h.namespace(t)
	gitSource(t, h, ns, map[string]string{"deploy/a.yaml": configMapYAML("a", "k: remote")})
	remote, err := testenv.Start(t.Context(), nil) // the package's only second control plane
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Stop() })
	rc, err := client.New(remote.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}

	ks := kustomization(ns, "apps", "./deploy", true)
	ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "remote-kubeconfig"}}
	h.create(t, ks)
	h.waitFor(t, ks, "failing without its kubeconfig", is(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.ReconciliationFailedReason))
	if msg := condition(ks, meta.ReadyCondition).Message; !strings.Contains(msg, "secret 'remote-kubeconfig' not found in namespace '"+ns+"'") {
		t.Errorf("Ready message = %q", msg)
	}
	kubeconfig, err := os.ReadFile(remote.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// value.yaml: the key Cluster API writes a workload cluster's kubeconfig under.
	h.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "remote-kubeconfig"}, Data: map[string][]byte{"value.yaml": kubeconfig}})
	h.requestReconcile(t, ks)
	h.waitFor(t, ks, "applied to the remote cluster", applied(ks))

	var cm corev1.ConfigMap
	if err := rc.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "a"}, &cm); err != nil || cm.Data["k"] != "remote" || cm.Labels[kustomizev1.NameLabel] != "apps" {
		t.Fatalf("the remote cluster's ConfigMap: %v %v %v", err, cm.Labels, cm.Data)
	}
	if _, err := h.configMap(t, ns, "a"); !apierrors.IsNotFound(err) {
		t.Errorf("the manager's own cluster has the ConfigMap too: %v", err)
	}

	// Deleting the Kustomization prunes in the remote cluster.
	if err := h.client.Delete(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	h.waitGone(t, ks)
	err = rc.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "a"}, &cm)
	if !apierrors.IsNotFound(err) {
		t.Errorf("the remote ConfigMap after the Kustomization's deletion: %v, want not found", err)
	}
}
