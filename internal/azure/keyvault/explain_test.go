package keyvault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// answer403 and the others are bodies as Key Vault sends them.
const (
	rbac403     = `{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=0b0b0b0b-0000-4000-8000-00000000000a;oid=0b0b0b0b-0000-4000-8000-00000000000f;iss=https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\r\nAction: 'Microsoft.KeyVault/vaults/keys/decrypt/action'\r\nResource: '/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/team-rg/providers/microsoft.keyvault/vaults/myvault/keys/sops'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: myvault;location=westeurope\r\n","innererror":{"code":"ForbiddenByRbac"}}}`
	policy403   = `{"error":{"code":"Forbidden","message":"The user, group or application 'appid=0b0b0b0b-0000-4000-8000-00000000000a;oid=0b0b0b0b-0000-4000-8000-00000000000f;iss=https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/' does not have keys decrypt permission on key vault 'myvault;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287","innererror":{"code":"AccessDenied"}}}`
	firewall403 = `{"error":{"code":"Forbidden","message":"Client address is not authorized and caller is not a trusted service.\r\nClient address: 203.0.113.7\r\nCaller: appid=0b0b0b0b-0000-4000-8000-00000000000a;oid=0b0b0b0b-0000-4000-8000-00000000000f;iss=https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\r\nVault: myvault;location=westeurope","innererror":{"code":"ForbiddenByFirewall"}}}`
	notFound404 = `{"error":{"code":"KeyNotFound","message":"A key with (name/id) sops was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"}}`
	issuer401   = `{"error":{"code":"Unauthorized","message":"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/, found https://sts.windows.net/11111111-1111-4111-8111-111111111111/."}}`
	disabled403 = `{"error":{"code":"Forbidden","message":"Operation decrypt is not allowed on a disabled key.","innererror":{"code":"KeyDisabled"}}}`
)

// kvError is azcore's error for a Key Vault answer, made as azkeys makes it.
func kvError(t *testing.T, status int, body string) error {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "https://myvault.vault.azure.net/keys/sops/v1/decrypt?api-version=2025-07-01", nil)
	resp := &http.Response{
		StatusCode: status, Status: http.StatusText(status), Request: req,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:   io.NopCloser(strings.NewReader(body)),
	}
	err := runtime.NewResponseError(resp)
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("runtime.NewResponseError = %T", err)
	}
	return err
}

// namedCredential prints itself as *entra.Credential does.
type namedCredential struct{ name, clientID string }

func (namedCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "secret-token"}, nil
}
func (c namedCredential) String() string   { return c.name }
func (c namedCredential) ClientID() string { return c.clientID }

type plainCredential struct{}

func (plainCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "secret-token"}, nil
}

func TestExplain(t *testing.T) {
	key := Key{VaultURL: "https://myvault.vault.azure.net", Name: "sops", Version: "v1"}
	named := namedCredential{"workload identity of service account apps/sops (client ID 0b0b0b0b-0000-4000-8000-00000000000a)", "0b0b0b0b-0000-4000-8000-00000000000a"}

	t.Run("403 ForbiddenByRbac names the vault's resource ID", func(t *testing.T) {
		err := Explain(kvError(t, 403, rbac403), named, key, PermissionDecrypt)
		var re *entra.RoleError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v", err)
		}
		want := entra.RoleError{
			Identity: named.name, ClientID: named.clientID, Role: "Key Vault Crypto User",
			Scope:     "/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/team-rg/providers/microsoft.keyvault/vaults/myvault",
			ScopeName: "the vault myvault", Service: "Key Vault myvault (decrypt with key sops)",
		}
		if *re != want {
			t.Errorf("role error\n got %+v\nwant %+v", *re, want)
		}
		if !strings.Contains(err.Error(), `az role assignment create --assignee 0b0b0b0b-0000-4000-8000-00000000000a --role "Key Vault Crypto User" --scope /subscriptions/`) {
			t.Errorf("message lacks the command: %v", err)
		}
	})
	t.Run("403 ForbiddenByRbac without a resource, plain credential", func(t *testing.T) {
		body := strings.Replace(rbac403, "Resource: '/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/team-rg/providers/microsoft.keyvault/vaults/myvault/keys/sops'", "Resource: '$(rm -rf /)'", 1)
		err := Explain(kvError(t, 403, body), plainCredential{}, key, PermissionEncrypt)
		var re *entra.RoleError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v", err)
		}
		if re.Scope != "$(az keyvault show --name myvault --query id --output tsv)" || re.ClientID != "0b0b0b0b-0000-4000-8000-00000000000f" ||
			re.Identity != "the identity with object ID 0b0b0b0b-0000-4000-8000-00000000000f" || re.Service != "Key Vault myvault (encrypt with key sops)" {
			t.Errorf("role error %+v", *re)
		}
	})
	t.Run("403 AccessDenied", func(t *testing.T) {
		err := Explain(kvError(t, 403, policy403), named, key, PermissionDecrypt)
		var pe *AccessPolicyError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v", err)
		}
		for _, want := range []string{named.name, "Key Vault myvault", `key permission "decrypt"`,
			"az keyvault set-policy --name myvault --object-id 0b0b0b0b-0000-4000-8000-00000000000f --key-permissions decrypt"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q: %v", want, err)
			}
		}
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 403 {
			t.Errorf("the answer is not wrapped: %v", err)
		}
	})
	for name, tt := range map[string]struct {
		status int
		body   string
		want   []string
	}{
		"403 ForbiddenByFirewall": {403, firewall403, []string{"Key Vault myvault refused", "by its firewall", "Client address: 203.0.113.7", "az keyvault network-rule add --name myvault"}},
		"404 KeyNotFound":         {404, notFound404, []string{`key "sops" (version "v1") was not found in vault https://myvault.vault.azure.net`, "404 KeyNotFound", "az keyvault key list --vault-name myvault"}},
		"401 wrong tenant":        {401, issuer401, []string{"did not accept the token of " + named.name, "AKV10032: Invalid issuer", "az keyvault show --name myvault --query properties.tenantId"}},
		"403 other":               {403, disabled403, []string{"decrypt with key https://myvault.vault.azure.net/keys/sops/v1: Key Vault answered 403 Forbidden: Operation decrypt is not allowed on a disabled key."}},
		"500 without a body":      {500, "", []string{"Key Vault answered 500"}},
	} {
		t.Run(name, func(t *testing.T) {
			err := Explain(kvError(t, tt.status, tt.body), named, key, PermissionDecrypt)
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), "secret-token") || strings.Contains(err.Error(), "\n") {
				t.Errorf("message holds the token or several lines: %q", err)
			}
			var re *azcore.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.status {
				t.Errorf("the answer is not wrapped: %v", err)
			}
		})
	}
	t.Run("not an answer", func(t *testing.T) {
		dial := &url.Error{Op: "Post", URL: "https://myvault.vault.azure.net", Err: errors.New("connection refused")}
		for _, err := range []error{nil, dial} {
			if got := Explain(err, named, key, PermissionDecrypt); got != err {
				t.Errorf("Explain(%v) = %v, want it unchanged", err, got)
			}
		}
	})
}
