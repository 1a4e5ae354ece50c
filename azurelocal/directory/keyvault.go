package directory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// KeyVault is an Azure Key Vault (Microsoft.KeyVault/vaults), served on
// https://NAME.vault.azure.net, with the permission model that decides its data plane and the
// keys it starts with.
type KeyVault struct {
	Resource
	// Tenant is the tenant whose tokens the vault accepts (the vault's tenantId). Default: the
	// tenant of the subscription.
	Tenant string `json:"tenant,omitempty"`
	// Location is the Azure region, which refusals name. Default: eastus.
	Location string `json:"location,omitempty"`
	// Authorization is the permission model of the data plane: "rbac" (Azure role-based access
	// control: role assignments in roleAssignments) or "accessPolicies" (the vault's access
	// policies, and nothing else). Default: rbac, the model Azure recommends.
	Authorization string `json:"authorization,omitempty"`
	// AccessPolicies grant key permissions when Authorization is accessPolicies.
	AccessPolicies []VaultAccessPolicy `json:"accessPolicies,omitempty"`
	// Keys are made when the vault is first used and kept in the state directory, so they
	// survive restarts.
	Keys []VaultKey `json:"keys,omitempty"`
}

// Permission models of a key vault.
const (
	VaultRBAC           = "rbac"
	VaultAccessPolicies = "accessPolicies"
)

// DefaultVaultLocation is the location of a vault that names none.
const DefaultVaultLocation = "eastus"

// VaultAccessPolicy is one entry of a vault's access policies: what a principal may do with keys.
type VaultAccessPolicy struct {
	// Principal names an application or managed identity by name, principal (object) ID or
	// client ID, as in roleAssignments; it must belong to the vault's tenant.
	Principal string `json:"principal"`
	// KeyPermissions are key permissions, as `az keyvault set-policy --key-permissions` takes
	// them (see KeyPermissions), or "all".
	KeyPermissions []string `json:"keyPermissions"`
}

// VaultKey is a key a vault starts with.
type VaultKey struct {
	// Name is the key's name: 1 to 127 letters, digits and hyphens.
	Name string `json:"name"`
	// Kty is the key type. Only RSA is emulated. Default: RSA.
	Kty string `json:"kty,omitempty"`
	// Size is the RSA modulus size in bits: 2048, 3072 or 4096. Default: 2048.
	Size int `json:"size,omitempty"`
}

// KeyPermissions are the key permissions of access policies, as Key Vault spells them. A
// permission compares ignoring case; "all" grants every one.
var KeyPermissions = []string{
	"get", "list", "update", "create", "import", "delete", "recover", "backup", "restore",
	"decrypt", "encrypt", "unwrapKey", "wrapKey", "verify", "sign", "purge", "release",
	"rotate", "getrotationpolicy", "setrotationpolicy",
}

// VaultKeySizes are the RSA key sizes Key Vault creates.
var VaultKeySizes = []int{2048, 3072, 4096}

// vaultIndex holds what the data plane needs of a vault: its tenant and, for the access-policy
// model, the permissions of each object ID.
type vaultIndex struct {
	tenant      string
	permissions map[string][]string // lower-case object ID → canonical permission names
}

func (kv *KeyVault) applyDefaults(subscriptionTenant string) {
	if kv.Tenant == "" {
		kv.Tenant = subscriptionTenant
	}
	if kv.Location == "" {
		kv.Location = DefaultVaultLocation
	}
	if kv.Authorization == "" {
		kv.Authorization = VaultRBAC
	}
	for i := range kv.Keys {
		if kv.Keys[i].Kty == "" {
			kv.Keys[i].Kty = "RSA"
		}
		if kv.Keys[i].Size == 0 {
			kv.Keys[i].Size = 2048
		}
	}
}

