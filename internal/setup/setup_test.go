package setup

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	sub        = "9500bbc1-08e9-41a1-a586-73f24f82e037"
	testClient = "213d8012-7eed-4f6d-a0db-54570c6d6f89"
	tenant     = "2e811126-9388-40f9-a8e4-23ac7e094717"
)

var mi = ManagedIdentity{Name: "flux-tenant-a", ResourceGroup: "flux", Subscription: sub}

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// checkShell checks that script parses as a shell script.
func checkShell(t *testing.T, script string) {
	t.Helper()
	sh, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to check the az commands' syntax")
	}
	cmd := exec.Command(sh, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the az commands do not parse: %v\n%s\n%s", err, out, script)
	}
}

func TestIdentity(t *testing.T) {
	f := Federation{Identity: mi, Issuer: "https://oidc.prod-aks.azure.com/" + tenant + "/", Namespace: "tenant-a", ServiceAccount: "source"}
	known := f
	known.ClientID, known.TenantID = testClient, tenant
	for _, format := range Formats {
		for name, f := range map[string]Federation{"lookup": f, "known": known} {
			got, err := Identity(f, format)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "identity-"+name+"."+string(format), got)
			for _, want := range []string{"system:serviceaccount:tenant-a:source", ExchangeAudience, f.Issuer, ClientIDAnnotation, TenantIDAnnotation} {
				if !strings.Contains(got, want) {
					t.Errorf("%s %s lacks %q", format, name, want)
				}
			}
			if format == AZ {
				checkShell(t, got)
			}
		}
	}
}

func TestIdentityQuotes(t *testing.T) {
	f := Federation{Identity: ManagedIdentity{Name: "it's", ResourceGroup: "a b"}, Issuer: "https://issuer.example/x'y", Namespace: "ns", ServiceAccount: "sa"}
	got, err := Identity(f, AZ)
	if err != nil {
		t.Fatal(err)
	}
	checkShell(t, got)
	if !strings.Contains(got, `--identity-name 'it'\''s' --resource-group 'a b'`) {
		t.Errorf("names are not quoted:\n%s", got)
	}
}

// The default credential name is one Azure accepts, even for a service account with dots.
func TestIdentityName(t *testing.T) {
	f := Federation{Identity: mi, Issuer: "https://x", Namespace: "tenant-a", ServiceAccount: "source.v2"}
	got, err := Identity(f, ASO)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "name: tenant-a-source-v2\n") {
		t.Errorf("the credential is not named tenant-a-source-v2:\n%s", got)
	}
	f.ServiceAccount = strings.Repeat("s", 200)
	if n := f.name(); len(n) != 120 || !credentialName.MatchString(n) {
		t.Errorf("name %q (%d)", n, len(n))
	}
}

func TestIdentityErrors(t *testing.T) {
	for name, f := range map[string]Federation{
		"http issuer":  {Identity: mi, Issuer: "http://x", Namespace: "a", ServiceAccount: "b"},
		"no identity":  {Issuer: "https://x", Namespace: "a", ServiceAccount: "b"},
		"bad name":     {Identity: mi, Issuer: "https://x", Namespace: "A_b", ServiceAccount: "b"},
		"bad clientID": {Identity: mi, Issuer: "https://x", Namespace: "a", ServiceAccount: "b", ClientID: "nope"},
		"short name":   {Identity: mi, Issuer: "https://x", Namespace: "a", ServiceAccount: "b", Name: "ab"},
		"name with .":  {Identity: mi, Issuer: "https://x", Namespace: "a", ServiceAccount: "b", Name: "a.b.c"},
	} {
		if _, err := Identity(f, AZ); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGrant(t *testing.T) {
	rg := "/subscriptions/" + sub + "/resourceGroups/flux"
	scopes := map[string]string{
		"acr":       rg + "/providers/Microsoft.ContainerRegistry/registries/azimuthlocal",
		"blob":      rg + "/providers/Microsoft.Storage/storageAccounts/azimuthlocal/blobServices/default/containers/manifests",
		"keyvault":  rg + "/providers/Microsoft.KeyVault/vaults/azimuth-local",
		"eventhubs": "/providers/Microsoft.Management/managementGroups/azimuth-root",
	}
	for integration, scope := range scopes {
		role := Roles[integration]
		for _, format := range Formats {
			g := GrantSpec{Identity: mi, Integration: integration, Scope: scope}
			if integration == "blob" {
				g = GrantSpec{ClientID: testClient, Integration: integration, Scope: scope}
			}
			got, err := Grant(g, format)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "grant-"+integration+"."+string(format), got)
			if !strings.Contains(got, role.ID) || !strings.Contains(got, scope) {
				t.Errorf("%s %s lacks the role ID %s or the scope", integration, format, role.ID)
			}
			if format == AZ {
				checkShell(t, got)
			}
		}
	}
	for _, group := range DevOpsGroups {
		g := GrantSpec{Identity: mi, Integration: "devops", Organization: "azimuth-local", Project: "fleet", Group: group}
		for _, format := range []Format{AZ, Terraform} {
			got, err := Grant(g, format)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "grant-devops-"+strings.ToLower(group)+"."+string(format), got)
			if format == AZ {
				checkShell(t, got)
			}
		}
		if _, err := Grant(g, ASO); err == nil || !strings.Contains(err.Error(), "ASO does not manage Azure DevOps") {
			t.Errorf("devops in ASO: err = %v", err)
		}
	}
}

func TestGrantErrors(t *testing.T) {
	for name, g := range map[string]GrantSpec{
		"bad scope":     {Identity: mi, Integration: "acr", Scope: "/subscriptions/x"},
		"no identity":   {Integration: "acr", Scope: "/subscriptions/" + sub},
		"unknown":       {Identity: mi, Integration: "s3", Scope: "/subscriptions/" + sub},
		"devops group":  {Identity: mi, Integration: "devops", Organization: "o", Project: "p", Group: "Admins"},
		"devops no org": {Identity: mi, Integration: "devops", Group: "Readers"},
	} {
		if _, err := Grant(g, AZ); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
