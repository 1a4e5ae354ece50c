package keyvault_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
	"github.com/azimuth-gitops/azimuth/azurelocal/keyvault"
)

func rbacMessage(a app, action, resource, vault, location string) string {
	return "Caller is not authorized to perform action on resource.\r\n" +
		"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n" +
		"Caller: appid=" + a.clientID + ";oid=" + a.objectID + ";iss=https://sts.windows.net/" + a.tenant + "/\r\n" +
		"Action: '" + action + "'\r\n" +
		"Resource: '" + strings.ToLower(resource) + "'\r\n" +
		"Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\n" +
		"Vault: " + vault + ";location=" + location + "\r\n"
}

func policyMessage(a app, permission, vault string) string {
	return "The user, group or application 'appid=" + a.clientID + ";oid=" + a.objectID + ";iss=https://sts.windows.net/" + a.tenant +
		"/' does not have keys " + permission + " permission on key vault '" + vault + ";location=" + directory.DefaultVaultLocation +
		"'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
}

// ciphertext encrypts plain with the rbac vault's sops key, as the crypto user.
func ciphertext(t *testing.T, plain string) []byte {
	t.Helper()
	enc, err := clientFor(t, cryptoUser, rbacVault).Encrypt(t.Context(), "sops", "",
		azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: []byte(plain)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.Result
}

func decrypt(t *testing.T, c *azkeys.Client, vault string, ct []byte) (string, error) {
	t.Helper()
	dec, err := c.Decrypt(t.Context(), "sops", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: ct}, nil)
	return string(dec.Result), err
}

// TestRBAC: without a role, ForbiddenByRbac in Key Vault's words; a Key Vault Crypto User
// assignment at the vault's scope, or at its resource group's, lets the principal decrypt; a
// control-plane Owner cannot.
func TestRBAC(t *testing.T) {
	ct := ciphertext(t, "secret")
	key := rbacScope + "/keys/sops"
	for _, tt := range []struct {
		who   app
		scope string
	}{{lateVault, rbacScope}, {lateGroup, groupScope}} {
		t.Run(tt.who.name, func(t *testing.T) {
			c := clientFor(t, tt.who, rbacVault)
			_, err := decrypt(t, c, rbacVault, ct)
			status, e := refusal(t, err)
			if status != http.StatusForbidden || e.Error.Code != "Forbidden" || e.inner() != "ForbiddenByRbac" {
				t.Fatalf("without a role: %d %+v", status, e)
			}
			if want := rbacMessage(tt.who, "Microsoft.KeyVault/vaults/keys/decrypt/action", key, rbacVault, "westeurope"); e.Error.Message != want {
				t.Errorf("message:\n%q\nwant\n%q", e.Error.Message, want)
			}
			if err := local.azure.Directory().AddRoleAssignment(directory.RoleAssignment{Principal: tt.who.name, Role: "Key Vault Crypto User", Scope: tt.scope}); err != nil {
				t.Fatal(err)
			}
			if got, err := decrypt(t, c, rbacVault, ct); err != nil || got != "secret" {
				t.Errorf("with Key Vault Crypto User at %s: %q, %v", tt.scope, got, err)
			}
		})
	}
	_, err := clientFor(t, owner, rbacVault).GetKey(t.Context(), "sops", "", nil)
	if status, e := refusal(t, err); status != http.StatusForbidden || e.inner() != "ForbiddenByRbac" ||
		!strings.Contains(e.Error.Message, "Action: 'Microsoft.KeyVault/vaults/keys/read'") {
		t.Errorf("Owner reads a key: %d %+v", status, e)
	}
	// Listing is checked at the vault's scope.
	pager := clientFor(t, owner, rbacVault).NewListKeyPropertiesPager(nil)
	_, err = pager.NextPage(t.Context())
	if status, e := refusal(t, err); status != http.StatusForbidden || !strings.Contains(e.Error.Message, "Resource: '"+strings.ToLower(rbacScope)+"'\r\n") {
		t.Errorf("Owner lists keys: %d %+v", status, e)
	}
}

// TestServiceEncryptionUser: Key Vault Crypto Service Encryption User reads, wraps and unwraps,
// but neither encrypts nor decrypts.
func TestServiceEncryptionUser(t *testing.T) {
	c := clientFor(t, wrapper, rbacVault)
	ctx := t.Context()
	alg := ptr(azkeys.EncryptionAlgorithmRSAOAEP256)
	if _, err := c.GetKey(ctx, "sops", "", nil); err != nil {
		t.Fatal(err)
	}
	wrapped, err := c.WrapKey(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: alg, Value: []byte("dek")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.UnwrapKey(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: alg, Value: wrapped.Result}, nil); err != nil || string(got.Result) != "dek" {
		t.Fatalf("unwrap = %q, %v", got.Result, err)
	}
	_, err = decrypt(t, c, rbacVault, ciphertext(t, "x"))
	if status, e := refusal(t, err); status != http.StatusForbidden ||
		e.Error.Message != rbacMessage(wrapper, "Microsoft.KeyVault/vaults/keys/decrypt/action", rbacScope+"/keys/sops", rbacVault, "westeurope") {
		t.Errorf("decrypt: %d %+v", status, e)
	}
	_, err = c.Encrypt(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: alg, Value: []byte("x")}, nil)
	if status, e := refusal(t, err); status != http.StatusForbidden || !strings.Contains(e.Error.Message, "Action: 'Microsoft.KeyVault/vaults/keys/encrypt/action'") {
		t.Errorf("encrypt: %d %+v", status, e)
	}
}

