package keyvault_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/azurelocal/keyvault"
)

// TestNotFound: an unknown key or version is KeyNotFound in Key Vault's words; an unknown vault
// is 404 too.
func TestNotFound(t *testing.T) {
	c := clientFor(t, cryptoUser, rbacVault)
	for _, tt := range []struct{ name, version, id string }{
		{"nope", "", "nope"},
		{"sops", "0123456789abcdef0123456789abcdef", "sops/0123456789abcdef0123456789abcdef"},
	} {
		_, err := c.GetKey(t.Context(), tt.name, tt.version, nil)
		want := "A key with (name/id) " + tt.id + " was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
		if status, e := refusal(t, err); status != http.StatusNotFound || e.Error.Code != "KeyNotFound" || e.Error.Message != want {
			t.Errorf("GetKey(%s, %s): %d %+v", tt.name, tt.version, status, e)
		}
	}
	_, err := c.Decrypt(t.Context(), "nope", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: []byte("x")}, nil)
	if status, e := refusal(t, err); status != http.StatusNotFound || e.Error.Code != "KeyNotFound" {
		t.Errorf("decrypt with an unknown key: %d %+v", status, e)
	}
	resp, e, _ := send(t, http.MethodGet, vaultURL("no-such-vault")+"/keys?api-version="+keyvault.APIVersion, "", "")
	if resp.StatusCode != http.StatusNotFound || e.Error.Code != "VaultNotFound" || !strings.Contains(e.Error.Message, "resources.keyVaults") {
		t.Errorf("unknown vault: %d %+v", resp.StatusCode, e)
	}
}

// TestBadParameter: requests Key Vault refuses as malformed.
func TestBadParameter(t *testing.T) {
	bearer := token(t, cryptoUser, keyvault.Resource+"/.default")
	encrypt := vaultURL(rbacVault) + "/keys/sops/encrypt?api-version=" + keyvault.APIVersion
	for _, tt := range []struct {
		name, url, body, want string
	}{
		{"unknown alg", encrypt, `{"alg":"RSA-FOO","value":"AAAA"}`, "Property 'alg' has invalid value\r\n"},
		{"no alg", encrypt, `{"value":"AAAA"}`, "Property 'alg' has invalid value\r\n"},
		{"alg not a string", encrypt, `{"alg":7,"value":"AAAA"}`, "Property 'alg' has invalid value\r\n"},
		{"no value", encrypt, `{"alg":"RSA-OAEP-256"}`, "Property 'value' is required.\r\n"},
		{"standard base64", encrypt, `{"alg":"RSA-OAEP-256","value":"ab+/"}`, "Content of 'value' is not base64url.\r\nProperty 'value' is required.\r\n"},
		{"not JSON", encrypt, `alg=RSA-OAEP-256`, "The request body is not a valid JSON object."},
		{"symmetric alg", encrypt, `{"alg":"A256GCM","value":"AAAA"}`, "The algorithm 'A256GCM' is not supported for keys of type RSA; use RSA-OAEP-256 or RSA-OAEP."},
		{"too long", encrypt, `{"alg":"RSA-OAEP-256","value":"` + strings.Repeat("A", 300) + `"}`, "The value is 225 bytes, too long for a 2048-bit RSA key with RSA-OAEP-256: at most 190 bytes."},
		{"decrypt garbage", strings.Replace(encrypt, "/encrypt", "/decrypt", 1), `{"alg":"RSA-OAEP-256","value":"AAAA"}`, "Error occurred while decoding OAEP padding."},
		{"unwrap garbage", strings.Replace(encrypt, "/encrypt", "/unwrapkey", 1), `{"alg":"RSA-OAEP","value":"` + strings.Repeat("A", 342) + `"}`, "Error occurred while decoding OAEP padding."},
		{"invalid key name", strings.Replace(encrypt, "/sops/", "/bad_name/", 1), `{}`, "The request URI contains an invalid name: bad_name"},
		{"unknown api-version", strings.Replace(encrypt, keyvault.APIVersion, "7.9", 1), `{}`, "The specified version (7.9) is not recognized. Consider using the latest supported version (2025-07-01)."},
		{"no api-version", strings.TrimSuffix(encrypt, "?api-version="+keyvault.APIVersion), `{}`, "The api-version query parameter is missing. Consider using the latest supported version (2025-07-01)."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, e, _ := send(t, http.MethodPost, tt.url, bearer, tt.body)
			if resp.StatusCode != http.StatusBadRequest || e.Error.Code != "BadParameter" || e.Error.Message != tt.want {
				t.Errorf("%d %+v\nwant 400 BadParameter %q", resp.StatusCode, e, tt.want)
			}
		})
	}
	// Through the SDK: RSA1_5, which the emulator refuses, and keys it does not make.
	c := clientFor(t, officer, rbacVault)
	_, err := c.Encrypt(t.Context(), "sops", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSA15), Value: []byte("x")}, nil)
	if status, e := refusal(t, err); status != http.StatusBadRequest || !strings.Contains(e.Error.Message, "'RSA1_5' is not emulated") {
		t.Errorf("RSA1_5: %d %+v", status, e)
	}
	_, err = c.CreateKey(t.Context(), "ec", azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeEC), Curve: ptr(azkeys.CurveNameP256)}, nil)
	if status, e := refusal(t, err); status != http.StatusBadRequest || e.inner() != "KeyTypeNotSupported" || !strings.HasPrefix(e.Error.Message, "Invalid kty value: EC") {
		t.Errorf("EC key: %d %+v", status, e)
	}
	_, err = c.CreateKey(t.Context(), "small", azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeRSA), KeySize: ptr(int32(1024))}, nil)
	if status, e := refusal(t, err); status != http.StatusBadRequest || !strings.HasPrefix(e.Error.Message, "Invalid key_size value: 1024.") {
		t.Errorf("1024-bit key: %d %+v", status, e)
	}
}

