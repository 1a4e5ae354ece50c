package keyvault_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "6d1c3b0e-4c38-4a8c-9a57-2b6a0f7f5a11"
	otherTID = "b0f3a8c2-7d51-4e0a-8f3e-91c2d4e6a7b8"
	subID    = "3f2b9d4e-1a6c-4b8e-9d0f-5c7a2e4b6d81"
	secret   = "keyvault-test-secret"
	group    = "kv"

	rbacVault   = "rbac-vault"
	policyVault = "policy-vault"
	pagingVault = "paging-vault"
	pageSize    = 3
)

// Applications of the test directory, each with the same client secret.
var (
	cryptoUser = app{"crypto-user", "0c5a1e2b-3d4f-4a6b-8c7d-9e0f1a2b3c4d", "1d6b2f3c-4e5a-4b7c-9d8e-0f1a2b3c4d5e", tenantID}
	officer    = app{"officer", "2e7c3a4d-5f6b-4c8d-8e9f-1a2b3c4d5e6f", "3f8d4b5e-6a7c-4d9e-9fa0-2b3c4d5e6f70", tenantID}
	wrapper    = app{"wrapper", "4a9e5c6f-7b8d-4eaf-8ab1-3c4d5e6f7081", "5bafd67a-8c9e-4fb0-9bc2-4d5e6f708192", tenantID}
	lateVault  = app{"late-vault", "6cb0e78b-9daf-40c1-8cd3-5e6f708192a3", "7dc1f89c-aeb0-41d2-9de4-6f708192a3b4", tenantID}
	lateGroup  = app{"late-group", "8ed2a9ad-bfc1-42e3-8ef5-708192a3b4c5", "9fe3babe-c0d2-43f4-9f06-8192a3b4c5d6", tenantID}
	owner      = app{"owner", "a0f4cbcf-d1e3-4405-8017-92a3b4c5d6e7", "b105dcd0-e2f4-4516-9128-a3b4c5d6e7f8", tenantID}
	polUser    = app{"policy-user", "c216ede1-f305-4627-8239-b4c5d6e7f809", "d327fef2-0416-4738-934a-c5d6e7f8091a", tenantID}
	polReader  = app{"policy-reader", "e4380f03-1527-4849-845b-d6e7f8091a2b", "f5491014-2638-495a-956c-e7f8091a2b3c", tenantID}
	outsider   = app{"outsider", "065a2125-3749-4a6b-866d-f8091a2b3c4d", "176b3236-485a-4b7c-977e-091a2b3c4d5e", otherTID}
)

type app struct{ name, clientID, objectID, tenant string }

func (a app) entry() string {
	return fmt.Sprintf("  - {name: %s, tenant: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", a.name, a.tenant, a.clientID, a.objectID, secret)
}

const (
	groupScope = "/subscriptions/" + subID + "/resourceGroups/" + group
	rbacScope  = groupScope + "/providers/Microsoft.KeyVault/vaults/" + rbacVault
)

