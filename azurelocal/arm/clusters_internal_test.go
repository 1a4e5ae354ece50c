package arm

import (
	"net/http"
	"net/url"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// FuzzCredentialFormat: whatever listClusterUserCredential's query holds, it is read as a format
// AKS knows or refused with ARM's 400, and the kubeconfig written for it is YAML.
func FuzzCredentialFormat(f *testing.F) {
	for _, seed := range [][2]string{{"", ""}, {"exec", "public"}, {"AZURE", "Public"}, {"yaml", ""}, {"exec", "private"}, {"\x00", "%"}} {
		f.Add(seed[0], seed[1])
	}
	c := directory.ManagedCluster{Resource: directory.Resource{Name: "c", Subscription: "s", ResourceGroup: "g", Kind: directory.KindManagedCluster}}
	f.Fuzz(func(t *testing.T, format, fqdn string) {
		got, aerr := credentialFormat(url.Values{"format": {format}, "server-fqdn": {fqdn}})
		if aerr != nil {
			if aerr.status != http.StatusBadRequest || aerr.code != "BadRequest" {
				t.Fatalf("format %q, server-fqdn %q: %d %s", format, fqdn, aerr.status, aerr.code)
			}
			return
		}
		if got != formatExec && got != formatAzure {
			t.Fatalf("format %q read as %q", format, got)
		}
		data, err := userKubeconfig(c, "t", got)
		var back map[string]any
		if err != nil || yaml.Unmarshal(data, &back) != nil || back["kind"] != "Config" {
			t.Fatalf("format %q: kubeconfig %s: %v", got, data, err)
		}
	})
}
