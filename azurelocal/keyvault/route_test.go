package keyvault

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
)

func TestParseRoute(t *testing.T) {
	for _, tt := range []struct {
		method, path     string
		op, key, version string
		status           int
	}{
		{"GET", "/keys", "list", "", "", 0},
		{"GET", "/keys/", "list", "", "", 0},
		{"GET", "/keys/sops", "get", "sops", "", 0},
		{"GET", "/keys/sops/", "get", "sops", "", 0},
		{"GET", "/keys/sops/0123456789abcdef0123456789abcdef", "get", "sops", "0123456789abcdef0123456789abcdef", 0},
		{"GET", "/keys/sops/versions", "versions", "sops", "", 0},
		{"POST", "/keys/sops/create", "create", "sops", "", 0},
		{"POST", "/keys/sops/encrypt", "encrypt", "sops", "", 0},
		{"POST", "/keys/sops//decrypt", "decrypt", "sops", "", 0},
		{"POST", "/keys/sops/abc/WrapKey", "wrapkey", "sops", "abc", 0},
		{"POST", "/keys/sops/abc/unwrapkey", "unwrapkey", "sops", "abc", 0},
		{"GET", "/keys/sops/encrypt", "", "sops", "", http.StatusNotImplemented},
		{"PUT", "/keys/sops", "", "sops", "", http.StatusNotImplemented},
		{"POST", "/keys/sops/abc/sign", "", "", "", http.StatusNotImplemented},
		{"GET", "/secrets/x", "", "", "", http.StatusNotImplemented},
		{"GET", "/keys/a/b/c/d", "", "", "", http.StatusNotImplemented},
		{"GET", "/keys/a_b", "get", "a_b", "", http.StatusBadRequest},
		{"POST", "/keys//create", "create", "", "", http.StatusBadRequest},
	} {
		rt, e := parseRoute(tt.method, tt.path)
		status := 0
		if e != nil {
			status = e.status
		}
		if rt.op.name != tt.op || rt.key != tt.key || rt.version != tt.version || status != tt.status {
			t.Errorf("parseRoute(%s %s) = %q %q %q, %d; want %q %q %q, %d", tt.method, tt.path, rt.op.name, rt.key, rt.version, status, tt.op, tt.key, tt.version, tt.status)
		}
	}
}

func TestParseOperation(t *testing.T) {
	for _, tt := range []struct {
		body, alg, value, message string
	}{
		{`{"alg":"RSA-OAEP-256","value":"aGk"}`, "RSA-OAEP-256", "hi", ""},
		{`{"alg":"RSA-OAEP","value":"aGk=","iv":"x","aad":"y"}`, "RSA-OAEP", "hi", ""},
		{`{"alg":"RSA-OAEP","value":""}`, "RSA-OAEP", "", ""},
		{`{"alg":"RSA-OAEP","value":"-_8"}`, "RSA-OAEP", "\xfb\xff", ""},
		{`{"alg":"RSA-OAEP","value":"+/8"}`, "", "", "Content of 'value' is not base64url.\r\nProperty 'value' is required.\r\n"},
		{`{"alg":"RSA-OAEP","value":null}`, "", "", "Property 'value' is required.\r\n"},
		{`{"alg":"RSA-OAEP","value":3}`, "", "", "Property 'value' has invalid value\r\n"},
		{`{"alg":"","value":"aGk"}`, "", "", "Property 'alg' has invalid value\r\n"},
		{`[]`, "", "", "The request body is not a valid JSON object."},
		{``, "", "", "The request body is not a valid JSON object."},
	} {
		alg, value, e := parseOperation([]byte(tt.body))
		msg := ""
		if e != nil {
			msg = e.message
		}
		if alg != tt.alg || string(value) != tt.value || msg != tt.message {
			t.Errorf("parseOperation(%s) = %q, %q, %q; want %q, %q, %q", tt.body, alg, value, msg, tt.alg, tt.value, tt.message)
		}
	}
}

// FuzzParseOperation: the body of encrypt, decrypt, wrapkey and unwrapkey is user input. It never
// panics; what it accepts has an algorithm and a value that Key Vault's own encoding gives back.
func FuzzParseOperation(f *testing.F) {
	f.Add([]byte(`{"alg":"RSA-OAEP-256","value":"aGk"}`))
	f.Add([]byte(`{"alg":"RSA-OAEP","value":"aGk=="}`))
	f.Add([]byte(`{"alg":null,"value":"aGk"}`))
	f.Add([]byte(`{"value":"\u0000"}`))
	f.Add([]byte(`{"alg":"A256GCM","value":"","iv":"AAAA","tag":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		alg, value, e := parseOperation(body)
		if e != nil {
			if e.status != http.StatusBadRequest || e.code != "BadParameter" || e.message == "" {
				t.Fatalf("refusal %+v is not a BadParameter", e)
			}
			return
		}
		if alg == "" {
			t.Fatal("accepted a body without an algorithm")
		}
		var req struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		again, err := base64.RawURLEncoding.DecodeString(base64.RawURLEncoding.EncodeToString(value))
		if err != nil || !bytes.Equal(again, value) {
			t.Fatalf("value does not survive Key Vault's encoding: %v", err)
		}
		if _, e := oaepHash(alg); e != nil && e.status != http.StatusBadRequest {
			t.Fatalf("algorithm %q: %+v", alg, e)
		}
	})
}
