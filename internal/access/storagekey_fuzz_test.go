package access

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParseStorageKey: whatever a Bucket secret holds, ParseStorageKey returns a key or a SAS
// trimmed and non-empty, or an error naming the secret; no printed form shows the material.
func FuzzParseStorageKey(f *testing.F) {
	f.Add("c2VjcmV0LWtleQ==", "")
	f.Add("", "?sv=2022-11-02&sp=rl&sig=c2VjcmV0")
	f.Add(" \n", "?")
	f.Add("key", "sas")
	f.Fuzz(func(t *testing.T, accountKey, sasKey string) {
		data := map[string][]byte{}
		if accountKey != "" {
			data["accountKey"] = []byte(accountKey)
		}
		if sasKey != "" {
			data["sasKey"] = []byte(sasKey)
		}
		key, err := ParseStorageKey("ns", "storage", data)
		if err != nil {
			if !strings.Contains(err.Error(), "'ns/storage'") {
				t.Fatalf("the error does not name the secret: %v", err)
			}
			for _, v := range []string{strings.TrimSpace(accountKey), strings.TrimSpace(sasKey)} {
				if len(v) > 8 && strings.Contains(err.Error(), v) {
					t.Fatalf("the error shows the material: %v", err)
				}
			}
			return
		}
		switch {
		case key.AccountKey != "":
			if key.SAS != "" || key.AccountKey != strings.TrimSpace(key.AccountKey) {
				t.Fatalf("key %q, SAS %q", key.AccountKey, key.SAS)
			}
		case key.SAS == "" && strings.TrimSpace(sasKey) != "?":
			// A sasKey of "?" alone reads as an empty SAS, as in Flux (anonymous access);
			// internal/bucket refuses it.
			t.Fatalf("neither a key nor a SAS from %q", sasKey)
		case strings.HasPrefix(key.SAS, "?") && !strings.HasPrefix(strings.TrimSpace(sasKey), "??"):
			t.Fatalf("a SAS with its '?': %q", key.SAS)
		}
		secret := key.AccountKey + key.SAS
		for _, printed := range []string{fmt.Sprint(key), fmt.Sprintf("%v %+v %#v %s %q", key, key, key, key, key)} {
			if len(secret) > 10 && strings.Contains(printed, secret) {
				t.Fatalf("a printed StorageKey shows its material: %s", printed)
			}
		}
	})
}