func (st *state) indexKeyVaults(spec Spec, v *validator) {
	st.vaults = map[string]vaultIndex{}
	for i, kv := range spec.Resources.KeyVaults {
		where := v.at("resources.keyVaults", i, kv.Name)
		v.resource(where, kv.Resource, spec)
		if kv.Name != "" && !ValidVaultName(kv.Name) {
			v.addf("%s: name '%s' must be 3 to 24 letters, digits and hyphens, start with a letter, end with a letter or digit, and have no two hyphens in a row", where, kv.Name)
		}
		key := strings.ToLower(kv.Name)
		if _, dup := st.vaults[key]; dup {
			v.addf("%s: the name is used twice (vault names are global in Azure)", where)
			continue
		}
		st.resources[KindKeyVault] = append(st.resources[KindKeyVault], kv.Resource)
		if !hasTenant(spec, kv.Tenant) {
			v.addf("%s: tenant '%s' is not declared in tenants", where, kv.Tenant)
		}
		vi := vaultIndex{tenant: kv.Tenant, permissions: map[string][]string{}}
		switch kv.Authorization {
		case VaultRBAC:
			if len(kv.AccessPolicies) > 0 {
				v.addf("%s: accessPolicies are ignored when authorization is %s; set authorization: %s to use them, or grant Key Vault roles in roleAssignments", where, VaultRBAC, VaultAccessPolicies)
			}
		case VaultAccessPolicies:
			st.indexAccessPolicies(v, where, kv, vi)
		default:
			v.addf("%s: authorization '%s' is neither %s nor %s", where, kv.Authorization, VaultRBAC, VaultAccessPolicies)
		}
		names := map[string]bool{}
		for j, k := range kv.Keys {
			at := fmt.Sprintf("%s: keys[%d] '%s'", where, j, k.Name)
			if !ValidKeyName(k.Name) {
				v.addf("%s: name must be 1 to 127 letters, digits and hyphens", at)
			}
			if names[strings.ToLower(k.Name)] {
				v.addf("%s: the name is used twice", at)
			}
			names[strings.ToLower(k.Name)] = true
			if k.Kty != "RSA" {
				v.addf("%s: kty '%s' is not emulated; use RSA", at, k.Kty)
			}
			if !slices.Contains(VaultKeySizes, k.Size) {
				v.addf("%s: size %d is not an RSA key size Key Vault makes (2048, 3072 or 4096)", at, k.Size)
			}
		}
		st.vaults[key] = vi
	}
}

func (st *state) indexAccessPolicies(v *validator, where string, kv KeyVault, vi vaultIndex) {
	for j, ap := range kv.AccessPolicies {
		at := fmt.Sprintf("%s: accessPolicies[%d] (%s)", where, j, ap.Principal)
		p, ok := st.lookupPrincipal(ap.Principal)
		switch {
		case !ok:
			v.addf("%s: principal '%s' is not an application or managed identity of this directory (use its name, principal ID or client ID)", at, ap.Principal)
		case kv.Tenant != "" && !strings.EqualFold(p.TenantID, kv.Tenant):
			v.addf("%s: '%s' belongs to tenant '%s', but the vault's tenant is '%s'", at, ap.Principal, p.TenantID, kv.Tenant)
			ok = false
		}
		if len(ap.KeyPermissions) == 0 {
			v.addf("%s: keyPermissions are required (such as [get, decrypt])", at)
		}
		var perms []string
		for _, perm := range ap.KeyPermissions {
			if strings.EqualFold(perm, "all") {
				perms = append(perms, KeyPermissions...)
				continue
			}
			canon, known := canonicalKeyPermission(perm)
			if !known {
				v.addf("%s: key permission '%s' is not one of all, %s", at, perm, strings.Join(KeyPermissions, ", "))
				continue
			}
			perms = append(perms, canon)
		}
		if ok {
			oid := strings.ToLower(p.PrincipalID)
			vi.permissions[oid] = append(vi.permissions[oid], perms...)
		}
	}
}

func canonicalKeyPermission(p string) (string, bool) {
	for _, k := range KeyPermissions {
		if strings.EqualFold(k, p) {
			return k, true
		}
	}
	return "", false
}

// ValidVaultName reports whether s is a key vault name Azure accepts: 3 to 24 letters, digits and
// hyphens, starting with a letter, ending with a letter or digit, without consecutive hyphens.
func ValidVaultName(s string) bool {
	if len(s) < 3 || len(s) > 24 || !isLetter(s[0]) || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
}

// ValidKeyName reports whether s is a key name Key Vault accepts: 1 to 127 letters, digits and
// hyphens.
func ValidKeyName(s string) bool {
	return len(s) >= 1 && len(s) <= 127 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// KeyVault finds a vault by name, ignoring case, and returns a copy of it with defaults filled in.
func (d *Directory) KeyVault(name string) (KeyVault, bool) {
	for _, kv := range d.snapshot().spec.Resources.KeyVaults {
		if strings.EqualFold(kv.Name, name) {
			data, err := json.Marshal(kv)
			if err != nil {
				panic("azurelocal/directory: clone key vault: " + err.Error())
			}
			var out KeyVault
			if err := json.Unmarshal(data, &out); err != nil {
				panic("azurelocal/directory: clone key vault: " + err.Error())
			}
			out.Kind = KindKeyVault
			return out, true
		}
	}
	return KeyVault{}, false
}

// KeyVaultPermissions returns the key permissions (as KeyPermissions spells them) that the
// access policies of a vault grant the object ID (a token's oid). It is empty for a vault of the
// rbac model, whose access policies are not consulted.
func (d *Directory) KeyVaultPermissions(vault, objectID string) []string {
	vi, ok := d.snapshot().vaults[strings.ToLower(vault)]
	if !ok {
		return nil
	}
	return slices.Clone(vi.permissions[strings.ToLower(objectID)])
}
