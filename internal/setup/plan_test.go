package setup

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const controllerClient = "0f5c7a38-5f06-4a4e-9a63-2a41bd1a7e2c"

// planOf reads testdata/plan-manifests and plans it.
func planOf(t *testing.T, o PlanOptions) *Plan {
	t.Helper()
	m, err := ReadManifests("testdata/plan-manifests")
	if err != nil {
		t.Fatal(err)
	}
	o.NamespaceSOPSKeys = m.SOPSKeys
	p, err := NewPlan(m.Objects, o)
	if err != nil {
		t.Fatal(err)
	}
	p.Notes = append(p.Notes, m.Notes...)
	return p
}

func planOptions() PlanOptions {
	return PlanOptions{
		Issuer:     "https://oidc.prod-aks.azure.com/" + tenant + "/",
		Identities: []KnownIdentity{{ManagedIdentity: mi, ClientID: testClient}},
		Controller: KnownIdentity{ClientID: controllerClient},
	}
}

func TestPlanGolden(t *testing.T) {
	known := planOptions()
	known.Subscription, known.ResourceGroup = sub, "flux"
	known.ResourceGroups = map[string]string{"otherreg": "shared"}
	for name, o := range map[string]PlanOptions{"known": known, "lookup": planOptions()} {
		p := planOf(t, o)
		for _, format := range Formats {
			got, err := p.Render(format)
			if name == "lookup" && format == ASO {
				if err == nil || !strings.Contains(err.Error(), "--resource-group") {
					t.Errorf("ASO without resource groups: err = %v, want one naming --resource-group", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", name, format, err)
			}
			golden(t, "plan-"+name+"."+string(format), got)
			if format == AZ {
				checkShell(t, got)
			}
		}
	}
}

// TestPlanLeastPrivilege checks the plan's choices, whatever its text.
func TestPlanLeastPrivilege(t *testing.T) {
	o := planOptions()
	o.Subscription, o.ResourceGroup = sub, "flux"
	p := planOf(t, o)
	rg := "/subscriptions/" + sub + "/resourceGroups/flux/providers/"
	want := map[string]string{ // scope → integration, for the tenant-a identity
		rg + "Microsoft.ContainerRegistry/registries/myreg":                                     "acr",
		rg + "Microsoft.ContainerRegistry/registries/otherreg":                                  "acr",
		rg + "Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/manifests": "blob",
		rg + "Microsoft.KeyVault/vaults/fluxvault/keys/sops":                                    "keyvault",
		rg + "Microsoft.EventHub/namespaces/events-ns/eventhubs/flux-events":                    "eventhubs",
	}
	got := map[string]string{}
	var devops []string
	for _, g := range p.Grants {
		switch {
		case g.Controller:
			if g.ClientID != controllerClient || g.Integration != "acr" || !strings.HasSuffix(g.Scope, "/registries/myreg") {
				t.Errorf("controller grant %+v: want AcrPull on myreg only", g.GrantSpec)
			}
		case g.Integration == "devops":
			devops = append(devops, g.Project+"/"+g.Group)
		default:
			if _, dup := got[g.Scope]; dup {
				t.Errorf("two grants on %s", g.Scope)
			}
			got[g.Scope] = g.Integration
		}
	}
	for scope, integration := range want {
		if got[scope] != integration {
			t.Errorf("scope %s: got %q, want %s (grants %v)", scope, got[scope], integration, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("grants %v, want %v", got, want)
	}
	// The automation's Contributors covers the GitRepository's Readers on fleet; docs keeps Readers.
	if strings.Join(devops, ",") != "docs/Readers,fleet/Contributors" {
		t.Errorf("Azure DevOps groups %v, want docs/Readers and fleet/Contributors", devops)
	}
	if len(p.Federations) != 1 || p.Federations[0].Subject() != "system:serviceaccount:tenant-a:source" || len(p.Federations[0].Objects) != 9 {
		t.Errorf("federations %+v: want one for tenant-a/source, needed by 9 objects", p.Federations)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{
		"Provider tenant-a/statuses: uses the secret ado-pat",
		"OCIRepository tenant-b/pulled: uses the pull secret pull",
		"Bucket tenant-b/config: its service account tenant-b/plain has no azure.workload.identity/client-id",
		"GitRepository tenant-b/apps: its service account tenant-b/missing is not among the objects read",
		"skipped 1 object(s) of kind Deployment",
		// The SOPS file is tenant-a's: tenant-b's Kustomization does not get its key.
		"Kustomization tenant-b/apps: decrypts with SOPS, and no Key Vault key is known for it",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "dockerhub") {
		t.Errorf("an object that does not use Azure has a note:\n%s", notes)
	}
}

func TestPlanUnknownIdentityAndController(t *testing.T) {
	o := planOptions()
	o.Identities, o.Controller = nil, KnownIdentity{}
	p := planOf(t, o)
	if len(p.Federations) != 0 {
		t.Errorf("federations of an unnamed identity: %+v", p.Federations)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{"--identity " + testClient + "=RESOURCE_GROUP/NAME", "OCIRepository tenant-b/podinfo: acts as the controller's own identity, which is unknown"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	for _, g := range p.Grants {
		if g.ClientID != testClient {
			t.Errorf("grant to %q: only the tenant-a identity, by testClient ID, is known", g.ClientID)
		}
	}
	o.Issuer = ""
	o.Identities = planOptions().Identities
	m, _ := ReadManifests("testdata/plan-manifests")
	if _, err := NewPlan(m.Objects, o); err == nil || !strings.Contains(err.Error(), "--issuer") {
		t.Errorf("no issuer: err = %v, want one naming --issuer", err)
	}
}

func TestPlanVaultCoversItsKeys(t *testing.T) {
	o := planOptions()
	o.SOPSKeys = []string{"https://fluxvault.vault.azure.net/"}
	p := planOf(t, o) // the SOPS file adds the key sops of the same vault
	var vaults []string
	for _, g := range p.Grants {
		if g.Integration == "keyvault" && g.ClientID == testClient {
			vaults = append(vaults, g.Resource.String())
		}
	}
	if len(vaults) != 1 || vaults[0] != "the vault fluxvault" {
		t.Errorf("keyvault grants %v, want the vault alone", vaults)
	}
}

func TestNeedsOfIgnoresOtherProviders(t *testing.T) {
	obj := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "a", "namespace": "b"},
		"spec":     map[string]any{"url": "https://github.com/x/y", "provider": "github"},
	}}
	if needs, notes := NeedsOf(&obj); needs != nil || notes != nil {
		t.Errorf("a GitHub repository: needs %v, notes %v", needs, notes)
	}
	obj.Object["spec"] = map[string]any{"url": "https://github.com/x/y", "provider": "azure"}
	if _, notes := NeedsOf(&obj); len(notes) != 1 || !strings.Contains(notes[0], "dev.azure.com/ORG/PROJECT/_git/REPO") {
		t.Errorf("provider azure on GitHub: notes %v, want the URL forms", notes)
	}
}

func TestParseSOPSKey(t *testing.T) {
	for raw, want := range map[string]Resource{
		"https://v1.vault.azure.net/keys/k":          {Kind: Vault, Name: "v1", Child: "k"},
		"https://V1.vault.azure.net/keys/k/0a1b2c3d": {Kind: Vault, Name: "v1", Child: "k"},
		"https://v1.vault.azure.net":                 {Kind: Vault, Name: "v1"},
	} {
		got, err := ParseSOPSKey(raw)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", raw, got, err, want)
		}
	}
	for _, raw := range []string{"http://v.vault.azure.net/keys/k", "https://v.example.com/keys/k", "https://v.vault.azure.net/secrets/k", "https://v.vault.azure.net/keys/k?x=1", "v"} {
		if _, err := ParseSOPSKey(raw); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

func FuzzParseSOPSKey(f *testing.F) {
	f.Add("https://v1.vault.azure.net/keys/k/0a1b")
	f.Add("https://v1.vault.azure.net")
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := ParseSOPSKey(raw)
		if err != nil {
			return
		}
		if r.Kind != Vault || r.Name == "" || strings.ContainsAny(r.Name+r.Child, "/?#") {
			t.Errorf("%q read as %+v", raw, r)
		}
	})
}

func FuzzReadManifest(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n---\nsops:\n  azure_kv:\n  - vault_url: https://v.vault.azure.net\n    name: k\n"))
	f.Add([]byte("{\"apiVersion\":\"source.toolkit.fluxcd.io/v1\",\"kind\":\"Bucket\",\"metadata\":{\"name\":\"b\"},\"spec\":{\"provider\":\"azure\"}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &Manifests{}
		if err := m.read("fuzz.yaml", strings.NewReader(string(data)), map[string]int{}); err != nil {
			return
		}
		for i := range m.Objects {
			if m.Objects[i].GetName() == "" {
				t.Errorf("an object without a name was read")
			}
			NeedsOf(&m.Objects[i])
		}
		if _, err := NewPlan(m.Objects, planOptions()); err != nil && !strings.Contains(err.Error(), "namespace") {
			t.Logf("plan: %v", err)
		}
	})
}

// With the controller's lockdown, objects that name no service account act as the default one.
func TestPlanDefaultServiceAccount(t *testing.T) {
	o := planOptions()
	o.DefaultServiceAccount, o.DefaultDecryptionServiceAccount = "plain", "plain"
	p := planOf(t, o)
	for _, g := range p.Grants {
		if g.Controller {
			t.Errorf("a grant to the controller's identity under lockdown: %+v", g.GrantSpec)
		}
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, "OCIRepository tenant-b/podinfo: its service account tenant-b/plain has no") {
		t.Errorf("the default service account is not used:\n%s", notes)
	}
}
