package arm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "0b6f1c2a-3d4e-4f50-8a61-7b8c9d0e1f2a"
	otherTID = "1c7a2d3b-4e5f-4061-9b72-8c9d0e1f2a3b"
	subID    = "2d8b3e4c-5f60-4172-8c83-9d0e1f2a3b4c"
	group    = "apps"
	secret   = "arm-test-secret"

	registry = "armregistry"
	vault    = "arm-vault"
	identity = "app-identity"
	mgName   = "arm-root"
	cluster  = "fleet"      // an AKS cluster with Entra ID integration and a host of its own
	legacy   = "legacy_aks" // an AKS cluster with local accounts only, on its default host
	fleetAPI = "fleet-api.hcp.westeurope.azmk8s.io"

	subScope      = "/subscriptions/" + subID
	groupScope    = subScope + "/resourceGroups/" + group
	vaultScope    = groupScope + "/providers/Microsoft.KeyVault/vaults/" + vault
	registryScope = groupScope + "/providers/Microsoft.ContainerRegistry/registries/" + registry
	identityScope = groupScope + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + identity
	mgScope       = "/providers/Microsoft.Management/managementGroups/" + mgName
	clusterScope  = groupScope + "/providers/Microsoft.ContainerService/managedClusters/" + cluster

	keyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424"
	acrPull            = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	readerRole         = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
)

// Applications of the test directory, each with the same client secret.
var (
	admin    = app{"admin", "3e9c4f5d-6071-4283-9d94-0e1f2a3b4c5d", "4fad5061-7182-4394-8ea5-1f2a3b4c5d6e", tenantID}
	reader   = app{"reader", "50be6172-8293-44a5-9fb6-2a3b4c5d6e7f", "61cf7283-93a4-45b6-a0c7-3b4c5d6e7f80", tenantID}
	worker   = app{"worker", "72d08394-a4b5-46c7-b1d8-4c5d6e7f8091", "83e194a5-b5c6-47d8-82e9-5d6e7f8091a2", tenantID}
	mgAdmin  = app{"mg-admin", "94f2a5b6-c6d7-48e9-93fa-6e7f8091a2b3", "a503b6c7-d7e8-49fa-a40b-7f8091a2b3c4", tenantID}
	outsider = app{"outsider", "b614c7d8-e8f9-4a0b-b51c-8091a2b3c4d5", "c725d8e9-f90a-4b1c-862d-91a2b3c4d5e6", otherTID}
	aksUser  = app{"aks-user", "f83a0e1b-2c3d-4e4f-8a5b-6c7d8e9f0a1b", "094b1f2c-3d4e-4f50-9b6c-7d8e9f0a1b2c", tenantID}
)

// The managed identity of the test directory.
const (
	miClientID    = "d836e9fa-0a1b-4c2d-973e-a2b3c4d5e6f7"
	miPrincipalID = "e947fa0b-1b2c-4d3e-a84f-b3c4d5e6f708"
)

type app struct{ name, clientID, objectID, tenant string }

func (a app) entry() string {
	return fmt.Sprintf("  - {name: %s, tenant: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", a.name, a.tenant, a.clientID, a.objectID, secret)
}

func testDirectory() string {
	var apps strings.Builder
	for _, a := range []app{admin, reader, worker, mgAdmin, outsider, aksUser} {
		apps.WriteString(a.entry())
	}
	return `
tenants: [{id: ` + tenantID + `}, {id: ` + otherTID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
managementGroups: [{name: ` + mgName + `, subscriptions: [` + subID + `]}]
applications:
` + apps.String() + `
managedIdentities:
  - {name: ` + identity + `, subscription: ` + subID + `, resourceGroup: ` + group + `, clientId: ` + miClientID + `, principalId: ` + miPrincipalID + `}
resources:
  registries:
    - {name: ` + registry + `, subscription: ` + subID + `, resourceGroup: ` + group + `}
  keyVaults:
    - {name: ` + vault + `, subscription: ` + subID + `, resourceGroup: ` + group + `, location: westeurope, keys: [{name: sops}]}
  managedClusters:
    - {name: ` + cluster + `, subscription: ` + subID + `, resourceGroup: ` + group + `, location: westeurope, fqdn: ` + fleetAPI + `}
    - {name: ` + legacy + `, subscription: ` + subID + `, resourceGroup: ` + group + `, localAccountsOnly: true}
roleAssignments:
  - {principal: admin, role: Owner, scope: ` + subScope + `}
  - {principal: reader, role: Reader, scope: ` + subScope + `}
  - {principal: mg-admin, role: Owner, scope: ` + mgScope + `}
`
}

// fixture is the local Azure that every test of the package shares. Tests add and remove role
// assignments and federated credentials through ARM; each uses its own principal or names, and
// removes what it made.
type fixture struct {
	azure  *azuretest.Azure
	issuer *azuretest.Issuer
	client *http.Client // applies the connect-to map and trusts the local CA
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	issuer := azuretest.NewIssuer()
	defer issuer.Close()
	a, err := azuretest.StartAzure(testDirectory(), &azurelocal.Options{IssuerCAs: [][]byte{issuer.CAPEM()}})
	if err != nil {
		return 0, err
	}
	defer a.Stop()
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
	if err != nil {
		return 0, err
	}
	tr, err := transport.New(&transport.Options{ConnectTo: rules, RootCAs: a.CAPool()})
	if err != nil {
		return 0, err
	}
	defer tr.CloseIdleConnections()
	local = &fixture{azure: a, issuer: issuer, client: &http.Client{Transport: tr}}
	return m.Run(), nil
}

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

// clientOptions send an SDK client to the local Azure, with no retries to wait for.
func clientOptions() *azarm.ClientOptions {
	return &azarm.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: local.client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
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

// call sends a raw request to ARM with a token (none when tok is empty) and returns the status
// and the error code of the answer.
func call(t *testing.T, method, path, tok string, body string) (int, armError) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "https://management.azure.com"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error armError }
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("%s %s: %d with a body that is not ARM's error: %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, e.Error
}

type armError struct{ Code, Message string }

// responseError returns err's ARM error, failing t when err is not one.
func responseError(t *testing.T, err error) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want an ARM error", err)
	}
	return re
}
