package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineDependsOnNoLocalAzure keeps the house rule of DESIGN.md: production code knows only
// production Azure, so nothing under api/ or internal/ (but this package) may import the local
// Azure or this test control plane.
func TestEngineDependsOnNoLocalAzure(t *testing.T) {
	const module = "github.com/azimuth-gitops/azimuth"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"/api/...", module+"/internal/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{module + "/azurelocal", module + "/internal/testenv"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], module+"/internal/testenv") || !strings.HasPrefix(fields[0], module+"/") {
			continue
		}
		for _, dep := range fields[1:] {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s imports %s; the engine must not depend on the local Azure or test helpers", fields[0], dep)
				}
			}
		}
	}
}
