package directory

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

const (
	tenantID = "2e811126-9388-40f9-a8e4-23ac7e094717"
	subID    = "9500bbc1-08e9-41a1-a586-73f24f82e037"
)

// base is a small valid directory that the validation cases break one field at a time.
const base = `
tenants:
  - id: ` + tenantID + `
    domains: [contoso.onmicrosoft.com]
subscriptions:
  - id: ` + subID + `
managementGroups:
  - name: root
    subscriptions: [` + subID + `]
applications:
  - name: app
    clientId: 7e477dda-4b8a-4ab6-9bc6-71e64b817cd3
    principalId: 7fe9af53-4867-4663-8d8f-2658b2f2e315
    clientSecrets: [{value: s3cret}]
managedIdentities:
  - name: mi
    subscription: ` + subID + `
    resourceGroup: rg
    clientId: 213d8012-7eed-4f6d-a0db-54570c6d6f89
    principalId: 4249e19b-811e-4ad5-800e-2ec239154393
    federatedCredentials:
      - {name: fc, issuer: "https://issuer.example", subject: "system:serviceaccount:ns:sa"}
node:
  identities: [mi]
resources:
  registries:
    - {name: acr, subscription: ` + subID + `, resourceGroup: rg}
roleAssignments:
  - {principal: mi, role: AcrPull, scope: /subscriptions/` + subID + `/resourceGroups/rg}
`

func TestDefaultDirectory(t *testing.T) {
	d := Default()
	if len(d.Tenants()) == 0 {
		t.Fatal("default directory has no tenant")
	}
	var secret, cert bool
	for _, app := range d.Spec().Applications {
		secret = secret || len(app.ClientSecrets) > 0
		cert = cert || len(app.Certificates) > 0
	}
	if !secret || !cert {
		t.Errorf("default directory needs an app with a secret (%v) and one with a certificate (%v)", secret, cert)
	}
	if _, user := d.NodeIdentities(); len(user) == 0 {
		t.Error("default directory assigns no identity to the node")
	}
	for _, k := range []Kind{KindRegistry, KindStorageAccount, KindKeyVault, KindEventHubsNamespace, KindDevOpsOrganization} {
		if len(d.Resources(k)) == 0 {
			t.Errorf("default directory has no %s", k)
		}
	}
	mi, ok := d.Principal("flux-controller")
	if !ok {
		t.Fatal("flux-controller missing")
	}
	acr, _ := d.Resource(KindRegistry, "azimuthlocal")
	if !d.Authorize(mi.PrincipalID, rbac.ActionRegistryPull, acr.ID()) {
		t.Error("flux-controller should pull from the default registry")
	}
	if !strings.Contains(string(DefaultCertificateAppPEM()), "PRIVATE KEY") {
		t.Error("DefaultCertificateAppPEM lacks the private key")
	}
	if string(DefaultYAML()) != string(defaultYAML) {
		t.Error("DefaultYAML must return the embedded file")
	}
}