// TestAPIVersions: the versions Key Vault serves work; others are refused as Key Vault does.
func TestAPIVersions(t *testing.T) {
	cred := credential(t, cryptoUser)
	for _, v := range []string{"7.4", "7.5", "7.6", keyvault.APIVersion} {
		if _, err := client(t, cred, rbacVault, v).GetKey(t.Context(), "sops", "", nil); err != nil {
			t.Errorf("api-version %s: %v", v, err)
		}
	}
	_, err := client(t, cred, rbacVault, "7.9").GetKey(t.Context(), "sops", "", nil)
	if status, e := refusal(t, err); status != http.StatusBadRequest || e.Error.Code != "BadParameter" ||
		e.Error.Message != "The specified version (7.9) is not recognized. Consider using the latest supported version (2025-07-01)." {
		t.Errorf("api-version 7.9: %d %+v", status, e)
	}
}

// TestKeyOperations: a key refuses what its key_ops leave out.
func TestKeyOperations(t *testing.T) {
	c := clientFor(t, officer, rbacVault)
	ctx := t.Context()
	if _, err := c.CreateKey(ctx, "encrypt-only", azkeys.CreateKeyParameters{Kty: ptr(azkeys.KeyTypeRSA), KeyOps: []*azkeys.KeyOperation{ptr(azkeys.KeyOperationEncrypt)}}, nil); err != nil {
		t.Fatal(err)
	}
	alg := ptr(azkeys.EncryptionAlgorithmRSAOAEP256)
	enc, err := c.Encrypt(ctx, "encrypt-only", "", azkeys.KeyOperationParameters{Algorithm: alg, Value: []byte("x")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Decrypt(ctx, "encrypt-only", "", azkeys.KeyOperationParameters{Algorithm: alg, Value: enc.Result}, nil)
	if status, e := refusal(t, err); status != http.StatusForbidden || e.inner() != "KeyOperationForbidden" || e.Error.Message != "Operation decrypt is not permitted on this key." {
		t.Errorf("decrypt with an encrypt-only key: %d %+v", status, e)
	}
}

// TestNotEmulated: the parts of Key Vault's API that are not served say so.
func TestNotEmulated(t *testing.T) {
	bearer := token(t, cryptoUser, keyvault.Resource+"/.default")
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/secrets/db"},
		{http.MethodDelete, "/keys/sops"},
		{http.MethodPost, "/keys/sops/rotate"},
		{http.MethodPost, "/keys/sops/0123456789abcdef0123456789abcdef/sign"},
	} {
		resp, e, _ := send(t, tt.method, vaultURL(rbacVault)+tt.path+"?api-version="+keyvault.APIVersion, bearer, "")
		if resp.StatusCode != http.StatusNotImplemented || e.Error.Code != "NotImplemented" || !strings.Contains(e.Error.Message, tt.method+" "+tt.path) {
			t.Errorf("%s %s: %d %+v", tt.method, tt.path, resp.StatusCode, e)
		}
	}
}
