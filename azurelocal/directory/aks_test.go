package directory

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// withClusters adds an Entra ID cluster with an explicit host and a local accounts cluster that
// declares nothing but its place, and grants the managed identity the Cluster User Role on the
// first.
func withClusters() string {
	clusters := `  managedClusters:
    - name: fleet
      subscription: ` + subID + `
      resourceGroup: rg
      location: westeurope
      fqdn: fleet-api.example.test
    - {name: Legacy_Cluster, subscription: ` + subID + `, resourceGroup: rg, localAccountsOnly: true}
`
	out := strings.Replace(base, "resources:\n", "resources:\n"+clusters, 1)
	return out + "  - {principal: mi, role: Azure Kubernetes Service Cluster User Role, scope: /subscriptions/" + subID +
		"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/fleet}\n"
}

// testCAPEM returns a self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cluster-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestManagedClusterDirectory(t *testing.T) {
	d, err := Parse([]byte(withClusters()))
	if err != nil {
		t.Fatal(err)
	}
	fleet, ok := d.ManagedCluster("FLEET")
	wantID := "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/fleet"
	if !ok || fleet.Kind != KindManagedCluster || fleet.ID() != wantID || fleet.Location != "westeurope" || fleet.LocalAccountsOnly {
		t.Fatalf("ManagedCluster = %+v, %v", fleet, ok)
	}
	if fleet.Host() != "fleet-api.example.test" {
		t.Errorf("Host with fqdn = %s", fleet.Host())
	}
	legacy, _ := d.ManagedCluster("legacy_cluster")
	sum := sha256.Sum256([]byte(strings.ToLower(legacy.ID())))
	if want := "legacy-cluster-dns-" + hex.EncodeToString(sum[:])[:8] + ".hcp.eastus.azmk8s.io"; legacy.Host() != want || legacy.Location != DefaultClusterLocation || !legacy.LocalAccountsOnly {
		t.Errorf("default Host = %s, want %s (%+v)", legacy.Host(), want, legacy)
	}
	if again, _ := Parse([]byte(withClusters())); func() string { c, _ := again.ManagedCluster("legacy_cluster"); return c.Host() }() != legacy.Host() {
		t.Error("the default host differs between loads")
	}
	if rs := d.Resources(KindManagedCluster); len(rs) != 2 || rs[1].Kind != KindManagedCluster {
		t.Errorf("Resources = %+v", rs)
	}
	if r, ok := d.Resource(KindManagedCluster, "fleet"); !ok || r.ID() != wantID {
		t.Errorf("Resource = %+v, %v", r, ok)
	}
	if all := d.ManagedClusters(); len(all) != 2 || all[1].Name != "Legacy_Cluster" {
		t.Errorf("ManagedClusters = %+v", all)
	}
	// The cluster is a role assignment scope: the grant at the cluster reaches it and no other.
	mi, _ := d.Principal("mi")
	if !d.Authorize(mi.PrincipalID, rbac.ActionManagedClusterUserCredential, wantID) ||
		d.Authorize(mi.PrincipalID, rbac.ActionManagedClusterUserCredential, legacy.ID()) {
		t.Error("the Cluster User Role at the cluster scope is not honoured as assigned")
	}
	// The rendered directory parses again, the default host still derived.
	out, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), ".azmk8s.io") {
		t.Errorf("the default host is written out:\n%s", out)
	}
	round, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c, _ := round.ManagedCluster("Legacy_Cluster"); c.Host() != legacy.Host() || c.Kind != KindManagedCluster || !c.LocalAccountsOnly {
		t.Errorf("after a round trip: %+v", c)
	}
}

func TestManagedClusterDefaultHostBounds(t *testing.T) {
	c := ManagedCluster{Resource: Resource{Name: strings.Repeat("a", 63), Subscription: subID, ResourceGroup: "rg", Kind: KindManagedCluster}}
	host := c.Host()
	label, _, _ := strings.Cut(host, ".")
	if len(label) > 63 || !ValidHostName(host) || !strings.HasSuffix(host, ".hcp.eastus.azmk8s.io") {
		t.Errorf("Host of a 63-character name = %s (first label %d characters)", host, len(label))
	}
}

