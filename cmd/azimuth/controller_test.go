package main

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// TestControllerRunsTheManager starts `azimuth controller` against the test cluster, as a pod
// would with its kubeconfig, and checks that it reconciles: an OCIRepository naming a service
// account gets the gate-off stall, which only the running controller can write.
func TestControllerRunsTheManager(t *testing.T) {
	env := testenvWithCRDs(t)
	t.Setenv("KUBECONFIG", env.Kubeconfig)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := run(ctx, "controller", "--storage-path", t.TempDir(), "--storage-addr", "127.0.0.1:0",
			"--metrics-addr", "0", "--health-addr", "0", "--controllers", "ocirepository")
		done <- err
	}()

	scheme, _ := manager.Scheme()
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	obj := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "controller-cmd"},
		Spec: sourcev1.OCIRepositorySpec{URL: "oci://myregistry.azurecr.io/app", Provider: "azure", ServiceAccountName: "source",
			Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := c.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c.Get(t.Context(), client.ObjectKeyFromObject(obj), obj)
		if len(obj.Status.Conditions) > 0 && strings.Contains(obj.Status.Conditions[0].Message, "ObjectLevelWorkloadIdentity") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the controller did not reconcile: %+v", obj.Status.Conditions)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("azimuth controller ended with %v after its context was cancelled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("azimuth controller did not stop after its context was cancelled")
	}
}

// TestControllerRefusesDefaultsWithoutTheGate: a decryption lockdown without the gate is a
// configuration error (--default-service-account alone is the Kustomizations' impersonation
// lockdown, which needs no gate).
func TestControllerRefusesDefaultsWithoutTheGate(t *testing.T) {
	env := testenvWithCRDs(t)
	t.Setenv("KUBECONFIG", env.Kubeconfig)
	_, _, err := run(t.Context(), "controller", "--storage-path", t.TempDir(), "--default-decryption-service-account", "sops")
	if err == nil || !strings.Contains(err.Error(), "feature gate ObjectLevelWorkloadIdentity is not enabled") {
		t.Fatalf("err = %v, want the inconsistent-configuration error", err)
	}
}

// TestControllerRefusesContradictoryRetryDelays: a first retry delay longer than the longest is
// refused at start, not silently reordered.
func TestControllerRefusesContradictoryRetryDelays(t *testing.T) {
	env := testenvWithCRDs(t)
	t.Setenv("KUBECONFIG", env.Kubeconfig)
	_, _, err := run(t.Context(), "controller", "--storage-path", t.TempDir(), "--min-retry-delay", "1h", "--max-retry-delay", "1m")
	if err == nil || !strings.Contains(err.Error(), "--min-retry-delay 1h0m0s is longer than --max-retry-delay 1m0s") {
		t.Fatalf("err = %v, want the contradiction named", err)
	}
}

func testenvWithCRDs(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.Get(t)
	bases, _ := fs.Sub(crd.Bases, "bases")
	if err := env.InstallCRDsFS(t.Context(), bases); err != nil {
		t.Fatal(err)
	}
	return env
}