func TestParseValid(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if tn, ok := d.Tenant("CONTOSO.onmicrosoft.com"); !ok || tn.ID != tenantID || tn.Cloud != CloudPublic {
		t.Errorf("Tenant by domain = %+v, %v", tn, ok)
	}
	p, ok := d.Client(tenantID, "213D8012-7EED-4F6D-A0DB-54570C6D6F89")
	if !ok || p.Kind != KindManagedIdentity || p.TenantID != tenantID {
		t.Fatalf("Client = %+v, %v", p, ok)
	}
	if got := p.FederatedCredentials[0].Audiences; len(got) != 1 || got[0] != DefaultFederatedAudience {
		t.Errorf("default audiences = %v", got)
	}
	wantRID := "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi"
	if p.ResourceID != wantRID {
		t.Errorf("ResourceID = %s, want %s", p.ResourceID, wantRID)
	}
	if _, ok := d.Client("00000000-0000-0000-0000-000000000001", p.ClientID); ok {
		t.Error("Client must not find a principal of another tenant")
	}
	acr, ok := d.Resource(KindRegistry, "ACR")
	if !ok || !strings.HasSuffix(acr.ID(), "/providers/Microsoft.ContainerRegistry/registries/acr") {
		t.Errorf("Resource = %+v, %v", acr, ok)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name    string
		old     string
		new     string
		wantErr string
	}{
		{"unknown key", "    domains:", "    domain:", "unknown field"},
		{"tenant id not a GUID", "  - id: " + tenantID, "  - id: contoso", "tenants[0] 'contoso': id 'contoso' is not a GUID"},
		{"bad cloud", "    domains:", "    cloud: Mars\n    domains:", "cloud 'Mars'"},
		{"unknown subscription in group", "subscriptions: [" + subID + "]", "subscriptions: [00000000-0000-0000-0000-000000000009]", "managementGroups[0] 'root': subscription '00000000-0000-0000-0000-000000000009' is not declared"},
		{"unknown parent", "  - name: root\n", "  - name: root\n    parent: nope\n", "parent 'nope'"},
		{"app client id", "clientId: 7e477dda-4b8a-4ab6-9bc6-71e64b817cd3", "clientId: x", "applications[0] 'app': clientId 'x' is not a GUID"},
		{"duplicate client id", "clientId: 213d8012-7eed-4f6d-a0db-54570c6d6f89", "clientId: 7e477dda-4b8a-4ab6-9bc6-71e64b817cd3", "managedIdentities[0] 'mi': clientId '7e477dda-4b8a-4ab6-9bc6-71e64b817cd3' is already used by Application 'app'"},
		{"empty secret", "[{value: s3cret}]", "[{value: ''}]", "clientSecrets[0]: value is required"},
		{"bad certificate", "clientSecrets: [{value: s3cret}]", "certificates: [{name: c, pem: nope}]", "certificates[0] 'c': no PEM CERTIFICATE block"},
		{"http issuer", `issuer: "https://issuer.example"`, `issuer: "http://issuer.example"`, "federatedCredentials[0] 'fc': issuer 'http://issuer.example' must be an https URL"},
		{"missing subject", `subject: "system:serviceaccount:ns:sa"`, `subject: ""`, "federatedCredentials[0] 'fc': subject is required"},
		{"mi unknown subscription", "  - name: mi\n    subscription: " + subID, "  - name: mi\n    subscription: 00000000-0000-0000-0000-000000000009", "managedIdentities[0] 'mi': subscription"},
		{"node unknown identity", "identities: [mi]", "identities: [app]", "node.identities[0]: 'app' is not a managed identity"},
		{"resource without group", "{name: acr, subscription: " + subID + ", resourceGroup: rg}", "{name: acr, subscription: " + subID + "}", "resources.registries[0] 'acr': resourceGroup is required"},
		{"unknown principal", "{principal: mi,", "{principal: ghost,", "roleAssignments[0] (ghost, AcrPull): principal 'ghost'"},
		{"unknown role", "role: AcrPull", "role: AcrPul", "role 'AcrPul' is neither"},
		{"bad scope", "scope: /subscriptions/" + subID + "/resourceGroups/rg}", "scope: rg}", "scope 'rg' is not an ARM ID"},
		{"undeclared subscription scope", "scope: /subscriptions/" + subID + "/resourceGroups/rg}", "scope: /subscriptions/00000000-0000-0000-0000-000000000009}", "subscription '00000000-0000-0000-0000-000000000009' is not declared"},
		{"undeclared group scope", "scope: /subscriptions/" + subID + "/resourceGroups/rg}", "scope: /providers/Microsoft.Management/managementGroups/other}", "management group 'other' is not declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("test bug: base lacks %q", tt.old)
			}
			_, err := Parse([]byte(strings.Replace(base, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidationCycleAndLimits(t *testing.T) {
	cyc := strings.Replace(base, "managementGroups:\n  - name: root\n", "managementGroups:\n  - name: a\n    parent: b\n  - name: b\n    parent: a\n  - name: root\n", 1)
	if _, err := Parse([]byte(cyc)); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: err = %v", err)
	}
	var fcs strings.Builder
	for i := 0; i <= MaxFederatedCredentials; i++ {
		fmt.Fprintf(&fcs, "      - {name: fc%d, issuer: \"https://issuer.example\", subject: s%d}\n", i, i)
	}
	many := strings.Replace(base, "      - {name: fc, issuer: \"https://issuer.example\", subject: \"system:serviceaccount:ns:sa\"}\n", fcs.String(), 1)
	if _, err := Parse([]byte(many)); err == nil || !strings.Contains(err.Error(), "managedIdentities[0] 'mi': 21 federated credentials, but Azure allows at most 20") {
		t.Errorf("too many federated credentials: err = %v", err)
	}
}

func TestAddFederatedCredential(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	fc := FederatedCredential{Name: "kind", Issuer: "https://127.0.0.1:6443", Subject: "system:serviceaccount:flux-system:source-controller"}
	if err := d.AddFederatedCredential("app", fc); err != nil {
		t.Fatal(err)
	}
	p, _ := d.Principal("app")
	if len(p.FederatedCredentials) != 1 || p.FederatedCredentials[0].Audiences[0] != DefaultFederatedAudience {
		t.Errorf("app credentials = %+v", p.FederatedCredentials)
	}
	tests := []struct {
		name      string
		principal string
		fc        FederatedCredential
		wantErr   string
	}{
		{"duplicate name", "mi", FederatedCredential{Name: "fc", Issuer: "https://x", Subject: "s"}, "the name is used twice"},
		{"unknown principal", "ghost", fc, "no application or managed identity named 'ghost'"},
		{"invalid issuer", "mi", FederatedCredential{Name: "x", Issuer: "x", Subject: "s"}, "must be an https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.AddFederatedCredential(tt.principal, tt.fc)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	for i := 1; i < MaxFederatedCredentials; i++ {
		if err := d.AddFederatedCredential("mi", FederatedCredential{Name: fmt.Sprint("n", i), Issuer: "https://x", Subject: "s"}); err != nil {
			t.Fatalf("credential %d: %v", i+1, err)
		}
	}
	if err := d.AddFederatedCredential("mi", FederatedCredential{Name: "one-too-many", Issuer: "https://x", Subject: "s"}); err == nil {
		t.Fatal("the 21st credential must be refused")
	}
}

func TestAddRoleAssignment(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	app, _ := d.Principal("app")
	acr, _ := d.Resource(KindRegistry, "acr")
	if d.Authorize(app.PrincipalID, rbac.ActionRegistryPull, acr.ID()) {
		t.Fatal("app should not pull before the assignment")
	}
	if err := d.AddRoleAssignment(RoleAssignment{Principal: app.ClientID, Role: "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.AcrPullID, Scope: acr.ID()}); err != nil {
		t.Fatal(err)
	}
	if !d.Authorize(app.PrincipalID, rbac.ActionRegistryPull, acr.ID()) {
		t.Error("app should pull after the assignment")
	}
	if err := d.AddRoleAssignment(RoleAssignment{Principal: "app", Role: "Nope", Scope: acr.ID()}); err == nil {
		t.Error("an unknown role must be refused")
	}
}

// TestConcurrentUpdates runs writers and readers together; run with -race to make it count.
func TestConcurrentUpdates(t *testing.T) {
	d, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			fc := FederatedCredential{Name: fmt.Sprint("c", i), Issuer: "https://x", Subject: fmt.Sprint("s", i)}
			if err := d.AddFederatedCredential("app", fc); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if p, ok := d.Principal("app"); !ok || p.Application == nil {
				t.Error("app vanished during an update")
			}
		})
	}
	wg.Wait()
	if p, _ := d.Principal("app"); len(p.FederatedCredentials) != 8 {
		t.Errorf("got %d credentials, want 8", len(p.FederatedCredentials))
	}
}

func TestCustomRole(t *testing.T) {
	custom := base + `roleDefinitions:
  - id: 5c623168-5a88-42ab-9624-1c47085d9955
    name: Registry Tag Lister
    actions: ["Microsoft.ContainerRegistry/registries/*/read"]
    notActions: ["Microsoft.ContainerRegistry/registries/pull/read"]
`
	custom = strings.Replace(custom, "role: AcrPull", "role: Registry Tag Lister", 1)
	d, err := Parse([]byte(custom))
	if err != nil {
		t.Fatal(err)
	}
	mi, _ := d.Principal("mi")
	acr, _ := d.Resource(KindRegistry, "acr")
	if !d.Authorize(mi.PrincipalID, "Microsoft.ContainerRegistry/registries/metadata/read", acr.ID()) {
		t.Error("custom role should grant metadata/read")
	}
	if d.Authorize(mi.PrincipalID, rbac.ActionRegistryPull, acr.ID()) {
		t.Error("custom role notActions should exclude pull")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add(defaultYAML)
	f.Add([]byte("tenants: [{id: x}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		// A directory that parses must survive a round trip through its own YAML.
		out, err := d.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of rendered directory failed: %v\n%s", err, out)
		}
	})
}
