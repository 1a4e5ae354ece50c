package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "1903d6a9-1053-433e-8235-88140deece02"
	otherTID = "407688d1-e6a9-4477-b0f2-8638e79fe943"
	subID    = "7dca1e14-9c47-4d0b-8f14-0d1941ec51ed"
	group    = "storage"
	secret   = "blob-test-secret"

	// account is served with two keys and a declared container, data, which TestMain fills with
	// helloBlob; other declares no key (it gets the derived one).
	account   = "blobtest"
	other     = "blobother"
	key1      = "cuubrhlUBBrFuF8pGEF9uQEkGKuGeAqTTXVjCO4jFUJIscu/9VtQhtgHX9o21/0tGJQ5ulvUBzz674NLHzTSvg=="
	key2      = "k5izplA/ziDlNKWc6684TC/Dolq7iHqpG3YfMtAR9QV807Hg3PJClm3IAwRh9NP6bp3G1QDc+ucQssbFCEpAiw=="
	data      = "data"
	helloBlob = "dir/hello.txt"
	hello     = "hello from the local Blob service\n"
)

// Applications of the test directory, each with the same client secret.
var (
	writer     = app{"writer", "e666b2da-f37e-4cde-b3ae-7537a161412f", "150040a4-5c2c-49aa-a256-83c2e1f9b680", tenantID}
	byBlobData = app{"reader-container", "678e8bd8-1a3a-43cf-b435-1b7053d42319", "486d134f-1d34-420c-a544-4c5ad3bf4c51", tenantID}
	byAccount  = app{"reader-account", "413dceb7-aa8a-480b-aad1-aa1f630af6b7", "ed90a3fb-8ef5-43fc-ac7b-211443af706c", tenantID}
	byGroup    = app{"reader-group", "393d6d6b-364a-48d0-bbea-e986149c7f9b", "f4e3bb56-3477-4d55-8c32-d1becbf0a6b2", tenantID}
	bySub      = app{"reader-subscription", "6c6d67b7-4c52-4127-af1f-295589e4a40d", "6b437e22-fef8-4885-a622-59a4c846c2f4", tenantID}
	byMG       = app{"reader-management-group", "77da1a87-ecb4-4f26-8997-251cb94cb7d5", "93e0c7fd-370a-4f78-8182-a2479c748499", tenantID}
	noRole     = app{"no-role", "6c8444f2-3f6f-45c0-8ff6-a32c3283a081", "745a09c6-5953-42d2-856f-22f8e141bfdd", tenantID}
	armReader  = app{"arm-reader", "90e64869-005e-4919-afa3-3131e735e332", "d036f22d-c7a7-40cc-8f3a-3d12bc188534", tenantID}
	outsider   = app{"outsider", "524e5e67-d3f7-4da8-a508-59bedc667968", "0d1682ad-979e-4804-843e-4e08192f3605", otherTID}
)

type app struct{ name, clientID, objectID, tenant string }

func (a app) entry() string {
	return fmt.Sprintf("  - {name: %s, tenant: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", a.name, a.tenant, a.clientID, a.objectID, secret)
}

const (
	groupScope     = "/subscriptions/" + subID + "/resourceGroups/" + group
	accountScope   = groupScope + "/providers/Microsoft.Storage/storageAccounts/" + account
	containerScope = accountScope + "/blobServices/default/containers/" + data
)

