package directory

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

// A key made for these tests, public like every key in a directory file.
const testStorageKey = "q5kqcM5RzDjHxbOqlhIVUr3CROBbXEB87+6fwZRiv6sBqhVm3mrBY4+2bU8mZWeXHwtYGqCjQB4KpJz8xcPdMw=="

// withStorage adds two storage accounts to base: one with two keys and containers, one that
// declares nothing but its place.
func withStorage() string {
	accounts := `  storageAccounts:
    - name: fluxdata
      subscription: ` + subID + `
      resourceGroup: rg
      keys: [` + testStorageKey + `, ` + DerivedStorageKey("other") + `]
      containers: [artifacts, a-b-c]
    - {name: plain, subscription: ` + subID + `, resourceGroup: rg}
`
	return strings.Replace(base, "resources:\n", "resources:\n"+accounts, 1)
}

func TestStorageDirectory(t *testing.T) {
	d, err := Parse([]byte(withStorage()))
	if err != nil {
		t.Fatal(err)
	}
	sa, ok := d.StorageAccount("FluxData")
	if !ok || sa.Name != "fluxdata" || !strings.HasSuffix(sa.ID(), "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/fluxdata") {
		t.Fatalf("StorageAccount = %+v, %v", sa, ok)
	}
	if len(sa.Keys) != 2 || sa.Keys[0] != testStorageKey || !slices.Equal(sa.Containers, []string{"artifacts", "a-b-c"}) {
		t.Errorf("keys and containers = %v, %v", sa.Keys, sa.Containers)
	}
	sa.Keys[0], sa.Containers[0] = "changed", "changed"
	if again, _ := d.StorageAccount("fluxdata"); again.Keys[0] != testStorageKey || again.Containers[0] != "artifacts" {
		t.Error("StorageAccount must return a copy")
	}
	plain, _ := d.StorageAccount("plain")
	if !slices.Equal(plain.Keys, []string{DerivedStorageKey("plain")}) || len(plain.Containers) != 0 {
		t.Errorf("an account without keys gets the derived key: %+v", plain)
	}
	if raw, err := base64.StdEncoding.DecodeString(DerivedStorageKey("plain")); err != nil || len(raw) != 64 {
		t.Errorf("the derived key is 64 bytes of base64, as Azure's: %d, %v", len(raw), err)
	}
	if DerivedStorageKey("plain") == DerivedStorageKey("plain2") {
		t.Error("derived keys must differ between accounts")
	}
	if tenant, ok := d.SubscriptionTenant(sa.Subscription); !ok || tenant != tenantID {
		t.Errorf("SubscriptionTenant = %q, %v", tenant, ok)
	}
	if rs := d.Resources(KindStorageAccount); len(rs) != 2 || rs[0].ID() != sa.ID() || rs[1].Kind != KindStorageAccount {
		t.Errorf("Resources = %+v", rs)
	}
	if all := d.StorageAccounts(); len(all) != 2 || all[1].Name != "plain" || all[1].Kind != KindStorageAccount {
		t.Errorf("StorageAccounts = %+v", all)
	}
	// The rendered directory parses again with the same accounts, the derived key written out.
	out, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if p, _ := again.StorageAccount("plain"); !slices.Equal(p.Keys, plain.Keys) {
		t.Errorf("the round trip changed the keys: %v", p.Keys)
	}
}

func TestDefaultStorageAccount(t *testing.T) {
	sa, ok := Default().StorageAccount("azimuthlocal")
	if !ok || len(sa.Keys) != 1 || sa.Keys[0] == DerivedStorageKey("azimuthlocal") {
		t.Fatalf("the default account needs its own documented key: %+v, %v", sa, ok)
	}
	if raw, err := base64.StdEncoding.DecodeString(sa.Keys[0]); err != nil || len(raw) != 64 {
		t.Errorf("the default key is not 64 bytes of base64: %d, %v", len(raw), err)
	}
}

func TestStorageValidation(t *testing.T) {
	where := "resources.storageAccounts[0] 'fluxdata': "
	tests := []struct {
		name, old, new, wantErr string
	}{
		{"upper case name", "    - name: fluxdata\n", "    - name: FluxData\n", "resources.storageAccounts[0] 'FluxData': name 'FluxData' must be 3 to 24 lower-case letters and digits"},
		{"hyphen in name", "    - name: fluxdata\n", "    - name: flux-data\n", "name 'flux-data' must be 3 to 24"},
		{"short name", "    - name: fluxdata\n", "    - name: fd\n", "name 'fd' must be 3 to 24"},
		{"duplicate account", "{name: plain,", "{name: fluxdata,", "resources.storageAccounts[1] 'fluxdata': the name is used twice"},
		{"no group", "      resourceGroup: rg\n      keys:", "      keys:", where + "resourceGroup is required"},
		{"unknown subscription", "    - name: fluxdata\n      subscription: " + subID, "    - name: fluxdata\n      subscription: 00000000-0000-0000-0000-000000000009", where + "subscription '00000000-0000-0000-0000-000000000009' is not declared"},
		{"three keys", "keys: [" + testStorageKey, "keys: [" + testStorageKey + ", " + testStorageKey, where + "3 keys, but an account has at most 2"},
		{"key not base64", "keys: [" + testStorageKey, "keys: [not-a-key!", where + "keys[0] is not a base64 key"},
		{"empty key", "keys: [" + testStorageKey, "keys: [''", where + "keys[0] is not a base64 key"},
		{"container name", "containers: [artifacts,", "containers: [Artifacts,", where + "containers[0] 'Artifacts': a container name is 3 to 63"},
		{"container hyphens", "containers: [artifacts,", "containers: [a--b,", "containers[0] 'a--b': a container name"},
		{"container twice", "containers: [artifacts, a-b-c]", "containers: [artifacts, artifacts]", where + "containers[1] 'artifacts': the name is used twice"},
		{"unknown field", "      containers:", "      sku: Standard_LRS\n      containers:", "unknown field"},
	}
	good := withStorage()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("test bug: the directory lacks %q", tt.old)
			}
			_, err := Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), testStorageKey) {
				t.Errorf("an error must not print a key: %v", err)
			}
		})
	}
}

func TestValidStorageNames(t *testing.T) {
	for _, ok := range []string{"abc", "azimuthlocal", "a23456789012345678901234", "123"} {
		if !ValidStorageAccountName(ok) {
			t.Errorf("ValidStorageAccountName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "ab", "Abc", "a-b", "a_b", "a234567890123456789012345", "a.bc"} {
		if ValidStorageAccountName(bad) {
			t.Errorf("ValidStorageAccountName(%q) = true", bad)
		}
	}
	for _, ok := range []string{"abc", "a-b", "0ab", strings.Repeat("a", 63)} {
		if !ValidContainerName(ok) {
			t.Errorf("ValidContainerName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "ab", "-ab", "ab-", "a--b", "aBc", "a_b", "$root", strings.Repeat("a", 64)} {
		if ValidContainerName(bad) {
			t.Errorf("ValidContainerName(%q) = true", bad)
		}
	}
}