func TestSetManagedClusterEndpoint(t *testing.T) {
	d, err := Parse([]byte(withClusters()))
	if err != nil {
		t.Fatal(err)
	}
	ca := testCAPEM(t)
	if err := d.SetManagedClusterEndpoint("fleet", "127-0-0-1.nip.example", ca); err != nil {
		t.Fatal(err)
	}
	c, _ := d.ManagedCluster("fleet")
	if c.Host() != "127-0-0-1.nip.example" || c.CertificateAuthority != ca {
		t.Errorf("after the change: %+v", c)
	}
	// An empty host restores the default; an empty CA removes it.
	if err := d.SetManagedClusterEndpoint("Fleet", "", ""); err != nil {
		t.Fatal(err)
	}
	if c, _ := d.ManagedCluster("fleet"); c.FQDN != "" || !strings.HasSuffix(c.Host(), ".hcp.westeurope.azmk8s.io") || c.CertificateAuthority != "" {
		t.Errorf("after the reset: %+v, host %s", c, c.Host())
	}
	for _, tt := range []struct {
		name, cluster, fqdn, ca, wantErr string
	}{
		{"unknown cluster", "ghost", "", "", "no managed cluster named 'ghost'"},
		{"host with a port", "fleet", "api.example.test:443", "", "fqdn 'api.example.test:443' is not a host name"},
		{"not a PEM", "fleet", "", "nope", "certificateAuthority: no PEM CERTIFICATE block"},
		{"host of another cluster", "fleet", func() string { c, _ := d.ManagedCluster("legacy_cluster"); return c.Host() }(), "", "is already the API server of cluster"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := d.SetManagedClusterEndpoint(tt.cluster, tt.fqdn, tt.ca)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if c, _ := d.ManagedCluster("fleet"); c.FQDN != "" {
		t.Errorf("a refused change was kept: %+v", c)
	}
}

func TestManagedClusterValidation(t *testing.T) {
	good := withClusters()
	for _, tt := range []struct {
		name, old, new, wantErr string
	}{
		{"name with a dot", "name: fleet\n", "name: fleet.x\n", "name 'fleet.x' must be 1 to 63 letters"},
		{"name ending with a hyphen", "name: fleet\n", "name: fleet-\n", "must be 1 to 63 letters, digits, hyphens and underscores"},
		{"name twice", "name: Legacy_Cluster", "name: FLEET", "'FLEET': the name is used twice"},
		{"location in capitals", "location: westeurope", "location: West Europe", "location 'West Europe' is not an Azure region name"},
		{"fqdn with a scheme", "fqdn: fleet-api.example.test", "fqdn: https://fleet-api.example.test", "fqdn 'https://fleet-api.example.test' is not a host name"},
		{"bad CA", "fqdn: fleet-api.example.test", "fqdn: fleet-api.example.test\n      certificateAuthority: nope", "resources.managedClusters[0] 'fleet': certificateAuthority: no PEM CERTIFICATE block"},
		{"same host", "localAccountsOnly: true}", "localAccountsOnly: true, fqdn: FLEET-API.example.test}", "host 'FLEET-API.example.test' is already the API server of cluster 'fleet'"},
		{"unknown subscription", "{name: Legacy_Cluster, subscription: " + subID, "{name: Legacy_Cluster, subscription: 00000000-0000-0000-0000-000000000009", "resources.managedClusters[1] 'Legacy_Cluster': subscription '00000000-0000-0000-0000-000000000009' is not declared"},
		{"unknown field", "localAccountsOnly: true}", "localAccounts: true}", "unknown field"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the test directory has no %q", tt.old)
			}
			_, err := Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	// A CA that parses is accepted.
	withCA := strings.Replace(good, "fqdn: fleet-api.example.test", "fqdn: fleet-api.example.test\n      certificateAuthority: \""+strings.ReplaceAll(testCAPEM(t), "\n", `\n`)+"\"", 1)
	if _, err := Parse([]byte(withCA)); err != nil {
		t.Errorf("a cluster with a CA: %v", err)
	}
}

func TestValidNames(t *testing.T) {
	for s, want := range map[string]bool{"a": true, "fleet_1-x": true, "-a": false, "a_": false, "": false, strings.Repeat("a", 64): false, "a.b": false} {
		if got := ValidManagedClusterName(s); got != want {
			t.Errorf("ValidManagedClusterName(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"a.b": true, "A-1.example": true, "a..b": false, "-a.b": false, "a:443": false, "": false, strings.Repeat("a", 64): false, "a b": false} {
		if got := ValidHostName(s); got != want {
			t.Errorf("ValidHostName(%q) = %v", s, got)
		}
	}
}