func testDirectory() string {
	var apps strings.Builder
	for _, a := range []app{writer, byBlobData, byAccount, byGroup, bySub, byMG, noRole, armReader, outsider} {
		apps.WriteString(a.entry())
	}
	return `
tenants: [{id: ` + tenantID + `}, {id: ` + otherTID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
managementGroups: [{name: root, subscriptions: [` + subID + `]}]
applications:
` + apps.String() + `
resources:
  storageAccounts:
    - {name: ` + account + `, subscription: ` + subID + `, resourceGroup: ` + group + `, keys: [` + key1 + `, ` + key2 + `], containers: [` + data + `]}
    - {name: ` + other + `, subscription: ` + subID + `, resourceGroup: ` + group + `}
roleAssignments:
  - {principal: writer, role: Storage Blob Data Contributor, scope: ` + accountScope + `}
  - {principal: reader-container, role: Storage Blob Data Reader, scope: ` + containerScope + `}
  - {principal: reader-account, role: Storage Blob Data Reader, scope: ` + accountScope + `}
  - {principal: reader-group, role: Storage Blob Data Reader, scope: ` + groupScope + `}
  - {principal: reader-subscription, role: Storage Blob Data Reader, scope: /subscriptions/` + subID + `}
  - {principal: reader-management-group, role: 2a2b9908-6ea1-4ae2-8e65-a410df84e7d1, scope: /providers/Microsoft.Management/managementGroups/root}
  - {principal: arm-reader, role: Reader, scope: /subscriptions/` + subID + `}
`
}

// fixture is the local Azure, with its one Azurite, that every test of the package shares. It is
// set once in TestMain and read-only afterwards, but for the clock, which tests that move it put
// back, and the containers tests create (each its own).
type fixture struct {
	azure  *azuretest.Azure
	blob   *blob.Server // the Blob service the tests are served by
	client *http.Client // applies the connect-to map and trusts the local CA
	clock  *azuretest.Clock
	log    *azuretest.Recorder[blob.Record]
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	clock := &azuretest.Clock{}
	a, err := azuretest.StartAzure(testDirectory(), &azurelocal.Options{Clock: clock.Now, Blob: &azurelocal.BlobOptions{}})
	if err != nil {
		return 0, err
	}
	defer a.Stop()
	rec := &azuretest.Recorder[blob.Record]{}
	srv, err := azuretest.ServeBlob(a.Azure, blob.WithObserver(rec.Add), blob.WithClock(clock.Now))
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
	local = &fixture{azure: a, blob: srv, client: &http.Client{Transport: tr}, clock: clock, log: rec}
	if err := seed(); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// seed uploads helloBlob to the declared container with the account's key.
func seed() error {
	cred, err := azblob.NewSharedKeyCredential(account, key1)
	if err != nil {
		return err
	}
	c, err := azblob.NewClientWithSharedKeyCredential(serviceURL(account), cred, clientOptions(""))
	if err != nil {
		return err
	}
	_, err = c.UploadBuffer(context.Background(), data, helloBlob, []byte(hello), nil)
	return err
}

var containers atomic.Int32

// unique returns a container name no other test, or run of a test (-count), uses.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, containers.Add(1)) }

func serviceURL(acct string) string { return "https://" + acct + blob.Suffix + "/" }

// clientOptions send the SDK through the fixture's transport; audience overrides the SDK's
// https://storage.azure.com when set.
func clientOptions(audience string) *azblob.ClientOptions {
	return &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: local.client}, Audience: audience}
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

// clientFor is an azblob client of the account with a's Entra credential.
func clientFor(t *testing.T, a app) *azblob.Client {
	t.Helper()
	return bearerClient(t, credential(t, a), account, "")
}

func bearerClient(t *testing.T, cred azcore.TokenCredential, acct, audience string) *azblob.Client {
	t.Helper()
	c, err := azblob.NewClient(serviceURL(acct), cred, clientOptions(audience))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sharedKeyClient(t *testing.T, acct, key string) *azblob.Client {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(acct, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(serviceURL(acct), cred, clientOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scoped replaces the scopes the SDK asks for, as a client that gets its token for the wrong
// resource does, even after the challenge names the right one.
type scoped struct {
	azcore.TokenCredential
	scope string
}

func (s scoped) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	o.Scopes = []string{s.scope}
	return s.TokenCredential.GetToken(ctx, o)
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

// listAndDownload lists the data container and downloads helloBlob, as a reader does.
func listAndDownload(t *testing.T, c *azblob.Client) error {
	t.Helper()
	pager := c.NewListBlobsFlatPager(data, nil)
	var names []string
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	if !slices.Contains(names, helloBlob) {
		return fmt.Errorf("list = %v, want %s among them", names, helloBlob)
	}
	got, err := download(t, c, data, helloBlob)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if got != hello {
		return fmt.Errorf("download = %q, want %q", got, hello)
	}
	return nil
}

func download(t *testing.T, c *azblob.Client, container, name string) (string, error) {
	t.Helper()
	resp, err := c.DownloadStream(t.Context(), container, name, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// send sends a raw request with an optional bearer token and returns the answer and its body.
func send(t *testing.T, method, url, bearer string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("x-ms-version", "2025-11-05")
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// status returns the HTTP status of an SDK error, failing t when err is no service answer.
func status(t *testing.T, err error) int {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want an answer of the Blob service, got %v", err)
	}
	return re.StatusCode
}
