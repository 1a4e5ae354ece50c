package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/doctor"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
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
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-annotation"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "subject-case", Annotations: annotate(healthy)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slash", Annotations: annotate(healthy)}},
	} {
		c.create(t, sa)
	}
	// The issuer with a trailing slash if the cluster's has none, and without if it has one.
	otherSlash := c.env.IssuerURL + "/"
	if strings.HasSuffix(c.env.IssuerURL, "/") {
		otherSlash = strings.TrimSuffix(c.env.IssuerURL, "/")
	}
	for _, fc := range []struct{ principal, sa, issuer, subject string }{
		{"flux-controller", "healthy", c.env.IssuerURL, "healthy"},
		{"team-denied", "denied", c.env.IssuerURL, "denied"},
		// Created by hand with the service account's name capitalized: Entra compares subjects
		// case-sensitively (AADSTS7002138).
		{"flux-controller", "subject-case", c.env.IssuerURL, "Subject-Case"},
		// Created with the other spelling of the issuer (AADSTS700211, or 700213 when the identity
		// has credentials for the issuer with other subjects).
		{"flux-controller", "slash", otherSlash, "slash"},
	} {
		if err := dir.AddFederatedCredential(fc.principal, directory.FederatedCredential{
			Name: ns + "-" + fc.sa, Issuer: fc.issuer, Subject: "system:serviceaccount:" + ns + ":" + fc.subject,
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sa := range []string{"healthy", "unfederated", "denied", "no-tenant", "no-annotation", "subject-case", "slash"} {
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

	subject := func(sa string) string { return "\"system:serviceaccount:" + ns + ":" + sa + "\"" }
	for _, tc := range []struct {
		sa, broken string
		want       []string
		flags      []string
	}{
		{sa: "healthy", want: []string{"✔ feature gate", "✔ service account", "✔ token request: issuer " + c.env.IssuerURL, "✔ entra exchange: ClientAssertionCredential", "✔ role"}},
		{sa: "no-annotation", broken: "service account", want: []string{"lacks the annotation " + identity.ClientIDAnnotation + " and " + identity.TenantIDAnnotation,
			"fix: annotate it", "azimuth setup identity --namespace " + ns + " --service-account no-annotation"}},
		{sa: "subject-case", broken: "subject", want: []string{"✘ entra exchange: AADSTS7002138", "the federated credential's subject differs from the token's only in case",
			"fix: set the federated credential's subject of", "to exactly " + subject("subject-case"), "- issuer:"}},
		{sa: "subject-case", broken: "subject", flags: []string{"--federated-subject", "system:serviceaccount:" + ns + ":Subject-Case"},
			want: []string{"✘ subject: the federated credential's subject \"system:serviceaccount:" + ns + ":Subject-Case\" differs from the token's only in case",
				"fix: set the federated credential's subject to exactly " + subject("subject-case")}},
		{sa: "slash", broken: "entra exchange", want: []string{"✘ entra exchange: AADSTS7002", "- issuer: the token's issuer is \"" + c.env.IssuerURL + "\"",
			"with a trailing slash does not match", "--federated-issuer", "- subject:", "the subject " + subject("slash")}},
		{sa: "slash", broken: "issuer", flags: []string{"--federated-issuer", otherSlash}, want: []string{"differ only by a trailing slash",
			"fix: set the federated credential's issuer to the token's: azimuth setup identity --namespace " + ns + " --service-account slash --issuer " + c.env.IssuerURL}},
		{sa: "no-tenant", broken: "service account", want: []string{"lacks the annotation " + identity.TenantIDAnnotation, "fix: annotate it", "azimuth setup identity --namespace " + ns + " --service-account no-tenant"}},
		{sa: "unfederated", broken: "entra exchange", want: []string{"✔ token request", "AADSTS700213", "the subject " + subject("unfederated"),
			"azimuth setup identity --namespace " + ns + " --service-account unfederated --issuer " + c.env.IssuerURL}},
		{sa: "denied", broken: "role", want: []string{"✔ entra exchange", "needs the role AcrPull on the registry azimuthlocal", "fix: azimuth setup grant --integration acr --client-id " + denied.ClientID}},
	} {
		t.Run(tc.sa+strings.Join(tc.flags, ""), func(t *testing.T) {
			out, _, err := run(t.Context(), append(append(slices.Clone(base), tc.flags...), "ocirepository", ns+"/"+tc.sa)...)
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

// TestDoctorServices asks each service the doctor knows beyond ACR, against a local Azure with
// Blob and a real API server: Blob (a Bucket), Azure DevOps (a GitRepository reads, an
// ImageUpdateAutomation's GitRepository pushes), Event Hubs (an azureeventhub Provider) and Key
// Vault (a Kustomization's decryption with --key), each healthy and without its role or group;
// and the issuer link when no federated credential matches.
func TestDoctorServices(t *testing.T) {
	env := testenvWithCRDs(t)
	spec := directory.Default().Spec()
	spec.Resources.StorageAccounts[0].Containers = append(spec.Resources.StorageAccounts[0].Containers, "manifests")
	// team-apps is a user of the Azure DevOps organization, in no group of its project.
	spec.Resources.DevOpsOrganizations[0].Members = append(spec.Resources.DevOpsOrganizations[0].Members, "team-apps")
	dir, err := directory.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := azuretest.StartAzure("", &azurelocal.Options{
		StateDir: filepath.Join(t.TempDir(), "local-azure"), IssuerCAs: [][]byte{env.CAPEM},
		Directory: dir, Blob: &azurelocal.BlobOptions{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	c := &cluster{env: env, azure: a.Azure}
	if c.kube, err = client.New(env.Config, client.Options{}); err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, c.kube, "doctor-")
	principals := map[string]string{ // service account: principal
		"controller": "flux-controller", // Storage Blob Data Reader, Key Vault Crypto User, Event Hubs Data Sender, Contributors
		"kubelet":    "node-kubelet",    // Readers of the Azure DevOps project
		"denied":     "team-denied",     // no role, no organization
		"member":     "team-apps",       // a user of the organization in no project group
	}
	for sa, name := range principals {
		p, ok := a.Directory().Principal(name)
		if !ok {
			t.Fatalf("no principal %s", name)
		}
		c.create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa,
			Annotations: map[string]string{identity.ClientIDAnnotation: p.ClientID, identity.TenantIDAnnotation: p.TenantID}}})
		if err := a.Directory().AddFederatedCredential(name, directory.FederatedCredential{
			Name: ns + "-" + sa, Issuer: env.IssuerURL, Subject: "system:serviceaccount:" + ns + ":" + sa,
		}); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := a.Directory().Principal("flux-controller")
	c.create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unfederated",
		Annotations: map[string]string{identity.ClientIDAnnotation: p.ClientID, identity.TenantIDAnnotation: p.TenantID}}})
	create := func(apiVersion, kind, name string, spec map[string]any) {
		t.Helper()
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
			"metadata": map[string]any{"namespace": ns, "name": name}, "spec": spec}}
		c.create(t, obj)
	}
	for _, sa := range []string{"controller", "denied", "unfederated"} {
		create("source.toolkit.fluxcd.io/v1", "Bucket", sa, map[string]any{"provider": "azure", "bucketName": "manifests",
			"endpoint": "https://azimuthlocal.blob.core.windows.net", "interval": "1h", "serviceAccountName": sa})
		create("kustomize.toolkit.fluxcd.io/v1", "Kustomization", sa, map[string]any{"interval": "1h", "prune": true,
			"sourceRef":  map[string]any{"kind": "GitRepository", "name": "x"},
			"decryption": map[string]any{"provider": "sops", "serviceAccountName": sa}})
	}
	for _, sa := range []string{"kubelet", "denied", "member", "controller"} {
		create("source.toolkit.fluxcd.io/v1", "GitRepository", sa, map[string]any{"provider": "azure", "interval": "1h",
			"url": "https://dev.azure.com/azimuth-local/fleet/_git/fleet-infra", "serviceAccountName": sa})
		create("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", sa, map[string]any{"interval": "1h",
			"sourceRef": map[string]any{"kind": "GitRepository", "name": sa},
			"git":       map[string]any{"commit": map[string]any{"author": map[string]any{"name": "flux", "email": "flux@example.com"}}, "push": map[string]any{"branch": "main"}}})
	}
	for _, sa := range []string{"controller", "denied"} {
		create("notification.toolkit.fluxcd.io/v1beta3", "Provider", sa, map[string]any{"type": "azureeventhub",
			"address": "flux-events", "channel": "azimuth-local", "serviceAccountName": sa})
	}
	denied, _ := a.Directory().Principal("team-denied")
	member, _ := a.Directory().Principal("team-apps")
	kubelet, _ := a.Directory().Principal("node-kubelet")
	const key = "https://azimuth-local.vault.azure.net/keys/sops"
	base := append([]string{"doctor", "--kubeconfig", env.Kubeconfig, "--feature-gates=ObjectLevelWorkloadIdentity=true"}, c.azureFlags()...)
	for _, tc := range []struct {
		name   string
		args   []string
		broken string
		want   []string
	}{
		{"bucket healthy", []string{"bucket", ns + "/controller"}, "", []string{"✔ entra exchange", "✔ role: storage account azimuthlocal lets it list container manifests"}},
		{"bucket denied", []string{"bucket", ns + "/denied"}, "role", []string{"✔ entra exchange", "it needs the role Storage Blob Data Reader on the storage account azimuthlocal",
			"fix: azimuth setup grant --integration blob --client-id " + denied.ClientID}},
		{"gitrepository healthy", []string{"gitrepository", ns + "/kubelet"}, "", []string{"✔ role: Azure DevOps lets it read azimuth-local/fleet/_git/fleet-infra"}},
		{"gitrepository denied", []string{"gitrepository", ns + "/denied"}, "role", []string{"organization azimuth-local", "group Readers",
			"fix: azimuth setup grant --integration devops --client-id " + denied.ClientID + " --organization azimuth-local --project \"fleet\" --group Readers"}},
		{"gitrepository member", []string{"gitrepository", ns + "/member"}, "role", []string{"does not exist or that it may not see it", "needs the project fleet's group Readers",
			"fix: azimuth setup grant --integration devops --client-id " + member.ClientID + " --organization azimuth-local --project \"fleet\" --group Readers"}},
		{"automation contributor", []string{"imageupdateautomation", ns + "/controller"}, "", []string{"✔ source: GitRepository " + ns + "/controller",
			"✔ role: Azure DevOps lets it push to azimuth-local/fleet/_git/fleet-infra (organization member, project group Contributors)"}},
		{"automation reader", []string{"imageupdateautomation", ns + "/kubelet"}, "role", []string{"✔ entra exchange", "refused the push (TF401027)",
			"fix: azimuth setup grant --integration devops --client-id " + kubelet.ClientID + " --organization azimuth-local --project \"fleet\" --group Contributors"}},
		{"automation not member", []string{"imageupdateautomation", ns + "/denied"}, "role", []string{"must be a user of the organization azimuth-local", "group Contributors"}},
		{"provider healthy", []string{"provider", ns + "/controller"}, "", []string{"✔ provider: spec.type is azureeventhub", "✔ entra exchange",
			"✔ role: Event Hubs azimuth-local.servicebus.windows.net lets it attach a sender to flux-events (nothing sent)"}},
		{"provider denied", []string{"provider", ns + "/denied"}, "role", []string{"✔ entra exchange", "needs the role Azure Event Hubs Data Sender",
			"fix: azimuth setup grant --integration eventhubs --client-id " + denied.ClientID}},
		{"kustomization healthy", []string{"kustomization", ns + "/controller", "--key", key}, "", []string{"✔ role: Key Vault azimuth-local lets it read the key sops"}},
		{"kustomization denied", []string{"kustomization", ns + "/denied", "--key", key}, "role", []string{"needs the role Key Vault Crypto User",
			"fix: azimuth setup grant --integration keyvault --client-id " + denied.ClientID}},
		{"kustomization without key", []string{"kustomization", ns + "/controller"}, "", []string{"- role:", "give --key"}},
		{"issuer unknown", []string{"bucket", ns + "/unfederated"}, "entra exchange", []string{"- issuer: the token's issuer is \"" + env.IssuerURL + "\"", "--federated-issuer"}},
		{"issuer slash", []string{"bucket", ns + "/unfederated", "--federated-issuer", env.IssuerURL + "/"}, "issuer", []string{"differ only by a trailing slash",
			"fix: set the federated credential's issuer to the token's: azimuth setup identity --namespace " + ns + " --service-account unfederated --issuer " + env.IssuerURL}},
		{"issuer case", []string{"bucket", ns + "/unfederated", "--federated-issuer", strings.ToUpper(env.IssuerURL)}, "issuer", []string{"differ only in case"}},
		{"issuer same", []string{"bucket", ns + "/unfederated", "--federated-issuer", env.IssuerURL}, "entra exchange", []string{"✔ issuer: the federated credential's issuer is the token's",
			"system:serviceaccount:" + ns + ":unfederated"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := run(t.Context(), append(slices.Clone(base), tc.args...)...)
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
}
