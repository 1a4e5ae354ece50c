package access

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseProviderSecret(t *testing.T) {
	const token = "pat-material-0123"
	s, err := ParseProviderSecret("ns", "ado", map[string][]byte{
		"address": []byte(" https://dev.azure.com/o/p/_git/r\n"), "token": []byte(token + "\n"),
		"headers": []byte("X-Team: platform\nAuthorization: Bearer x\n"), "ca.crt": []byte("pem"), "clientId": []byte("c1"),
	})
	if err != nil || s.Address != "https://dev.azure.com/o/p/_git/r" || s.Token != token || s.Headers["X-Team"] != "platform" || !s.CA || !s.Identity {
		t.Fatalf("%v", err)
	}
	for _, printed := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %s %q", s, s, s, s)} {
		if strings.Contains(printed, token) || strings.Contains(printed, "dev.azure.com") {
			t.Fatalf("a printed ProviderSecret shows its material: %s", printed)
		}
	}
	for key, data := range map[string]map[string][]byte{
		"'address'": {"address": []byte(strings.Repeat("a", 2049))},
		"'headers'": {"headers": []byte("- a list")},
	} {
		if _, err := ParseProviderSecret("ns", "ado", data); err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "'ns/ado'") {
			t.Errorf("%s: %v", key, err)
		}
	}
	if _, err := ParseProviderSecret("ns", "ado", map[string][]byte{"headers": []byte("'bad name': v")}); err == nil {
		t.Error("a header name with a space was accepted")
	}
}

func FuzzParseProviderSecret(f *testing.F) {
	f.Add("https://example.com/hook", "token", "X-A: b\n")
	f.Add("", "", "{")
	f.Fuzz(func(t *testing.T, address, token, headers string) {
		s, err := ParseProviderSecret("ns", "n", map[string][]byte{"address": []byte(address), "token": []byte(token), "headers": []byte(headers)})
		if err != nil {
			if len(token) > 8 && strings.Contains(err.Error(), token) {
				t.Fatalf("the error shows the token: %v", err)
			}
			return
		}
		for k := range s.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n\t") {
				t.Fatalf("header name %q accepted", k)
			}
		}
	})
}
