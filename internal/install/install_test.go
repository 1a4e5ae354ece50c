package install

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/apply"
)

// lines is cs's entries, all of them, as "Kind/namespace/name action".
func lines(cs *apply.ChangeSet) []string {
	var out []string
	for _, c := range cs.Entries {
		out = append(out, c.String())
	}
	return out
}

// actionsOf counts cs's entries by action.
func actionsOf(cs *apply.ChangeSet) map[apply.Action]int {
	n := map[apply.Action]int{}
	for _, c := range cs.Entries {
		n[c.Action]++
	}
	return n
}

func TestInstallTwice(t *testing.T) {
	f := newFixture(t)
	ns := uniqueNamespace("inst-")
	objs := render(t, Options{Namespace: ns, Components: []string{"workload-identity"}})
	cs, err := Install(bounded(t), f.c, objs, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The CRDs are shared with the other tests: created or relabelled; the rest is new.
	if n := actionsOf(cs); n[apply.Created] < len(objs)-9 || n[apply.Created]+n[apply.Configured]+n[apply.Unchanged] != len(objs) {
		t.Errorf("first install: %v of %d objects\n%s", n, len(objs), cs)
	}
	for _, u := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(u.GroupVersionKind())
		if err := f.c.Get(t.Context(), client.ObjectKeyFromObject(u), live); err != nil {
			t.Errorf("%s/%s not installed: %v", u.GetKind(), u.GetName(), err)
		}
	}
	cs, err = Install(bounded(t), f.c, render(t, Options{Namespace: ns, Components: []string{"workload-identity"}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := actionsOf(cs); n[apply.Unchanged] != len(objs) {
		t.Errorf("second install changed something: %v\n%s", n, cs)
	}
	if _, err := Install(bounded(t), f.c, objs[1:2], nil); err == nil || !strings.Contains(err.Error(), "Namespace") {
		t.Errorf("Install without the Namespace: %v", err)
	}
}

// TestInstallWait waits for the Deployment, whose status the test writes as the deployment
// controller would (the test control plane runs no controllers).
func TestInstallWait(t *testing.T) {
	f := newFixture(t)
	ns := uniqueNamespace("wait-")
	objs := render(t, Options{Namespace: ns})
	if _, err := Install(bounded(t), f.c, objs, nil); err != nil {
		t.Fatal(err)
	}
	// Installed: the apply below changes nothing, and the time goes to the wait.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Install(ctx, f.c, objs, &InstallOptions{Wait: true, PollInterval: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Deployment/"+ns+"/"+ControllerName) {
		t.Fatalf("Install of a Deployment that never becomes available: %v", err)
	}

	var d appsv1.Deployment
	if err := f.c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: ControllerName}, &d); err != nil {
		t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()},
		},
	}
	if err := f.c.Status().Update(t.Context(), &d); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(bounded(t), f.c, objs, &InstallOptions{Wait: true, PollInterval: 50 * time.Millisecond}); err != nil {
		t.Fatalf("Install of an available Deployment: %v", err)
	}
}

