package acr_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal/acr"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "325695e8-f4e7-4fb2-99d2-3bb074d365a1"
	otherTID = "acf005ac-5b56-4059-8e0f-dae67897c43d"
	subID    = "1b0bc646-d66a-4504-87cc-d9eb3bd05898"
	secret   = "acr-test-secret"

	registryHost = "emulated.azurecr.io"
	armlessHost  = "armless.azurecr.io"
	adminHost    = "withadmin.azurecr.io"
)

// Applications of the test directory, each with the same client secret.
var (
	pusher   = app{"pusher", "d02aaa71-1d09-4f74-b885-8246b3227f4a", "3bd52412-2498-487f-b242-87fbe5258d5c", tenantID}
	puller   = app{"puller", "c7eab001-1d4e-46bc-ba59-34b154719086", "5835f7cf-ce14-4657-9c69-1671213739dd", tenantID}
	nobody   = app{"nobody", "3be42067-e68e-4815-b486-628c1944a437", "9fb5d941-3cbd-4343-a45d-a2fca263664a", tenantID}
	reader   = app{"reader", "e79b0bc8-63c7-4cf6-8489-1136a2e6a8b3", "c2e52d70-355f-44e0-9e52-accae08f921c", tenantID}
	owner    = app{"owner", "a0ed0aab-c194-4954-b39d-1d4296f891c4", "31eceb11-f94b-405b-a205-fd99988acb67", tenantID}
	outsider = app{"outsider", "e7274ba7-4836-4086-97d4-a095da7fa699", "814eb8bc-fdba-4ef2-a053-48095560da1e", otherTID}
)

type app struct{ name, clientID, objectID, tenant string }

const testDirectory = `
tenants: [{id: ` + tenantID + `}, {id: ` + otherTID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
managementGroups: [{name: root, subscriptions: [` + subID + `]}]
applications:
  - {name: pusher, tenant: ` + tenantID + `, clientId: d02aaa71-1d09-4f74-b885-8246b3227f4a, principalId: 3bd52412-2498-487f-b242-87fbe5258d5c, clientSecrets: [{value: ` + secret + `}]}
  - {name: puller, tenant: ` + tenantID + `, clientId: c7eab001-1d4e-46bc-ba59-34b154719086, principalId: 5835f7cf-ce14-4657-9c69-1671213739dd, clientSecrets: [{value: ` + secret + `}]}
  - {name: nobody, tenant: ` + tenantID + `, clientId: 3be42067-e68e-4815-b486-628c1944a437, principalId: 9fb5d941-3cbd-4343-a45d-a2fca263664a, clientSecrets: [{value: ` + secret + `}]}
  - {name: reader, tenant: ` + tenantID + `, clientId: e79b0bc8-63c7-4cf6-8489-1136a2e6a8b3, principalId: c2e52d70-355f-44e0-9e52-accae08f921c, clientSecrets: [{value: ` + secret + `}]}
  - {name: owner, tenant: ` + tenantID + `, clientId: a0ed0aab-c194-4954-b39d-1d4296f891c4, principalId: 31eceb11-f94b-405b-a205-fd99988acb67, clientSecrets: [{value: ` + secret + `}]}
  - {name: outsider, tenant: ` + otherTID + `, clientId: e7274ba7-4836-4086-97d4-a095da7fa699, principalId: 814eb8bc-fdba-4ef2-a053-48095560da1e, clientSecrets: [{value: ` + secret + `}]}
resources:
  registries:
    - {name: emulated, subscription: ` + subID + `, resourceGroup: acr}
    - {name: armless, subscription: ` + subID + `, resourceGroup: acr}
    - {name: withadmin, subscription: ` + subID + `, resourceGroup: acr}
roleAssignments:
  - {principal: pusher, role: AcrPush, scope: /subscriptions/` + subID + `/resourceGroups/acr}
  - {principal: puller, role: AcrPull, scope: /subscriptions/` + subID + `/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/emulated}
  - {principal: puller, role: AcrPull, scope: /subscriptions/` + subID + `/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/armless}
  - {principal: reader, role: Reader, scope: /providers/Microsoft.Management/managementGroups/root}
  - {principal: owner, role: Contributor, scope: /subscriptions/` + subID + `/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/emulated}
`

// fixture is the local Azure with the ACR emulator that every test of the package shares. It is
// set once in TestMain and read-only afterwards.
type fixture struct {
	azure  *azuretest.Azure
	acr    *acr.Server
	client *http.Client
	rt     http.RoundTripper
	log    *azuretest.Recorder[acr.Record]
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	a, err := azuretest.StartAzure(testDirectory, nil)
	if err != nil {
		return 0, err
	}
	defer a.Stop()
	rec := &azuretest.Recorder[acr.Record]{}
	srv, err := azuretest.ServeACR(a.Azure, acr.WithObserver(rec.Add),
		acr.WithoutARMAudience("armless"), acr.WithAdminUser("withadmin", "withadmin", "admin-password"))
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
	local = &fixture{azure: a, acr: srv, client: &http.Client{Transport: tr}, rt: tr, log: rec}
	return m.Run(), nil
}

// entraToken gets a token for a as azidentity would, with the client secret.
func entraToken(t *testing.T, a app, scope string) string {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(a.tenant, a.clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: local.client}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// post sends a form and decodes the JSON answer.
func post(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := local.client.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// exchange trades a's token for scope at host and returns the refresh token.
func exchange(t *testing.T, host string, a app) string {
	t.Helper()
	status, body := post(t, "https://"+host+"/oauth2/exchange?api-version=2021-07-01", url.Values{
		"grant_type": {"access_token"}, "service": {host}, "access_token": {entraToken(t, a, "https://containerregistry.azure.net/.default")},
	})
	rt, _ := body["refresh_token"].(string)
	if status != http.StatusOK || rt == "" {
		t.Fatalf("exchange for %s at %s: %d %v", a.name, host, status, body)
	}
	return rt
}

// accessToken trades a refresh token for scopes with the OAuth form.
func accessToken(t *testing.T, host, refresh string, scopes ...string) string {
	t.Helper()
	status, body := post(t, "https://"+host+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "service": {host}, "refresh_token": {refresh}, "scope": scopes,
	})
	at, _ := body["access_token"].(string)
	if status != http.StatusOK || at == "" {
		t.Fatalf("token at %s: %d %v", host, status, body)
	}
	return at
}

// access renders an access token's access claim as "type:name:a,b" strings.
func access(t *testing.T, token string) []string {
	t.Helper()
	list, ok := azuretest.Claims(t, token)["access"].([]any)
	if !ok {
		t.Fatalf("token has no access claim")
	}
	out := []string{}
	for _, e := range list {
		m := e.(map[string]any)
		var actions []string
		for _, a := range m["actions"].([]any) {
			actions = append(actions, a.(string))
		}
		out = append(out, fmt.Sprintf("%s:%s:%s", m["type"], m["name"], strings.Join(actions, ",")))
	}
	return out
}
