package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		raw, account, cloud, path string
		http                      bool
		refuse                    string // part of the error; empty: accepted
	}{
		{raw: "https://podinfo.blob.core.windows.net", account: "podinfo", cloud: entra.AzurePublic.Name},
		{raw: "https://PodInfo.blob.core.windows.net/", account: "podinfo", cloud: entra.AzurePublic.Name},
		{raw: "podinfo.blob.core.windows.net", account: "podinfo", cloud: entra.AzurePublic.Name},
		{raw: "https://gov1.blob.core.usgovcloudapi.net", account: "gov1", cloud: entra.AzureGovernment.Name},
		{raw: "https://cn01.blob.core.chinacloudapi.cn", account: "cn01", cloud: entra.AzureChina.Name},
		{raw: "https://zoned.z12.blob.storage.azure.net", account: "zoned", cloud: entra.AzurePublic.Name},
		{raw: "https://priv.privatelink.blob.core.windows.net", account: "priv", cloud: entra.AzurePublic.Name},
		{raw: "https://acct.blob.core.windows.net?sv=2022&sig=SECRET", account: "acct", cloud: entra.AzurePublic.Name},
		{raw: "http://acct.blob.core.windows.net", http: true, account: "acct", cloud: entra.AzurePublic.Name},
		{raw: "http://acct.blob.core.windows.net", refuse: "set spec.insecure"},
		{raw: "https://localhost", refuse: "expected 'localhost' to be a subdomain"},
		{raw: "https://blob.core.windows.net", refuse: "must be ACCOUNT.blob.core.windows.net"},
		{raw: "https://10.0.0.1:10000/devstoreaccount1", account: "devstoreaccount1", path: "/devstoreaccount1"},
		{raw: "http://127.0.0.1:10000/devstoreaccount1/", http: true, account: "devstoreaccount1", path: "/devstoreaccount1"},
		{raw: "https://storage.local.azurestack.external/fleet01?sv=1", account: "fleet01", path: "/fleet01"},
		{raw: "https://10.0.0.1:10000/devstoreaccount1/podinfo", refuse: "has a path"},
		{raw: "https://10.0.0.1:10000/Dev_Store", refuse: "names the storage account 'Dev_Store' in its path"},
		{raw: "https://10.0.0.1:10000", refuse: "to be a subdomain, or name the account as the path"},
		{raw: "https://minio.example.com", refuse: "is not an Azure Blob Storage endpoint"},
		{raw: "https://acct.blob.core.windows.net.evil.example", refuse: "is not an Azure Blob Storage endpoint"},
		{raw: "https://acct.blob.core.windows.net/podinfo", refuse: "has a path"},
		{raw: "https://Bad_Name.blob.core.windows.net", refuse: "not 3 to 24 lowercase letters"},
		{raw: "s3://bucket.blob.core.windows.net", refuse: "must be an https URL"},
		{raw: "https://user:pw@acct.blob.core.windows.net", refuse: "is not a URL"},
	}
	for _, tt := range tests {
		ep, err := ParseEndpoint(tt.raw, tt.http)
		if tt.refuse != "" {
			var ee *EndpointError
			if err == nil || !strings.Contains(err.Error(), tt.refuse) || !errors.As(err, &ee) || !ee.Terminal() {
				t.Errorf("%s: err = %v, want one saying %q", tt.raw, err, tt.refuse)
			}
			continue
		}
		if err != nil || ep.Account != tt.account || ep.Cloud != tt.cloud || ep.URL.Path != tt.path {
			t.Errorf("%s: %+v, %v", tt.raw, ep, err)
		}
	}
	// The endpoint's query may hold a SAS: errors leave it out.
	_, err := ParseEndpoint("https://minio.example.com/?sig=SECRET", false)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %v", err)
	}
}