// userObjects creates, in a namespace of their own, what a Kustomization "apps" applied: the
// Kustomization with Azimuth's finalizer, and a ConfigMap labelled as its inventory.
func userObjects(t *testing.T, f *fixture) (kustomization, configMap *unstructured.Unstructured) {
	t.Helper()
	userNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: uniqueNamespace("user-")}}
	if err := f.c.Create(t.Context(), userNS); err != nil {
		t.Fatal(err)
	}
	kustomization = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": "apps", "namespace": userNS.Name, "finalizers": []any{"finalizers.fluxcd.io"}},
		"spec": map[string]any{
			"interval":  "10m",
			"prune":     true,
			"path":      "./apps",
			"sourceRef": map[string]any{"kind": "GitRepository", "name": "fleet"},
		},
	}}
	configMap = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{"name": "app-settings", "namespace": userNS.Name, "labels": map[string]any{
			apply.NameLabel: "apps", apply.NamespaceLabel: userNS.Name,
		}},
		"data": map[string]any{"color": "blue"},
	}}
	for _, u := range []*unstructured.Unstructured{kustomization, configMap} {
		if err := f.c.Create(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	return kustomization, configMap
}

// exists reads u live: nil when it is gone.
func exists(t *testing.T, f *fixture, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(u.GroupVersionKind())
	err := f.c.Get(t.Context(), client.ObjectKeyFromObject(u), live)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return live
}

func TestUninstall(t *testing.T) {
	f := newFixture(t)
	ns := uniqueNamespace("uninst-")
	objs := render(t, Options{Namespace: ns})
	if _, err := Install(bounded(t), f.c, objs, nil); err != nil {
		t.Fatal(err)
	}
	kustomization, configMap := userObjects(t, f)
	// An object that no longer says it is Azimuth's (someone took the Service over).
	service := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "azimuth", Namespace: ns}}
	if err := f.c.Patch(t.Context(), service, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+PartOfLabel+`":null}}}`))); err != nil {
		t.Fatal(err)
	}

	// A dry run says what it would do, and does nothing.
	cs, err := Uninstall(bounded(t), f.c, &UninstallOptions{Namespace: ns, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := actionsOf(cs); n[apply.Deleted] == 0 || n[FinalizerRemoved] == 0 {
		t.Errorf("dry run: %v\n%s", n, cs)
	}
	for _, u := range objs {
		if exists(t, f, u) == nil {
			t.Errorf("the dry run deleted %s/%s", u.GetKind(), u.GetName())
		}
	}
	if live := exists(t, f, kustomization); !slices.Contains(live.GetFinalizers(), "finalizers.fluxcd.io") {
		t.Error("the dry run removed the finalizer")
	}

	cs, err = Uninstall(bounded(t), f.c, &UninstallOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(lines(cs), "Kustomization/"+kustomization.GetNamespace()+"/apps finalizer removed") {
		t.Errorf("uninstall did not report the finalizer:\n%s", cs)
	}
	for _, u := range objs {
		live := exists(t, f, u)
		switch u.GetKind() {
		case "CustomResourceDefinition", "Namespace", "Service":
			if live == nil || live.GetDeletionTimestamp() != nil {
				t.Errorf("%s/%s deleted without being asked", u.GetKind(), u.GetName())
			}
		case "Deployment":
			// The test control plane runs no garbage collector to finish a deletion.
			if live != nil && live.GetDeletionTimestamp() == nil {
				t.Errorf("%s/%s left", u.GetKind(), u.GetName())
			}
		default:
			if live != nil {
				t.Errorf("%s/%s/%s left", u.GetKind(), u.GetNamespace(), u.GetName())
			}
		}
	}
	live := exists(t, f, kustomization)
	if live == nil || len(live.GetFinalizers()) != 0 {
		t.Errorf("the Kustomization: %v, want it kept without finalizer", live)
	}
	if exists(t, f, configMap) == nil {
		t.Error("the ConfigMap the Kustomization applied is gone")
	}
	// Deleting the Kustomization now prunes nothing: no finalizer holds it.
	if err := f.c.Delete(t.Context(), live); err != nil {
		t.Fatal(err)
	}
	if exists(t, f, kustomization) != nil || exists(t, f, configMap) == nil {
		t.Error("after deleting the Kustomization: it is held, or its ConfigMap went")
	}
	if !slices.Contains(lines(cs), "Service/"+ns+"/azimuth skipped") {
		t.Errorf("the Service without the label is not reported skipped:\n%s", cs)
	}
}

// TestUninstallShards: uninstall finds the shards an install added and deletes them too.
func TestUninstallShards(t *testing.T) {
	f := newFixture(t)
	ns := uniqueNamespace("shards-")
	objs := render(t, Options{Namespace: ns, Shards: []string{"shard1"}})
	if _, err := Install(bounded(t), f.c, objs, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := Uninstall(bounded(t), f.c, &UninstallOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Deployment/" + ns + "/azimuth-controller-shard1 deleted", "Service/" + ns + "/azimuth-shard1 deleted"} {
		if !slices.Contains(lines(cs), want) {
			t.Errorf("uninstall did not report %q:\n%s", want, cs)
		}
	}
	if live := exists(t, f, find(objs, "Service", "azimuth-shard1")); live != nil {
		t.Error("the shard's Service is left")
	}
}

// TestUninstallWaitsForPods: the controller's pods must be gone before finalizers are removed.
func TestUninstallWaitsForPods(t *testing.T) {
	f := newFixture(t)
	ns := uniqueNamespace("pods-")
	if _, err := Install(bounded(t), f.c, render(t, Options{Namespace: ns}), nil); err != nil {
		t.Fatal(err)
	}
	kustomization, _ := userObjects(t, f)
	// A pod of the controller, which the test control plane (no garbage collector, no kubelet)
	// keeps until the test deletes it.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "azimuth-controller-0", Namespace: ns, Labels: map[string]string{"app": ControllerName}},
		Spec: corev1.PodSpec{ServiceAccountName: ControllerName, AutomountServiceAccountToken: new(false),
			Containers: []corev1.Container{{Name: "manager", Image: Image + ":latest"}}},
	}
	if err := f.c.Create(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	// Polled at 200ms, the 10 lists stay within the client's rate limit (20/s after a burst of
	// 30, which the install spent); at 50ms its limiter refused the last list as one that
	// would end after the deadline, instead of the wait timing out.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := Uninstall(ctx, f.c, &UninstallOptions{Namespace: ns, PollInterval: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "pods") {
		t.Fatalf("Uninstall with the controller's pod running: %v", err)
	}
	if live := exists(t, f, kustomization); len(live.GetFinalizers()) == 0 {
		t.Error("the finalizer was removed while the controller's pod ran")
	}
	if err := f.c.Delete(t.Context(), pod, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := Uninstall(bounded(t), f.c, &UninstallOptions{Namespace: ns, PollInterval: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if live := exists(t, f, kustomization); len(live.GetFinalizers()) != 0 {
		t.Errorf("finalizers left: %v", live.GetFinalizers())
	}
}

// TestUninstallDeleteAll deletes the CRDs, with the objects of Azimuth's kinds, and the
// namespace; the objects Kustomizations applied stay. It waits until the CRDs are gone, so
// that the tests after it install them anew.
func TestUninstallDeleteAll(t *testing.T) {
	f := newFixture(t)
	ns := uniqueNamespace("all-")
	objs := render(t, Options{Namespace: ns})
	if _, err := Install(bounded(t), f.c, objs, nil); err != nil {
		t.Fatal(err)
	}
	kustomization, configMap := userObjects(t, f)
	ctx := bounded(t)
	if _, err := Uninstall(ctx, f.c, &UninstallOptions{Namespace: ns, DeleteCRDs: true, DeleteNamespace: true}); err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		if live := exists(t, f, u); live != nil && live.GetDeletionTimestamp() == nil {
			t.Errorf("%s/%s left", u.GetKind(), u.GetName())
		}
	}
	for _, u := range crds(objs) {
		for exists(t, f, u) != nil {
			select {
			case <-ctx.Done():
				t.Fatalf("CRD %s not gone: %v", u.GetName(), ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if exists(t, f, configMap) == nil {
		t.Error("the ConfigMap the Kustomization applied is gone")
	}
	_ = kustomization // gone with its CRD, without pruning: no controller, no finalizer
}

func crds(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" {
			out = append(out, u)
		}
	}
	return out
}
