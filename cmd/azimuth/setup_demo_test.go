package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/devenv/demo"
)

// demoSOPSKey is the built-in vault's key that the demo encrypts its SOPS Secret with.
const demoSOPSKey = "https://azimuth-local.vault.azure.net/keys/sops"

// TestSetupPlanFixesTeamDenied: the demo's tenant team-denied, whose identity holds nothing on
// purpose, fails on every object; `azimuth setup plan --from-cluster -n team-denied --apply`,
// as the directory's administrator (Owner of the subscription, Project Collection Administrator
// of the Azure DevOps organization), grants what they need (AcrPull on the registry, Storage Blob
// Data Reader on the container, Key Vault Crypto User on the key, the project's Readers), and
// each object becomes Ready.
func TestSetupPlanFixesTeamDenied(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), devUpBound)
	defer cancel()
	state := t.TempDir()
	s, err := demo.Start(ctx, &demo.Options{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	const ns = "team-denied"
	objects := []conditionedObject{
		&sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "manifests"}},
		&sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"}},
		&sourcev1.Bucket{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: demo.BucketName}},
		&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: demo.SecretsKustomization}},
	}
	for _, o := range objects {
		waitReady(t, s.Env.Client, o, metav1.ConditionFalse)
	}

	caFile := filepath.Join(state, "plan-ca.pem")
	if err := os.WriteFile(caFile, s.Env.Azure.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_TENANT_ID", planTenantID)
	t.Setenv("AZURE_CLIENT_ID", planAdminID)
	t.Setenv("AZURE_CLIENT_SECRET", planAdminSecret)
	t.Setenv(connectToEnv, strings.Join(s.Env.Azure.ConnectTo(), ","))
	// No --issuer: the plan reads it from the API server's OpenID configuration.
	args := []string{"setup", "plan", "--from-cluster", "-n", ns, "--kubeconfig", s.Env.Kube.Kubeconfig,
		"--subscription", planSubscription, "--sops-key", demoSOPSKey, "--ca-file", caFile, "--apply"}
	out, _, err := run(ctx, args...)
	t.Logf("setup plan --apply:\n%s", out)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, want := range []string{
		"role AcrPull for team-denied on the registry azimuthlocal: created",
		"role Storage Blob Data Reader for team-denied on the container manifests of the storage account azimuthlocal: created",
		"role Key Vault Crypto User for team-denied on the key sops of the vault azimuth-local: created",
		"Azure DevOps group Readers of azimuth-local/fleet for team-denied: created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the apply's report lacks %q", want)
		}
	}
	for _, o := range objects {
		requestReconcile(t, s.Env.Client, o)
		waitReady(t, s.Env.Client, o, metav1.ConditionTrue)
	}
}
