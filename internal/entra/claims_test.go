package entra

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func jwtWith(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".sig"
}

func TestReadClaims(t *testing.T) {
	var c struct {
		Iss string
		Exp json.Number
	}
	if err := ReadClaims(jwtWith(`{"iss":"https://issuer","exp":1900000000}`), &c); err != nil || c.Iss != "https://issuer" || c.Exp != "1900000000" {
		t.Fatalf("claims = %+v, %v", c, err)
	}
	for token, want := range map[string]string{
		"opaque":                      "not a JWT",
		"a.b.c.d":                     "not a JWT",
		"a.!!!.c":                     "not base64url",
		jwtWith(`[1,2]`):              "not a JSON object",
		jwtWith(`{"iss":`):            "not a JSON object",
		jwtWith(`{"exp":"tomorrow"}`): "not a JSON object",
	} {
		var c struct{ Exp float64 }
		if err := ReadClaims(token, &c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadClaims(%q) = %v, want %q", token, err, want)
		}
	}
}

func FuzzReadClaims(f *testing.F) {
	f.Add(jwtWith(`{"iss":"x","sub":"y","exp":1}`))
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		var c map[string]any
		_ = ReadClaims(token, &c)
	})
}
