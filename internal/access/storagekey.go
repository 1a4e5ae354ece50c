package access

import (
	"fmt"
	"strings"
)

// StorageKey is a storage account's shared key or a SAS token, from a Bucket's secretRef. Every
// printed form is redacted.
type StorageKey struct {
	// AccountKey is the account's shared key, base64 as the portal shows it.
	AccountKey string
	// SAS is a shared access signature's query string, without its leading '?'.
	SAS string
}

// String hides the material.
func (StorageKey) String() string { return "[redacted]" }

// GoString hides the material from %#v.
func (StorageKey) GoString() string { return "access.StorageKey{[redacted]}" }

// Format hides the material from every verb.
func (StorageKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// ParseStorageKey reads the static credential of a Bucket secret as Flux does: the key
// accountKey, else sasKey (a leading '?' is dropped). Read a secret's Entra identity first
// (identity.ParseBucketSecret): in Flux's order, an identity wins over a key.
func ParseStorageKey(namespace, name string, data map[string][]byte) (StorageKey, error) {
	switch {
	case len(strings.TrimSpace(string(data["accountKey"]))) > 0:
		return StorageKey{AccountKey: strings.TrimSpace(string(data["accountKey"]))}, nil
	case len(strings.TrimSpace(string(data["sasKey"]))) > 0:
		return StorageKey{SAS: strings.TrimPrefix(strings.TrimSpace(string(data["sasKey"])), "?")}, nil
	}
	return StorageKey{}, fmt.Errorf("invalid secret '%s/%s': it holds neither 'accountKey' nor 'sasKey'", namespace, name)
}
