package notify

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
)

// TestCommitStatusExpr: the expressions of Flux's documentation and tests name the status from
// the event (as the Alert delivers it), the Alert and the Provider.
func TestCommitStatusExpr(t *testing.T) {
	a := alert("fleet", "ado", func(a *notificationv1.Alert) {
		a.Spec.EventMetadata = map[string]string{"clusterName": "prod-01", "environment": "production"}
		a.Spec.Summary = "west"
	})
	e := kustomizationEvent("apps", "web", SeverityInfo, "Applied revision")
	e.Metadata[EventGroup+"/foo"] = "bar"
	delivered, _ := combine(e, a.Spec.EventMetadata, a.Spec.Summary)
	for expr, want := range map[string]string{
		// Flux 2.6's announcement.
		"(event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.clusterName)": "Kustomization/web/prod-01",
		// Flux's providers documentation.
		"(event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.foo + '/' + provider.metadata.uid.split('-').first().value()).lowerAscii()": "kustomization/web/bar/0c9c2e41",
		// Flux's tests: the three variables.
		"event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.environment + '/' + provider.metadata.uid + '/' + alert.metadata.name": "Kustomization/web/production/0c9c2e41-d2f9-4f9b-9c41-ado/fleet",
		// The objects' other fields, with their apiVersion and kind; integers stay integers.
		"alert.kind + ':' + alert.spec.providerRef.name + ':' + provider.spec.type + ':' + string(provider.metadata.generation + 1)": "Alert:ado:azuredevops:4",
		"event.severity + '/' + event.reason + '/' + event.metadata.summary + '/' + event.metadata.revision.split('@')[0]":           "info/ReconciliationSucceeded/west/main",
		"has(event.metadata.missing) ? 'x' : string(event.?metadata.clusterName.orValue('none'))":                                    "prod-01",
	} {
		p := provider("ado", "azuredevops", "https://dev.azure.com/contoso/platform/_git/fleet", func(p *notificationv1.Provider) {
			p.Spec.CommitStatusExpr = expr
			p.Generation = 3
		})
		var c statusExprs
		x, err := c.compiled(p)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		got, err := x.eval(context.Background(), &delivered, a, p)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", expr, got, err, want)
		}
	}
}

// TestCommitStatusExprErrors: an expression that does not compile, is not of type string, or
// fails on the event is refused with the expression and CEL's error, for good.
func TestCommitStatusExprErrors(t *testing.T) {
	e := kustomizationEvent("apps", "web", SeverityInfo, "m")
	delivered, _ := combine(e, nil, "")
	a := alert("fleet", "ado")
	for _, tc := range []struct{ expr, compile, eval string }{
		{expr: "event.involvedObject.kind + '/' +", compile: `"event.involvedObject.kind + '/' +" does not compile: 1:`},
		{expr: "cluster.name", compile: "undeclared reference to 'cluster'"},
		{expr: "event.involvedObject.name.size()", compile: `"event.involvedObject.name.size()" is of type int, not string`},
		{expr: "event.metadata.revision", compile: "is of type dyn, not string"},
		{expr: "1 + 2", compile: "is of type int, not string"},
		{expr: "'x/' + event.metadata.clusterName", eval: `"'x/' + event.metadata.clusterName" failed to evaluate: no such key: clusterName`},
		{expr: "string(event.metadata.revision.size())[1:]", compile: "does not compile"},
		{expr: "event.reason == 'x' ? 'a' : ''", eval: "evaluated to an empty string"},
	} {
		p := provider("ado", "azuredevops", "https://dev.azure.com/contoso/platform/_git/fleet", func(p *notificationv1.Provider) { p.Spec.CommitStatusExpr = tc.expr })
		var c statusExprs
		x, err := c.compiled(p)
		if tc.compile != "" {
			if err == nil || !strings.Contains(err.Error(), tc.compile) || !strings.Contains(err.Error(), "provider 'apps/ado'") || retryable(err) {
				t.Errorf("%s: compiled with %v; want %q", tc.expr, err, tc.compile)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if _, err := x.eval(context.Background(), &delivered, a, p); err == nil || !strings.Contains(err.Error(), tc.eval) || retryable(err) {
			t.Errorf("%s: evaluated with %v; want %q", tc.expr, err, tc.eval)
		}
	}
}

// TestCommitStatusExprCache: an expression is compiled once per generation of its Provider.
func TestCommitStatusExprCache(t *testing.T) {
	p := provider("ado", "azuredevops", "", func(p *notificationv1.Provider) { p.Spec.CommitStatusExpr = "'a'"; p.Generation = 1 })
	var c statusExprs
	x1, _ := c.compiled(p)
	if x2, _ := c.compiled(p.DeepCopy()); x1 != x2 {
		t.Error("the same generation was compiled again")
	}
	p.Spec.CommitStatusExpr, p.Generation = "'b'", 2
	x3, _ := c.compiled(p)
	if x3 == x1 {
		t.Fatal("a new generation was not compiled")
	}
	got, err := x3.eval(context.Background(), &Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization"}, Timestamp: metav1.Now()}, alert("a", "ado"), p)
	if got != "b" || err != nil {
		t.Errorf("%q, %v", got, err)
	}
	c.forget(client.ObjectKeyFromObject(p))
	if x4, _ := c.compiled(p); x4 == x3 {
		t.Error("a forgotten Provider was not compiled again")
	}
}