func TestCheckContainerName(t *testing.T) {
	for _, ok := range []string{"abc", "a-b", "podinfo", "$root", "$web", "0day", strings.Repeat("a", 63)} {
		if err := CheckContainerName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"ab", "-ab", "ab-", "a--b", "Podinfo", "a_b", "a.b", "$logs", strings.Repeat("a", 64)} {
		if err := CheckContainerName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestMergeSAS: the SAS wins over the endpoint's own query parameters, which are kept otherwise,
// as Flux merges them.
func TestMergeSAS(t *testing.T) {
	ep, err := ParseEndpoint("https://acct.blob.core.windows.net/?sv=2019-01-01&timeout=30", false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ep.MergeSAS("?sv=2022-11-02&sp=rl&sig=abc%2Bdef")
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("sv") != "2022-11-02" || q.Get("timeout") != "30" || q.Get("sp") != "rl" || q.Get("sig") != "abc+def" {
		t.Errorf("merged query %s", u.RawQuery)
	}
	if _, err := ep.MergeSAS("sig=%zz-SECRET"); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("a malformed SAS: err = %v", err)
	}
}

// fakeTransport answers every request with answer, and records the requests.
type fakeTransport struct {
	answer func(*http.Request) *http.Response
	seen   []*http.Request
}

func (f *fakeTransport) Do(req *http.Request) (*http.Response, error) {
	f.seen = append(f.seen, req)
	resp := f.answer(req)
	resp.Request = req
	return resp, nil
}

func xmlResponse(status int, code, body string) *http.Response {
	h := http.Header{"Content-Type": {"application/xml"}}
	if code != "" {
		h.Set("x-ms-error-code", code)
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

const listing = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/" ContainerName="podinfo"><Prefix>deploy/</Prefix><Blobs>` +
	`<Blob><Name>deploy/app.yaml</Name><Properties><Etag>0x8DC1A2B3C4D5E6F</Etag><Content-Length>12</Content-Length></Properties></Blob>` +
	`<Blob><Name>deploy/svc.yaml</Name><Properties><Etag>"0x8DC000000000001"</Etag><Content-Length>3</Content-Length></Properties></Blob>` +
	`</Blobs><NextMarker /></EnumerationResults>`

// TestContainerSharedKey: a listing with a prefix and a download, signed with the shared key, as
// the request forms show.
func TestContainerSharedKey(t *testing.T) {
	ft := &fakeTransport{answer: func(r *http.Request) *http.Response {
		if r.URL.Query().Get("comp") == "list" {
			return xmlResponse(200, "", listing)
		}
		resp := xmlResponse(200, "", "kind: Config\n")
		resp.Header.Set("ETag", `"0x8DC1A2B3C4D5E6F"`)
		return resp
	}}
	c, err := NewContainer("https://acct.blob.core.windows.net", "podinfo", Auth{AccountKey: "c2VjcmV0LWtleQ=="}, &ContainerOptions{Transport: ft})
	if err != nil {
		t.Fatal(err)
	}
	var items []Item
	if err := c.List(t.Context(), "deploy/", func(it Item) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []Item{{"deploy/app.yaml", `"0x8DC1A2B3C4D5E6F"`, 12}, {"deploy/svc.yaml", `"0x8DC000000000001"`, 3}}
	if fmt.Sprint(items) != fmt.Sprint(want) {
		t.Errorf("listed %v, want %v", items, want)
	}
	list := ft.seen[0]
	if list.URL.Host != "acct.blob.core.windows.net" || list.URL.Path != "/podinfo" || list.URL.Query().Get("prefix") != "deploy/" ||
		list.URL.Query().Get("restype") != "container" || !strings.HasPrefix(list.Header.Get("Authorization"), "SharedKey acct:") {
		t.Errorf("list request %s %v", list.URL, list.Header)
	}
	var buf bytes.Buffer
	etag, err := c.Download(t.Context(), "deploy/app yaml+x.yaml", &buf)
	if err != nil || etag != `"0x8DC1A2B3C4D5E6F"` || buf.String() != "kind: Config\n" {
		t.Fatalf("download: %q %q %v", etag, buf.String(), err)
	}
	// azblob escapes the whole name ("/" as %2F), which the service reads as the name.
	if got, _ := url.PathUnescape(ft.seen[1].URL.EscapedPath()); got != "/podinfo/deploy/app yaml+x.yaml" {
		t.Errorf("download path %s", got)
	}
}

// TestContainerPathStyle: a path-style endpoint keeps the account in the path of every request,
// and the shared key signs for that account.
func TestContainerPathStyle(t *testing.T) {
	ft := &fakeTransport{answer: func(*http.Request) *http.Response { return xmlResponse(200, "", listing) }}
	c, err := NewContainer("http://127.0.0.1:10000/devstoreaccount1", "podinfo", Auth{AccountKey: "c2VjcmV0LWtleQ=="},
		&ContainerOptions{Transport: ft, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.List(t.Context(), "", func(Item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	list := ft.seen[0]
	if list.URL.Host != "127.0.0.1:10000" || list.URL.Path != "/devstoreaccount1/podinfo" ||
		!strings.HasPrefix(list.Header.Get("Authorization"), "SharedKey devstoreaccount1:") || c.Account() != "devstoreaccount1" {
		t.Errorf("list request %s %v", list.URL, list.Header)
	}
}

// TestContainerSAS: the SAS travels in the query, and no message shows its signature.
func TestContainerSAS(t *testing.T) {
	ft := &fakeTransport{answer: func(r *http.Request) *http.Response {
		return xmlResponse(403, "AuthenticationFailed", authFailed(expiredDetail))
	}}
	c, err := NewContainer("https://acct.blob.core.windows.net?timeout=20", "podinfo", Auth{SAS: "?sv=2022-11-02&sp=rl&se=2020-01-01&sig=TOPSECRET", Who: "the SAS of secret ns/sas"}, &ContainerOptions{Transport: ft})
	if err != nil {
		t.Fatal(err)
	}
	err = c.List(t.Context(), "", func(Item) error { return nil })
	q := ft.seen[0].URL.Query()
	if q.Get("sig") != "TOPSECRET" || q.Get("timeout") != "20" || ft.seen[0].Header.Get("Authorization") != "" {
		t.Errorf("request %s", ft.seen[0].URL)
	}
	var ref *Refusal
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "the SAS has expired") || !strings.Contains(err.Error(), "the SAS of secret ns/sas") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("the message shows the signature: %v", err)
	}
}

// TestContainerTransportErrorRedacted: a transport error quotes the URL; its signature goes.
func TestContainerTransportErrorRedacted(t *testing.T) {
	c, err := NewContainer("https://acct.blob.core.windows.net", "podinfo", Auth{SAS: "sp=rl&sig=TOPSECRET"},
		&ContainerOptions{Transport: failingTransport{}, Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.List(t.Context(), "", func(Item) error { return nil })
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") || !strings.Contains(err.Error(), "sig=REDACTED") {
		t.Errorf("err = %v", err)
	}
}

type failingTransport struct{}

func (failingTransport) Do(req *http.Request) (*http.Response, error) {
	return nil, &url.Error{Op: "Get", URL: req.URL.String(), Err: errors.New("connection reset by peer")}
}

func TestNewContainerRefuses(t *testing.T) {
	if _, err := NewContainer("http://acct.blob.core.windows.net", "podinfo", Auth{Token: namedCredential{"x", "y"}}, &ContainerOptions{AllowHTTP: true}); err == nil ||
		!strings.Contains(err.Error(), "over https only") {
		t.Errorf("a token over http: %v", err)
	}
	if _, err := NewContainer("https://acct.blob.core.windows.net", "podinfo", Auth{AccountKey: "not base64!SECRET", Who: "the account key of secret ns/key"}, nil); err == nil ||
		strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "secret ns/key") {
		t.Errorf("a bad key: %v", err)
	}
	if _, err := NewContainer("https://acct.blob.core.windows.net", "Bad_Name", Auth{}, nil); err == nil || !strings.Contains(err.Error(), "spec.bucketName") {
		t.Errorf("a bad container: %v", err)
	}
}

// Bodies as Azure Blob Storage sends them.
const (
	permission403 = `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.
RequestId:6a1c2e0d-501e-0041-0f2d-1a2b3c000000
Time:2026-01-01T00:00:00.0000000Z</Message></Error>`
	container404 = `<?xml version="1.0" encoding="utf-8"?><Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.
RequestId:6a1c2e0d-501e-0041-0f2d-1a2b3c000001
Time:2026-01-01T00:00:00.0000000Z</Message></Error>`
	firewall403 = `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized to perform this operation.
RequestId:6a1c2e0d-501e-0041-0f2d-1a2b3c000002
Time:2026-01-01T00:00:00.0000000Z</Message></Error>`
	keyless403 = `<?xml version="1.0" encoding="utf-8"?><Error><Code>KeyBasedAuthenticationNotPermitted</Code><Message>Key based authentication is not permitted on this storage account.
RequestId:6a1c2e0d-501e-0041-0f2d-1a2b3c000003
Time:2026-01-01T00:00:00.0000000Z</Message></Error>`
	token401 = `<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Server failed to authenticate the request. Please refer to the information in the www-authenticate header.
RequestId:6a1c2e0d-501e-0041-0f2d-1a2b3c000004
Time:2026-01-01T00:00:00.0000000Z</Message><AuthenticationErrorDetail>Issuer validation failed. Issuer did not match.</AuthenticationErrorDetail></Error>`
	expiredDetail  = "Signed expiry time [Wed, 01 Jan 2020 00:00:00 GMT] must be after signed start time [Tue, 01 Jan 2026 00:00:00 GMT]"
	signatureWrong = "Signature did not match. String to sign used was rl\n\n2020-01-01T00:00:00Z\n/blob/acct/podinfo\n"
)

func authFailed(detail string) string {
	return `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.
RequestId:6a1c2e0d-501e-0041-0f2d-1a2b3c000005
Time:2026-01-01T00:00:00.0000000Z</Message><AuthenticationErrorDetail>` + detail + `</AuthenticationErrorDetail></Error>`
}

// storageError is azcore's error for a Blob Storage answer, made as azblob makes it.
func storageError(t *testing.T, status int, code, body string) error {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://acct.blob.core.windows.net/podinfo?restype=container&comp=list&sig=TOPSECRET", nil)
	resp := xmlResponse(status, code, body)
	resp.Request = req
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

func TestExplain(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	app := namedCredential{"client secret 0b0b0b0b-0000-4000-8000-00000000000a of secret ns/app", "0b0b0b0b-0000-4000-8000-00000000000a"}
	tests := []struct {
		name   string
		auth   Auth
		status int
		code   string
		body   string
		says   []string
		role   bool
	}{
		{"role missing", Auth{Token: app}, 403, "AuthorizationPermissionMismatch", permission403, []string{
			app.name, `"Storage Blob Data Reader"`, "the storage account acct",
			`az role assignment create --assignee 0b0b0b0b-0000-4000-8000-00000000000a --role "Storage Blob Data Reader" --scope $(az storage account show --name acct --query id -o tsv)`,
		}, true},
		{"role missing, unnamed identity", Auth{Token: plainCredential{}}, 403, "AuthorizationPermissionMismatch", permission403, []string{"the identity", "--assignee <principal ID>"}, true},
		{"SAS without permissions", Auth{SAS: "sp=w&sig=x", Who: "the SAS of secret ns/sas"}, 403, "AuthorizationPermissionMismatch", permission403, []string{"the SAS of secret ns/sas", "sp=rl", "--permissions rl"}, false},
		{"container missing", Auth{Token: app}, 404, "ContainerNotFound", container404, []string{"container 'podinfo' was not found in storage account 'acct'", "spec.bucketName", "az storage container create --account-name acct --name podinfo"}, false},
		{"SAS expired", Auth{SAS: "sig=x"}, 403, "AuthenticationFailed", authFailed(expiredDetail), []string{"the SAS has expired", "Signed expiry time [Wed, 01 Jan 2020"}, false},
		{"SAS expired, time frame", Auth{SAS: "sig=x"}, 403, "AuthenticationFailed", authFailed("Signature not valid in the specified time frame: Start [Mon, 01 Jan 2024 00:00:00 GMT] - Expiry [Tue, 02 Jan 2024 00:00:00 GMT] - Current [Wed, 01 Jan 2026 00:00:00 GMT]"), []string{"the SAS has expired"}, false},
		{"SAS wrong", Auth{SAS: "sig=x"}, 403, "AuthenticationFailed", authFailed(signatureWrong), []string{"the container name may be wrong"}, false},
		// The local Azure, as Azurite, does not say why a SAS failed: its own se tells.
		{"SAS past its se", Auth{SAS: "sv=2022-11-02&se=2025-12-31T00%3A00%3A00Z&sp=rl&sig=x"}, 403, "AuthenticationFailed",
			authFailed("Signature did not match, or the signature is not valid at this time."), []string{"the SAS has expired", "it expired at 2025-12-31T00:00:00Z"}, false},
		{"SAS before its st", Auth{SAS: "st=2026-02-01&se=2026-03-01&sig=x"}, 403, "AuthenticationFailed", authFailed(signatureWrong), []string{"it is valid from 2026-02-01T00:00:00Z"}, false},
		{"SAS within its time", Auth{SAS: "st=2025-01-01&se=2027-01-01&sig=x"}, 403, "AuthenticationFailed", authFailed(signatureWrong), []string{"the container name may be wrong"}, false},
		{"key wrong", Auth{AccountKey: "a2V5", Who: "the account key of secret ns/key"}, 403, "AuthenticationFailed", authFailed("The MAC signature found in the HTTP request 'xyz=' is not the same as any computed signature."), []string{"the account key of secret ns/key", "current keys", "az storage account keys list --account-name acct"}, false},
		{"shared key disabled", Auth{AccountKey: "a2V5"}, 403, "KeyBasedAuthenticationNotPermitted", keyless403, []string{"does not allow shared key authorization", "Storage Blob Data Reader"}, false},
		{"firewall", Auth{Token: app}, 403, "AuthorizationFailure", firewall403, []string{"firewall", "az storage account network-rule add --account-name acct"}, false},
		{"token refused", Auth{Token: app}, 401, "InvalidAuthenticationInfo", token401, []string{"did not accept the token of " + app.name, "tenant"}, false},
		{"anonymous", Auth{}, 404, "ResourceNotFound", `<?xml version="1.0" encoding="utf-8"?><Error><Code>ResourceNotFound</Code><Message>The specified resource does not exist.</Message></Error>`, []string{"does not allow anonymous access"}, false},
		{"other", Auth{Token: app}, 503, "ServerBusy", `<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is currently unable to receive requests. Please retry your request.
RequestId:x</Message></Error>`, []string{"container 'podinfo' of storage account 'acct': Azure Blob Storage answered 503 ServerBusy: The server is currently unable to receive requests. Please retry your request."}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := explain(storageError(t, tt.status, tt.code, tt.body), tt.auth, "acct", "podinfo", func() time.Time { return now })
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the message does not say %q:\n%s", s, err)
				}
			}
			for _, secret := range []string{"TOPSECRET", "secret-token", "RequestId"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the message shows %q:\n%s", secret, err)
				}
			}
			var roleErr *entra.RoleError
			if errors.As(err, &roleErr) != tt.role {
				t.Errorf("RoleError = %v, want %v: %T", !tt.role, tt.role, err)
			}
			var re *azcore.ResponseError
			if !tt.role && !errors.As(err, &re) {
				t.Errorf("%T does not wrap the service's answer", err)
			}
		})
	}
	// The exported form takes a credential, nil for static ones.
	if err := Explain(storageError(t, 403, "AuthorizationPermissionMismatch", permission403), app, "acct", "podinfo"); !strings.Contains(err.Error(), RoleDataReader) {
		t.Errorf("Explain: %v", err)
	}
	if Explain(nil, nil, "acct", "podinfo") != nil {
		t.Error("Explain(nil) is not nil")
	}
	plain := errors.New("dial tcp: lookup acct.blob.core.windows.net: no such host")
	if Explain(plain, nil, "acct", "podinfo") != plain {
		t.Error("an error that is not an answer changed")
	}
}

type plainCredential struct{}

func (plainCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "secret-token"}, nil
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"https://acct.blob.core.windows.net", "acct.blob.core.chinacloudapi.cn/?sv=1", "http://[::1]:80/x", "https://a.b", "%zz", "http://127.0.0.1:10000/devstoreaccount1"} {
		f.Add(s, "sv=2022&sig=SECRET")
	}
	f.Fuzz(func(t *testing.T, raw, sas string) {
		ep, err := ParseEndpoint(raw, true)
		if err != nil {
			return
		}
		_, azure := cloudOf(ep.URL.Hostname())
		hostStyle := azure && ep.URL.Path == "" && ep.Cloud != ""
		pathStyle := !azure && ep.URL.Path == "/"+ep.Account && ep.Cloud == ""
		if !(hostStyle || pathStyle) || !accountName.MatchString(ep.Account) {
			t.Fatalf("accepted %q as %+v", raw, ep)
		}
		if u, err := ep.MergeSAS(sas); err == nil && u.Host != ep.URL.Host {
			t.Fatalf("the SAS moved the host: %s", u)
		} else if err != nil && strings.Contains(err.Error(), sas) && sas != "" {
			t.Fatalf("the error quotes the SAS: %v", err)
		}
	})
}