// TestAccessPolicies: a vault of the access-policy model grants what its policies list, and
// nothing through role assignments.
func TestAccessPolicies(t *testing.T) {
	ctx := t.Context()
	user := clientFor(t, polUser, policyVault)
	enc, err := user.Encrypt(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP), Value: []byte("dek")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := user.Decrypt(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP), Value: enc.Result}, nil)
	if err != nil || string(dec.Result) != "dek" {
		t.Fatalf("decrypt with the policy = %q, %v", dec.Result, err)
	}
	reader := clientFor(t, polReader, policyVault)
	if _, err := reader.GetKey(ctx, "sops", "", nil); err != nil {
		t.Fatal(err)
	}
	_, err = reader.Decrypt(ctx, "sops", "", azkeys.KeyOperationParameters{Algorithm: ptr(azkeys.EncryptionAlgorithmRSAOAEP), Value: enc.Result}, nil)
	if status, e := refusal(t, err); status != http.StatusForbidden || e.Error.Code != "Forbidden" || e.inner() != "AccessDenied" ||
		e.Error.Message != policyMessage(polReader, "decrypt", policyVault) {
		t.Errorf("reader decrypts: %d %+v\nwant %q", status, e, policyMessage(polReader, "decrypt", policyVault))
	}
	// The officer's Key Vault Crypto Officer role covers the resource group, but this vault
	// consults its access policies only.
	_, err = clientFor(t, officer, policyVault).GetKey(ctx, "sops", "", nil)
	if status, e := refusal(t, err); status != http.StatusForbidden || e.Error.Message != policyMessage(officer, "get", policyVault) {
		t.Errorf("officer reads: %d %+v", status, e)
	}
	// And the policy's principal has no role on the rbac vault.
	_, err = clientFor(t, polUser, rbacVault).GetKey(ctx, "sops", "", nil)
	if status, e := refusal(t, err); status != http.StatusForbidden || e.inner() != "ForbiddenByRbac" {
		t.Errorf("policy user on the rbac vault: %d %+v", status, e)
	}
}

// TestTokens: each way a token is wrong gets Key Vault's 401, with the challenge.
func TestTokens(t *testing.T) {
	ctx := t.Context()
	// A Resource Manager token, through the SDK: the credential asks for the wrong scope.
	arm := client(t, scoped{credential(t, cryptoUser), "https://management.azure.com/.default"}, rbacVault, "")
	_, err := arm.GetKey(ctx, "sops", "", nil)
	if status, e := refusal(t, err); status != http.StatusUnauthorized || e.Error.Code != "Unauthorized" ||
		e.Error.Message != "AKV10022: Invalid audience. Expected https://vault.azure.net or cfa8b339-82a2-471a-a3c9-0fc0be7a4093, found: https://management.azure.com." {
		t.Errorf("ARM token: %d %+v", status, e)
	}
	// A token of another tenant, from a credential that ignores the challenge's tenant.
	other := client(t, tenantBlind{credential(t, outsider)}, rbacVault, "")
	_, err = other.GetKey(ctx, "sops", "", nil)
	if status, e := refusal(t, err); status != http.StatusUnauthorized ||
		e.Error.Message != "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/"+tenantID+"/, https://login.microsoftonline.com/"+tenantID+"/v2.0, found https://sts.windows.net/"+otherTID+"/." {
		t.Errorf("token of another tenant: %d %+v", status, e)
	}

	good := token(t, cryptoUser, "https://vault.azure.net/.default")
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	unknownTenant, err := jose.SignRS256(stranger, map[string]any{"kid": "k1"}, map[string]any{
		"aud": keyvault.Resource, "iss": "https://sts.windows.net/00000000-0000-0000-0000-00000000000f/", "tid": "00000000-0000-0000-0000-00000000000f",
		"iat": time.Now().Unix(), "nbf": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, bearer, want string
	}{
		{"none", "", "AKV10000: Request is missing a Bearer or PoP token."},
		{"garbage", "not-a-token", "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'."},
		{"tampered", good[:len(good)-6] + "AAAAAA", "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'."},
		{"unknown tenant", unknownTenant, "AKV10046: Unable to resolve the key used for signature validation. EncodedJwtHeader: '" + strings.Split(unknownTenant, ".")[0] + "'."},
		{"trailing slash", token(t, cryptoUser, "https://vault.azure.net//.default"),
			"AKV10022: Invalid audience. Expected https://vault.azure.net or cfa8b339-82a2-471a-a3c9-0fc0be7a4093, found: https://vault.azure.net/."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, e, _ := send(t, http.MethodGet, vaultURL(rbacVault)+"/keys/sops?api-version="+keyvault.APIVersion, tt.bearer, "")
			if resp.StatusCode != http.StatusUnauthorized || e.Error.Message != tt.want || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer authorization=") {
				t.Errorf("%d %+v (WWW-Authenticate %q), want 401 %q", resp.StatusCode, e, resp.Header.Get("WWW-Authenticate"), tt.want)
			}
		})
	}

	// Expiry, on the clock the local Entra ID and Key Vault share.
	local.clock.Advance(2 * time.Hour)
	resp, e, _ := send(t, http.MethodGet, vaultURL(rbacVault)+"/keys/sops?api-version="+keyvault.APIVersion, good, "")
	local.clock.Advance(-2 * time.Hour)
	if resp.StatusCode != http.StatusUnauthorized || e.Error.Message != "[TokenExpired] Error validating token: 'S2S12086'." {
		t.Errorf("expired token: %d %+v", resp.StatusCode, e)
	}
	if resp, e, _ := send(t, http.MethodGet, vaultURL(rbacVault)+"/keys/sops?api-version="+keyvault.APIVersion, good, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the same token, in time: %d %+v", resp.StatusCode, e)
	}
}
