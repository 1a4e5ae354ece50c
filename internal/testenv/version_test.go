package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/discovery"
)

// TestAPIServerVersionIsTheRelease guards the version stamp of `make tools`' kube-apiserver
// (hack/tools/kube-apiserver.sh): unstamped, /version says v0.0.0-master with no major or
// minor, `kubectl version` exits 1 and `flux check` cannot tell the Kubernetes version.
func TestAPIServerVersionIsTheRelease(t *testing.T) {
	want, err := pinnedKubernetes()
	if err != nil {
		t.Fatal(err)
	}
	env := Get(t)
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != want {
		t.Errorf("/version gitVersion = %q, want %q, the release hack/tools/go.mod pins (rebuild with `make tools`)", v.GitVersion, want)
	}
	if major, minor := v.Major, strings.TrimSuffix(v.Minor, "+"); !strings.HasPrefix(want, fmt.Sprintf("v%s.%s.", major, minor)) {
		t.Errorf("/version major, minor = %q, %q; want those of %s", v.Major, v.Minor, want)
	}
	if v.GitTreeState != "clean" || v.BuildDate == "" || v.BuildDate == "1970-01-01T00:00:00Z" {
		t.Errorf("/version gitTreeState = %q, buildDate = %q; want clean and the release's date", v.GitTreeState, v.BuildDate)
	}
}

// pinnedKubernetes returns the k8s.io/kubernetes version that hack/tools/go.mod requires.
func pinnedKubernetes() (string, error) {
	path := filepath.Join("..", "..", "hack", "tools", "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "k8s.io/kubernetes" {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s requires no k8s.io/kubernetes", path)
}
