package azuretest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// Claims decodes a JWT's claims without verifying the token, for a test to look at what an
// emulator issued. It fails t when token is not a JWT.
func Claims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
