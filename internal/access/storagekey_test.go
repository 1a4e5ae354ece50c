package access

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseStorageKey(t *testing.T) {
	const material = "c2VjcmV0LWtleQ=="
	key, err := ParseStorageKey("ns", "storage", map[string][]byte{"accountKey": []byte(material + "\n"), "sasKey": []byte("?sv=1")})
	if err != nil || key.AccountKey != material || key.SAS != "" {
		t.Fatalf("account key: %v", err)
	}
	key, err = ParseStorageKey("ns", "storage", map[string][]byte{"sasKey": []byte("?sv=2020&sig=" + material)})
	if err != nil || key.SAS != "sv=2020&sig="+material {
		t.Fatalf("SAS: the leading '?' must go: %v", err)
	}
	if _, err := ParseStorageKey("ns", "storage", map[string][]byte{"clientId": []byte("x")}); err == nil || !strings.Contains(err.Error(), "'ns/storage'") {
		t.Fatalf("no key: err = %v", err)
	}
	for _, printed := range []string{fmt.Sprint(key), fmt.Sprintf("%+v %#v %s %q", key, key, key, key)} {
		if strings.Contains(printed, material) {
			t.Fatalf("a printed StorageKey shows its material: %s", printed)
		}
	}
}
