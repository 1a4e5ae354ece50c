package demo

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// TestUsage: what `azimuth dev up` prints after the table says that only the sample namespaces
// are watched (issue 10, item 12), and gives the proxy lines and a crane login that reach the
// local Azure (item 8).
func TestUsage(t *testing.T) {
	names, err := lookup(directory.Default())
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	azure, err := azurelocal.Start(t.Context(), &azurelocal.Options{StateDir: filepath.Join(state, "azure")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { azure.Stop() })
	s := &System{
		Env:      &devenv.Env{Azure: azure, Kube: &testenv.Env{Kubeconfig: filepath.Join(state, "kube", "kubeconfig")}},
		StateDir: state,
		names:    names,
	}
	out := s.Usage("azimuth")
	for _, want := range []string{
		"The controllers watch only the sample namespaces: team-apps, team-platform, team-denied, team-secrets, team-node.\n",
		"Objects applied elsewhere are not reconciled",
		"kubectl get ocirepositories,gitrepositories,buckets,imagerepositories,imagepolicies,kustomizations -A\n",
		"kubectl get providers,alerts -A",
		"kubectl -n team-denied describe bucket manifests",
		"/_apis/git/repositories/fleet-infra/commits/$SHA/statuses?api-version=6.0",
		"kubectl -n team-denied describe kustomization secrets\n",
		"export CURL_CA_BUNDLE=" + filepath.Join(state, "azure", "ca.pem") + "\n",
		"export HTTPS_PROXY=" + azure.ProxyURL() + "\n",
		"export NO_PROXY=localhost,127.0.0.1,::1\n",
		"export SSL_CERT_FILE=" + filepath.Join(state, "azure", "ca.pem") + "\n",
		"crane auth login azimuthlocal.azurecr.io -u " + names.pushID + " -p 'azimuth-local-secret-do-not-use-elsewhere'\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the usage lacks %q:\n%s", want, out)
		}
	}
}
