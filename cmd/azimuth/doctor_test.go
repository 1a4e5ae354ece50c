package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/doctor"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestDoctor walks an OCIRepository's chain against the local Azure and a real API server: a
// healthy chain, then one broken link at a time, each named with its fix.
func TestDoctor(t *testing.T) {
	testenvWithCRDs(t)
	c := localCluster(t)
	ns := c.namespace(t)
	scheme, _ := manager.Scheme()
	kube, err := client.New(c.env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	dir := c.azure.Directory()
	healthy, _ := dir.Principal("flux-controller") // AcrPull on the registry
	denied, _ := dir.Principal("team-denied")      // no role
	annotate := func(p directory.Principal) map[string]string {
		return map[string]string{identity.ClientIDAnnotation: p.ClientID, identity.TenantIDAnnotation: p.TenantID}
	}
	for _, sa := range []*corev1.ServiceAccount{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "healthy", Annotations: annotate(healthy)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unfederated", Annotations: annotate(healthy)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "denied", Annotations: annotate(denied)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-tenant", Annotations: map[string]string{identity.ClientIDAnnotation: healthy.ClientID}}},
	} {
		c.create(t, sa)
	}
	for principal, sa := range map[string]string{"flux-controller": "healthy", "team-denied": "denied"} {
		if err := dir.AddFederatedCredential(principal, directory.FederatedCredential{
			Name: ns + "-" + sa, Issuer: c.env.IssuerURL, Subject: "system:serviceaccount:" + ns + ":" + sa,
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sa := range []string{"healthy", "unfederated", "denied", "no-tenant"} {
		obj := &sourcev1.OCIRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa},
			Spec: sourcev1.OCIRepositorySpec{URL: "oci://azimuthlocal.azurecr.io/podinfo", Provider: "azure", ServiceAccountName: sa,
				Interval: metav1.Duration{Duration: time.Hour}},
		}
		if err := kube.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	base := append([]string{"doctor", "--kubeconfig", c.env.Kubeconfig, "--feature-gates=ObjectLevelWorkloadIdentity=true"}, c.azureFlags()...)

	for _, tc := range []struct {
		sa, broken string
		want       []string
	}{
		{"healthy", "", []string{"✔ feature gate", "✔ service account", "✔ token request: issuer " + c.env.IssuerURL, "✔ entra exchange: ClientAssertionCredential", "✔ role"}},
		{"no-tenant", "service account", []string{"lacks the annotation " + identity.TenantIDAnnotation, "fix: annotate it", "azimuth setup identity --namespace " + ns + " --service-account no-tenant"}},
		{"unfederated", "entra exchange", []string{"✔ token request", "AADSTS700213", "azimuth setup identity --namespace " + ns + " --service-account unfederated --issuer " + c.env.IssuerURL}},
		{"denied", "role", []string{"✔ entra exchange", "needs the role AcrPull on the registry azimuthlocal", "fix: azimuth setup grant --integration acr --client-id " + denied.ClientID}},
	} {
		t.Run(tc.sa, func(t *testing.T) {
			out, _, err := run(t.Context(), append(slices.Clone(base), "ocirepository", ns+"/"+tc.sa)...)
			if (err == nil) != (tc.broken == "") {
				t.Errorf("err = %v, want a broken link: %v\n%s", err, tc.broken != "", out)
			}
			if tc.broken != "" && !strings.Contains(out, "✘ "+tc.broken) {
				t.Errorf("the broken link is not %s:\n%s", tc.broken, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// Without the gate in the doctor's flags or a controller Deployment, the gate link breaks and
	// the rest is still checked; --output json is for scripts.
	out, _, err := run(t.Context(), append([]string{"doctor", "--kubeconfig", c.env.Kubeconfig, "-o", "json"}, append(c.azureFlags(), "ocirepository", ns+"/healthy")...)...)
	if err == nil {
		t.Error("no error without the feature gate")
	}
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	for _, l := range r.Links {
		if l.OK == (l.Name == "feature gate") {
			t.Errorf("link %+v", l)
		}
	}
}
