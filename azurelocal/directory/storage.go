package directory

import (
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// StorageAccount is an Azure Storage account (Microsoft.Storage/storageAccounts), whose Blob
// service is served on https://NAME.blob.core.windows.net, with the access keys that sign its
// shared key requests and SAS tokens and the containers it starts with.
type StorageAccount struct {
	Resource
	// Keys are the account's access keys, key1 and key2 as Azure names them: base64, 64 bytes
	// when Azure makes them. Requests signed with either are accepted. Default: one key derived
	// from the account's name (DerivedStorageKey), as fake and public as the rest of the
	// directory.
	Keys []string `json:"keys,omitempty"`
	// Containers are created, private, when the Blob service starts; existing ones are kept.
	// Default: none.
	Containers []string `json:"containers,omitempty"`
}

// MaxStorageKeys is how many access keys an account has in Azure: key1 and key2.
const MaxStorageKeys = 2

// DerivedStorageKey is the access key of an account whose entry declares none: base64 of 64
// bytes derived from the name alone. Anyone can compute it; it exists so that a test directory
// needs no key, and must never guard anything real.
func DerivedStorageKey(account string) string {
	sum := sha512.Sum512([]byte("azimuth local Azure storage account key for " + strings.ToLower(account)))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (sa *StorageAccount) applyDefaults() {
	sa.Kind = KindStorageAccount
	if len(sa.Keys) == 0 && sa.Name != "" {
		sa.Keys = []string{DerivedStorageKey(sa.Name)}
	}
}

func (st *state) indexStorageAccounts(spec Spec, v *validator) {
	names := map[string]bool{}
	for i, sa := range spec.Resources.StorageAccounts {
		where := v.at("resources.storageAccounts", i, sa.Name)
		v.resource(where, sa.Resource, spec)
		if sa.Name != "" && !ValidStorageAccountName(sa.Name) {
			v.addf("%s: name '%s' must be 3 to 24 lower-case letters and digits", where, sa.Name)
		}
		if names[strings.ToLower(sa.Name)] {
			v.addf("%s: the name is used twice (storage account names are global in Azure)", where)
			continue
		}
		names[strings.ToLower(sa.Name)] = true
		st.resources[KindStorageAccount] = append(st.resources[KindStorageAccount], sa.Resource)
		if len(sa.Keys) > MaxStorageKeys {
			v.addf("%s: %d keys, but an account has at most %d (key1 and key2)", where, len(sa.Keys), MaxStorageKeys)
		}
		for j, k := range sa.Keys {
			// The key's value is a secret: errors name it by position only.
			if raw, err := base64.StdEncoding.DecodeString(k); err != nil || len(raw) == 0 {
				v.addf("%s: keys[%d] is not a base64 key (Azure's are 64 random bytes: head -c 64 /dev/urandom | base64 -w0)", where, j)
			}
		}
		containers := map[string]bool{}
		for j, c := range sa.Containers {
			at := fmt.Sprintf("%s: containers[%d] '%s'", where, j, c)
			if !ValidContainerName(c) {
				v.addf("%s: a container name is 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit, without two hyphens in a row", at)
			}
			if containers[c] {
				v.addf("%s: the name is used twice", at)
			}
			containers[c] = true
		}
	}
}

// ValidStorageAccountName reports whether s is a storage account name Azure accepts: 3 to 24
// lower-case letters and digits.
func ValidStorageAccountName(s string) bool {
	return len(s) >= 3 && len(s) <= 24 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
}

// ValidContainerName reports whether s is a blob container name Azure accepts: 3 to 63
// lower-case letters, digits and hyphens, starting and ending with a letter or digit, without
// consecutive hyphens.
func ValidContainerName(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// StorageAccount finds a storage account by name, ignoring case, and returns a copy of it with
// defaults filled in (its keys among them).
func (d *Directory) StorageAccount(name string) (StorageAccount, bool) {
	for _, sa := range d.snapshot().spec.Resources.StorageAccounts {
		if strings.EqualFold(sa.Name, name) {
			return cloneStorageAccount(sa), true
		}
	}
	return StorageAccount{}, false
}

// StorageAccounts returns the storage accounts, in file order, with defaults filled in.
func (d *Directory) StorageAccounts() []StorageAccount {
	var out []StorageAccount
	for _, sa := range d.snapshot().spec.Resources.StorageAccounts {
		out = append(out, cloneStorageAccount(sa))
	}
	return out
}

// SubscriptionTenant returns the tenant of a subscription: for a storage account, the tenant
// whose tokens its Blob service accepts.
func (d *Directory) SubscriptionTenant(subscription string) (string, bool) {
	t := subscriptionTenant(d.snapshot().spec, subscription)
	return t, t != ""
}

func cloneStorageAccount(sa StorageAccount) StorageAccount {
	sa.Keys = slices.Clone(sa.Keys)
	sa.Containers = slices.Clone(sa.Containers)
	return sa
}
