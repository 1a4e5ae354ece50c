package directory

import (
	"slices"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

const otherTenant = "00000000-0000-0000-0000-0000000000aa"

// withVaults adds an application of another tenant and two vaults to base: one of the rbac
// model with a key, one of the access-policy model.
func withVaults() string {
	vaults := `  keyVaults:
    - name: rbac-vault
      subscription: ` + subID + `
      resourceGroup: rg
      keys:
        - {name: sops}
        - {name: big, kty: RSA, size: 4096}
    - name: policy-vault
      subscription: ` + subID + `
      resourceGroup: rg
      location: westeurope
      authorization: accessPolicies
      accessPolicies:
        - {principal: app, keyPermissions: [get, Decrypt, wrapKey]}
        - {principal: 4249e19b-811e-4ad5-800e-2ec239154393, keyPermissions: [all]}
        - {principal: app, keyPermissions: [list]}
`
	s := strings.Replace(base, "resources:\n", "resources:\n"+vaults, 1)
	s = strings.Replace(s, "tenants:\n", "tenants:\n  - id: "+otherTenant+"\n", 1)
	s = strings.Replace(s, "  - id: "+subID+"\n", "  - id: "+subID+"\n    tenant: "+tenantID+"\n", 1)
	s = strings.Replace(s, "    clientId: 7e477dda", "    tenant: "+tenantID+"\n    clientId: 7e477dda", 1)
	return s + `  - {principal: app, role: Key Vault Crypto User, scope: /subscriptions/` + subID + `/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/rbac-vault/keys/sops}
`
}

func TestKeyVaultDirectory(t *testing.T) {
	d, err := Parse([]byte(withVaults()))
	if err != nil {
		t.Fatal(err)
	}
	kv, ok := d.KeyVault("RBAC-Vault")
	if !ok || kv.Name != "rbac-vault" || kv.Tenant != tenantID || kv.Authorization != VaultRBAC || kv.Location != DefaultVaultLocation ||
		!strings.HasSuffix(kv.ID(), "/providers/Microsoft.KeyVault/vaults/rbac-vault") {
		t.Fatalf("KeyVault = %+v, %v", kv, ok)
	}
	if want := []VaultKey{{"sops", "RSA", 2048}, {"big", "RSA", 4096}}; !slices.Equal(kv.Keys, want) {
		t.Errorf("keys with defaults = %+v, want %+v", kv.Keys, want)
	}
	if rs := d.Resources(KindKeyVault); len(rs) != 2 || rs[0].ID() != kv.ID() {
		t.Errorf("Resources = %+v", rs)
	}
	app, _ := d.Principal("app")
	mi, _ := d.Principal("mi")
	if got := d.KeyVaultPermissions("policy-vault", strings.ToUpper(app.PrincipalID)); !slices.Equal(got, []string{"get", "decrypt", "wrapKey", "list"}) {
		t.Errorf("app's permissions = %v", got)
	}
	if got := d.KeyVaultPermissions("policy-vault", mi.PrincipalID); !slices.Equal(got, KeyPermissions) {
		t.Errorf("'all' = %v, want every permission", got)
	}
	if got := d.KeyVaultPermissions("rbac-vault", app.PrincipalID); len(got) != 0 {
		t.Errorf("an rbac vault's policies must not grant: %v", got)
	}
	key := kv.ID() + "/keys/sops"
	if !d.AuthorizeData(app.PrincipalID, rbac.DataActionKeyDecrypt, key) || d.AuthorizeData(app.PrincipalID, rbac.DataActionKeyDecrypt, kv.ID()+"/keys/other") {
		t.Error("a role assigned at a key's scope must grant that key only")
	}
	// The rendered directory parses again with the same vaults.
	out, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if kv, _ := again.KeyVault("policy-vault"); kv.Location != "westeurope" || len(kv.AccessPolicies) != 3 {
		t.Errorf("the round trip lost the policies: %+v", kv)
	}
}

func TestKeyVaultValidation(t *testing.T) {
	where := "resources.keyVaults[1] 'policy-vault': "
	tests := []struct {
		name, old, new, wantErr string
	}{
		{"duplicate vault", "    - name: policy-vault\n", "    - name: RBAC-vault\n", "resources.keyVaults[1] 'RBAC-vault': the name is used twice"},
		{"unknown principal in a policy", "{principal: app, keyPermissions: [get,", "{principal: ghost, keyPermissions: [get,", where + "accessPolicies[0] (ghost): principal 'ghost' is not an application or managed identity"},
		{"unknown permission", "keyPermissions: [get, Decrypt, wrapKey]", "keyPermissions: [get, read]", where + "accessPolicies[0] (app): key permission 'read' is not one of all, get, list"},
		{"no permission", "keyPermissions: [get, Decrypt, wrapKey]", "keyPermissions: []", "accessPolicies[0] (app): keyPermissions are required"},
		{"principal of another tenant", "      authorization: accessPolicies\n", "      authorization: accessPolicies\n      tenant: " + otherTenant + "\n", "accessPolicies[0] (app): 'app' belongs to tenant '" + tenantID + "', but the vault's tenant is '" + otherTenant + "'"},
		{"undeclared tenant", "      authorization: accessPolicies\n", "      authorization: accessPolicies\n      tenant: 00000000-0000-0000-0000-0000000000bb\n", where + "tenant '00000000-0000-0000-0000-0000000000bb' is not declared"},
		{"unknown model", "authorization: accessPolicies", "authorization: vaultAccessPolicy", where + "authorization 'vaultAccessPolicy' is neither rbac nor accessPolicies"},
		{"policies on an rbac vault", "authorization: accessPolicies", "authorization: rbac", where + "accessPolicies are ignored when authorization is rbac"},
		{"vault name", "    - name: policy-vault\n", "    - name: policy--vault\n", "name 'policy--vault' must be 3 to 24 letters"},
		{"vault without group", "      resourceGroup: rg\n      location:", "      location:", where + "resourceGroup is required"},
		{"key name", "{name: sops}", "{name: sops_key}", "keys[0] 'sops_key': name must be 1 to 127 letters"},
		{"key twice", "{name: big, kty", "{name: SOPS, kty", "keys[1] 'SOPS': the name is used twice"},
		{"key type", "kty: RSA, size: 4096", "kty: EC, size: 4096", "keys[1] 'big': kty 'EC' is not emulated; use RSA"},
		{"key size", "kty: RSA, size: 4096", "kty: RSA, size: 1024", "keys[1] 'big': size 1024 is not an RSA key size"},
		{"unknown field", "      location: westeurope\n", "      sku: premium\n", "unknown field"},
	}
	good := withVaults()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("test bug: the directory lacks %q", tt.old)
			}
			_, err := Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidVaultName(t *testing.T) {
	for _, ok := range []string{"abc", "azimuth-local", "a23456789012345678901234", "Vault1"} {
		if !ValidVaultName(ok) {
			t.Errorf("ValidVaultName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "ab", "1abc", "abc-", "a--b", "a_b", "a2345678901234567890123456", "a.b"} {
		if ValidVaultName(bad) {
			t.Errorf("ValidVaultName(%q) = true", bad)
		}
	}
}
