package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// runInstallVerbs runs `azimuth install|uninstall args...` in process, on a root that holds the
// two verbs, and returns what they wrote to stdout.
func runInstallVerbs(ctx context.Context, args ...string) (string, error) {
	root := &cobra.Command{Use: "azimuth", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newInstallCmd(), newUninstallCmd())
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestInstallExport(t *testing.T) {
	out, err := runInstallVerbs(t.Context(), "install", "--export", "--namespace", "gitops", "--components", "workload-identity,multi-tenancy",
		"--image", "myreg.azurecr.io/azimuth:v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(out, "\n---\n")
	kinds := map[string]int{}
	for _, d := range docs {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
			t.Fatalf("%v in\n%s", err, d)
		}
		kinds[obj.Kind]++
		if obj.Metadata.Namespace != "" && obj.Metadata.Namespace != "gitops" {
			t.Errorf("%s in namespace %s", obj.Kind, obj.Metadata.Namespace)
		}
	}
	if kinds["CustomResourceDefinition"] != 9 || kinds["Deployment"] != 1 || kinds["ClusterRoleBinding"] != 1 {
		t.Errorf("exported kinds %v: want 9 CRDs, the Deployment, and only the controller's ClusterRoleBinding (multi-tenancy)", kinds)
	}
	for _, want := range []string{"--feature-gates=ObjectLevelWorkloadIdentity=true", "--default-service-account=default", "image: myreg.azurecr.io/azimuth:v1.0.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("the export lacks %q", want)
		}
	}
}

func TestInstallRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"install", "--export", "--components", "projected-token"},
		{"install", "--export", "--components", "nope"},
		{"install", "--export", "--image", "azimuth"},
		{"install", "--export", "--namespace", "Not_A_Namespace"},
	} {
		if _, err := runInstallVerbs(t.Context(), args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestInstallUninstall installs into a namespace of its own of the package's control plane, and
// uninstalls, first as a dry run. It keeps the CRDs, which other tests of the package use.
func TestInstallUninstall(t *testing.T) {
	env := testenv.Get(t)
	ns := "azimuth-" + strings.ToLower(rand.Text()[:8])
	out, err := runInstallVerbs(t.Context(), "install", "--kubeconfig", env.Kubeconfig, "--namespace", ns)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "Deployment/"+ns+"/azimuth-controller created\n") {
		t.Errorf("install printed:\n%s", out)
	}
	out, err = runInstallVerbs(t.Context(), "install", "--kubeconfig", env.Kubeconfig, "--namespace", ns)
	if err != nil || strings.Contains(out, "created") || strings.Contains(out, "configured") {
		t.Errorf("a second install: %v\n%s", err, out)
	}
	out, err = runInstallVerbs(t.Context(), "uninstall", "--kubeconfig", env.Kubeconfig, "--namespace", ns, "--dry-run")
	if err != nil || !strings.Contains(out, "Deployment/"+ns+"/azimuth-controller deleted (dry run)\n") {
		t.Errorf("uninstall --dry-run: %v\n%s", err, out)
	}
	out, err = runInstallVerbs(t.Context(), "uninstall", "--kubeconfig", env.Kubeconfig, "--namespace", ns)
	if err != nil || !strings.Contains(out, "ClusterRole/azimuth-controller-"+ns+" deleted\n") || strings.Contains(out, "CustomResourceDefinition") {
		t.Errorf("uninstall: %v\n%s", err, out)
	}
}
