package aks

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseClusterID(t *testing.T) {
	const sub = "00000000-0000-4000-8000-000000000001"
	good := "/subscriptions/" + sub + "/resourceGroups/fleet/providers/Microsoft.ContainerService/managedClusters/east-1"
	id, err := ParseClusterID(good)
	if err != nil {
		t.Fatal(err)
	}
	if id != (ClusterID{Subscription: sub, ResourceGroup: "fleet", Name: "east-1"}) || id.String() != good {
		t.Errorf("parsed %+v, string %s", id, id)
	}
	// ARM writes resource IDs in any case.
	if _, err := ParseClusterID(strings.ToLower(good)); err != nil {
		t.Errorf("lower case: %v", err)
	}
	for _, bad := range []string{
		"", "east-1", good + "/", good + "/agentPools/a",
		"/subscriptions/short/resourceGroups/fleet/providers/Microsoft.ContainerService/managedClusters/east-1",
		"/subscriptions/" + sub + "/resourceGroups/fleet/providers/Microsoft.ContainerRegistry/registries/east-1",
		"/subscriptions/" + sub + "/resourceGroups/" + strings.Repeat("g", 201) + "/providers/Microsoft.ContainerService/managedClusters/a",
	} {
		_, err := ParseClusterID(bad)
		if err == nil || !strings.Contains(err.Error(), "invalid AKS cluster ID") || !strings.Contains(err.Error(), "az aks show") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestCanonicalAddress(t *testing.T) {
	for in, want := range map[string]string{
		"https://Fleet-DNS.hcp.eastus.azmk8s.io":      "https://fleet-dns.hcp.eastus.azmk8s.io:443",
		"https://fleet-dns.hcp.eastus.azmk8s.io:443/": "https://fleet-dns.hcp.eastus.azmk8s.io:443",
		"https://10.0.0.1:6443":                       "https://10.0.0.1:6443",
		"https://[::1]:6443":                          "https://[::1]:6443",
	} {
		got, err := CanonicalAddress(in)
		if err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "fleet.example.com", "http://fleet.example.com", "https://", "https://u:p@fleet.example.com", "https://fleet.example.com/api", "https://fleet.example.com?x=1"} {
		if _, err := CanonicalAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEndpointsOfKubeconfig(t *testing.T) {
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: a-other
  cluster: {server: "https://OTHER.example.com:6443"}
- name: fleet
  cluster: {server: "https://fleet.example.com", certificate-authority-data: "Q0E="}
contexts:
- name: fleet
  context: {cluster: fleet, user: u}
current-context: fleet
users:
- name: u
  user: {token: "s3cret-token"}
`
	eps, err := endpointsOf([]byte(kubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 || eps[0].Address != "https://fleet.example.com:443" || string(eps[0].CAData) != "CA" || eps[1].Address != "https://other.example.com:6443" {
		t.Errorf("endpoints %+v: want the current context's cluster first", eps)
	}
	_, err = endpointsOf([]byte("users: [{name: u, user: {token: s3cret-token}}]\n: not yaml"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a broken kubeconfig: %v", err)
	}
}

// FuzzParseClusterID: any ConfigMap value gives an ID that prints back as it was read (up to
// case), or an error that is valid text of bounded length.
func FuzzParseClusterID(f *testing.F) {
	f.Add("/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c")
	f.Add("/subscriptions//resourceGroups//providers/Microsoft.ContainerService/managedClusters/")
	f.Add(strings.Repeat("é", 400))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseClusterID(s)
		if err != nil {
			if len(err.Error()) > 1000 || (utf8.ValidString(s) && !utf8.ValidString(err.Error())) {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !strings.EqualFold(id.String(), strings.TrimSpace(s)) {
			t.Fatalf("%q read as %q", s, id)
		}
		if _, err := ParseClusterID(id.String()); err != nil {
			t.Fatalf("%q does not read back: %v", id, err)
		}
	})
}

// FuzzEndpointsOf: whatever ARM's kubeconfigs hold, reading them ends without a panic, and every
// address read is canonical.
func FuzzEndpointsOf(f *testing.F) {
	f.Add([]byte("clusters: [{name: c, cluster: {server: 'https://a.example.com'}}]"))
	f.Add([]byte("apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://A:1'}}]"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		eps, err := endpointsOf(raw)
		if err != nil {
			return
		}
		for _, ep := range eps {
			if again, err := CanonicalAddress(ep.Address); err != nil || again != ep.Address {
				t.Fatalf("address %q is not canonical: %q, %v", ep.Address, again, err)
			}
		}
	})
}