func testDirectory() string {
	var apps strings.Builder
	for _, a := range []app{cryptoUser, officer, wrapper, lateVault, lateGroup, owner, polUser, polReader, outsider} {
		apps.WriteString(a.entry())
	}
	return `
tenants: [{id: ` + tenantID + `}, {id: ` + otherTID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
managementGroups: [{name: root, subscriptions: [` + subID + `]}]
applications:
` + apps.String() + `
resources:
  keyVaults:
    - name: ` + rbacVault + `
      subscription: ` + subID + `
      resourceGroup: ` + group + `
      location: westeurope
      keys: [{name: sops}]
    - name: ` + policyVault + `
      subscription: ` + subID + `
      resourceGroup: ` + group + `
      authorization: accessPolicies
      keys: [{name: sops}]
      accessPolicies:
        - {principal: policy-user, keyPermissions: [get, list, encrypt, decrypt, wrapKey, unwrapKey]}
        - {principal: policy-reader, keyPermissions: [get]}
    - name: ` + pagingVault + `
      subscription: ` + subID + `
      resourceGroup: ` + group + `
roleAssignments:
  - {principal: crypto-user, role: Key Vault Crypto User, scope: ` + rbacScope + `}
  - {principal: wrapper, role: Key Vault Crypto Service Encryption User, scope: ` + rbacScope + `}
  - {principal: officer, role: Key Vault Crypto Officer, scope: ` + groupScope + `}
  - {principal: owner, role: Owner, scope: /subscriptions/` + subID + `}
`
}

// fixture is the local Azure with the Key Vault emulator that every test of the package shares.
// It is set once in TestMain and read-only afterwards, but for the clock, which tests that move
// it put back, and the directory, to which tests add role assignments.
type fixture struct {
	azure  *azuretest.Azure
	vaults *keyvault.Server
	client *http.Client // applies the connect-to map and trusts the local CA
	clock  *azuretest.Clock
	log    *azuretest.Recorder[keyvault.Record]
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	clock := &azuretest.Clock{}
	a, err := azuretest.StartAzure(testDirectory(), &azurelocal.Options{Clock: clock.Now})
	if err != nil {
		return 0, err
	}
	defer a.Stop()
	rec := &azuretest.Recorder[keyvault.Record]{}
	srv, err := azuretest.ServeKeyVault(a.Azure, keyvault.WithObserver(rec.Add), keyvault.WithPageSize(pageSize), keyvault.WithClock(clock.Now))
	if err != nil {
		return 0, err
	}
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
	if err != nil {
		return 0, err
	}
	tr, err := transport.New(&transport.Options{ConnectTo: rules, RootCAs: a.CAPool()})
	if err != nil {
		return 0, err
	}
	defer tr.CloseIdleConnections()
	local = &fixture{azure: a, vaults: srv, client: &http.Client{Transport: tr}, clock: clock, log: rec}
	return m.Run(), nil
}

func vaultURL(vault string) string { return "https://" + vault + keyvault.Suffix }

// credential is a's client secret credential, as azidentity makes it.
func credential(t *testing.T, a app) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(a.tenant, a.clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: local.client}})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// client is an azkeys client for vault with cred; apiVersion overrides the SDK's when set.
func client(t *testing.T, cred azcore.TokenCredential, vault, apiVersion string) *azkeys.Client {
	t.Helper()
	c, err := azkeys.NewClient(vaultURL(vault), cred, &azkeys.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: local.client, APIVersion: apiVersion},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func clientFor(t *testing.T, a app, vault string) *azkeys.Client {
	t.Helper()
	return client(t, credential(t, a), vault, "")
}

// token gets a's token for scope.
func token(t *testing.T, a app, scope string) string {
	t.Helper()
	tok, err := credential(t, a).GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// scoped replaces the scopes the SDK asks for, as a client that gets its token for the wrong
// resource does.
type scoped struct {
	azcore.TokenCredential
	scope string
}

func (s scoped) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	o.Scopes = []string{s.scope}
	return s.TokenCredential.GetToken(ctx, o)
}

// tenantBlind ignores the tenant the challenge names, as Flux's token credential does, so that a
// credential of another tenant sends its own tenant's token.
type tenantBlind struct{ azcore.TokenCredential }

func (b tenantBlind) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	o.TenantID = ""
	return b.TokenCredential.GetToken(ctx, o)
}

// kvError is Key Vault's error body.
type kvError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			Code string `json:"code"`
		} `json:"innererror"`
	} `json:"error"`
}

func (e kvError) inner() string {
	if e.Error.InnerError == nil {
		return ""
	}
	return e.Error.InnerError.Code
}

// refusal returns the status and Key Vault error of an SDK call that failed, failing t when it
// did not fail with a response.
func refusal(t *testing.T, err error) (int, kvError) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want a Key Vault refusal, got %v", err)
	}
	var body kvError
	if re.RawResponse != nil {
		data, _ := io.ReadAll(re.RawResponse.Body)
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("refusal body %q: %v", data, err)
		}
	}
	return re.StatusCode, body
}

// send sends a raw request to a vault with an optional bearer token and JSON body, and returns
// the answer's status, headers and decoded error body.
func send(t *testing.T, method, url, bearer, body string) (*http.Response, kvError, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e kvError
	var m map[string]any
	json.Unmarshal(data, &e)
	json.Unmarshal(data, &m)
	return resp, e, m
}

func ptr[T any](v T) *T { return &v }
