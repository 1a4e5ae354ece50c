package kustomization

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/internal/apply"
)

func withExprs(checks ...kustomizev1.CustomHealthCheck) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{Spec: kustomizev1.KustomizationSpec{HealthCheckExprs: checks}}
}

func sprocket(apiVersion string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: fields}
	u.SetAPIVersion(apiVersion)
	u.SetKind("Sprocket")
	u.SetName("s")
	return u
}

// TestHealthExpressions: the expressions are tried in the order inProgress, failed, current;
// none true, or a field the object lacks, is in progress; the kind matches by group, whatever
// the version; a result that is not a bool fails.
func TestHealthExpressions(t *testing.T) {
	check, err := healthChecker(withExprs(kustomizev1.CustomHealthCheck{
		APIVersion: "example.com/v1", Kind: "Sprocket",
		InProgress: "status.phase == 'Pending'",
		Failed:     "status.phase == 'Broken' || status.phase == 'Pending'", // after inProgress: Pending is in progress
		Current:    "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
	}, kustomizev1.CustomHealthCheck{APIVersion: "example.com/v1", Kind: "Gadget", Current: "spec.size"}))
	if err != nil {
		t.Fatal(err)
	}
	ready := map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}}
	for _, c := range []struct {
		name string
		obj  *unstructured.Unstructured
		want status.Status
		msg  string
	}{
		{"no status yet", sprocket("example.com/v1", map[string]any{}), status.InProgressStatus, "no expression"},
		{"pending", sprocket("example.com/v1", map[string]any{"status": map[string]any{"phase": "Pending"}}), status.InProgressStatus, "inProgress is true"},
		{"broken", sprocket("example.com/v1", map[string]any{"status": map[string]any{"phase": "Broken"}}), status.FailedStatus, "failed is true"},
		{"ready", sprocket("example.com/v1", map[string]any{"status": ready}), status.CurrentStatus, "current is true"},
		{"another version of the group", sprocket("example.com/v2", map[string]any{"status": ready}), status.CurrentStatus, ""},
		{"not a bool", func() *unstructured.Unstructured {
			u := sprocket("example.com/v1", map[string]any{"spec": map[string]any{"size": "big"}})
			u.SetKind("Gadget")
			return u
		}(), status.FailedStatus, "not a bool"},
	} {
		res, ok := check(c.obj)
		if !ok || res.Status != c.want || !strings.Contains(res.Message, c.msg) {
			t.Errorf("%s: %v %+v, want %s with %q", c.name, ok, res, c.want, c.msg)
		}
	}
	if _, ok := check(sprocket("other.example.com/v1", nil)); ok {
		t.Error("an expression of example.com applied to other.example.com")
	}
}

// TestHealthExpressionsRefused: an expression that does not compile, or is not a bool, is
// named with its field; so is an apiVersion that does not parse.
func TestHealthExpressionsRefused(t *testing.T) {
	for _, c := range []struct {
		check kustomizev1.CustomHealthCheck
		want  string
	}{
		{kustomizev1.CustomHealthCheck{APIVersion: "v1", Kind: "Pod", Current: "status.phase =="}, "spec.healthCheckExprs[0].current"},
		{kustomizev1.CustomHealthCheck{APIVersion: "v1", Kind: "Pod", Current: "true", Failed: "'yes'"}, "spec.healthCheckExprs[0].failed \"'yes'\" is of type string, not bool"},
		{kustomizev1.CustomHealthCheck{APIVersion: "a/b/c", Kind: "Pod", Current: "true"}, "spec.healthCheckExprs[0].apiVersion 'a/b/c'"},
	} {
		if _, err := healthChecker(withExprs(c.check)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.check, err, c.want)
		}
	}
}

// An expression is compiled once however many reconciles read it, and an expression that does
// not compile is refused every time (it is not kept).
func TestHealthExpressionsCompiledOnce(t *testing.T) {
	env, err := healthEnv()
	if err != nil {
		t.Fatal(err)
	}
	const source = "status.observedGeneration == metadata.generation && has(status.kept)"
	first, err := compileHealthExpr(env, source)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := compileHealthExpr(env, source); err != nil || again != first {
		t.Errorf("compiled again: %v", err)
	}
	for range 2 {
		if _, err := compileHealthExpr(env, "status.phase =="); err == nil {
			t.Error("an expression that does not compile was accepted")
		}
	}
}

// BenchmarkHealthChecker is what a reconcile of a Kustomization with three expressions pays
// to set up its health checks: a compile the first time, a lookup after it.
func BenchmarkHealthChecker(b *testing.B) {
	obj := withExprs(kustomizev1.CustomHealthCheck{
		APIVersion: "example.com/v1", Kind: "Sprocket",
		InProgress: "status.phase == 'Pending'",
		Failed:     "status.phase == 'Broken'",
		Current:    "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
	})
	b.ReportAllocs()
	for b.Loop() {
		check, err := healthChecker(obj)
		if err != nil || check == nil {
			b.Fatal(err)
		}
		healthSink = check
	}
}

// healthSink keeps what BenchmarkHealthChecker builds, so that nothing of it is optimised away.
var healthSink apply.HealthFunc
