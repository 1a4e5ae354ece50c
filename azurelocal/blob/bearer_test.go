package blob_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// TestReaderAtEveryScope: Storage Blob Data Reader assigned at the container, the account, its
// resource group, subscription or management group lets the SDK list and download with an Entra
// token, which the gateway checks and Azurite then accepts.
func TestReaderAtEveryScope(t *testing.T) {
	for _, a := range []app{byBlobData, byAccount, byGroup, bySub, byMG} {
		t.Run(a.name, func(t *testing.T) {
			mark := local.log.Len()
			if err := listAndDownload(t, clientFor(t, a)); err != nil {
				t.Fatal(err)
			}
			recs := local.log.Since(mark, nil)
			if len(recs) == 0 || recs[0].Auth != blob.AuthBearer || recs[0].Principal != a.objectID || recs[0].Operation != "ListBlobs" || recs[0].Status != http.StatusOK {
				t.Errorf("records = %+v", recs)
			}
		})
	}
}

// TestNoRole: a principal with no role, or with the control-plane Reader only (whose actions are
// not data actions), is refused with 403 AuthorizationPermissionMismatch, in Azure's body.
func TestNoRole(t *testing.T) {
	for _, a := range []app{noRole, armReader} {
		t.Run(a.name, func(t *testing.T) {
			c := clientFor(t, a)
			_, err := c.NewListBlobsFlatPager(data, nil).NextPage(t.Context())
			if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) || status(t, err) != http.StatusForbidden {
				t.Errorf("list blobs: %v", err)
			}
			_, err = download(t, c, data, helloBlob)
			if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
				t.Errorf("download: %v", err)
			}
		})
	}
	tok := token(t, noRole, blob.Resource+"/.default")
	resp, body := send(t, http.MethodGet, serviceURL(account)+data+"?restype=container&comp=list", tok)
	want := regexp.MustCompile(`^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.\nRequestId:[0-9a-f-]{36}\nTime:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z</Message></Error>$`)
	if resp.StatusCode != http.StatusForbidden || !want.MatchString(body) ||
		resp.Header.Get("x-ms-error-code") != "AuthorizationPermissionMismatch" || resp.Header.Get("Content-Type") != "application/xml" ||
		resp.Header.Get("x-ms-request-id") == "" || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("raw refusal: %s %v\n%s", resp.Status, resp.Header, body)
	}
	// A role granted at run time takes effect at once.
	if err := local.azure.Directory().AddRoleAssignment(directory.RoleAssignment{Principal: noRole.name, Role: "Storage Blob Data Reader", Scope: containerScope}); err != nil {
		t.Fatal(err)
	}
	if err := listAndDownload(t, clientFor(t, noRole)); err != nil {
		t.Errorf("after the assignment: %v", err)
	}
}

// TestWrite: Storage Blob Data Reader cannot upload, Storage Blob Data Contributor can; neither
// a reader nor a control-plane Reader may create a container.
func TestWrite(t *testing.T) {
	_, err := clientFor(t, byAccount).UploadBuffer(t.Context(), data, "by-reader.txt", []byte("x"), nil)
	if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("a reader uploading: %v", err)
	}
	w := clientFor(t, writer)
	if _, err := w.UploadBuffer(t.Context(), data, "by-writer.txt", []byte("written"), nil); err != nil {
		t.Fatalf("a contributor uploading: %v", err)
	}
	if got, err := download(t, clientFor(t, byAccount), data, "by-writer.txt"); err != nil || got != "written" {
		t.Errorf("reading it back: %q, %v", got, err)
	}
	for _, a := range []app{byAccount, armReader} {
		if _, err := clientFor(t, a).CreateContainer(t.Context(), "by-"+a.name, nil); !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
			t.Errorf("%s creating a container: %v", a.name, err)
		}
	}
	if _, err := w.DeleteBlob(t.Context(), data, "by-writer.txt", nil); err != nil {
		t.Errorf("a contributor deleting: %v", err)
	}
}

// TestAudience: a token for another resource is refused with 401 InvalidAuthenticationInfo and
// Azure Storage's challenge, even after the SDK follows it; the account's own audience works,
// another account's does not.
func TestAudience(t *testing.T) {
	cred := credential(t, byAccount)
	_, err := bearerClient(t, scoped{cred, "https://vault.azure.net/.default"}, account, "").NewListBlobsFlatPager(data, nil).NextPage(t.Context())
	if !bloberror.HasCode(err, bloberror.InvalidAuthenticationInfo) || status(t, err) != http.StatusUnauthorized {
		t.Errorf("a Key Vault token: %v", err)
	}
	if err := listAndDownload(t, bearerClient(t, cred, account, "https://"+account+blob.Suffix)); err != nil {
		t.Errorf("the account's own audience: %v", err)
	}
	_, err = bearerClient(t, scoped{cred, "https://" + other + blob.Suffix + "/.default"}, account, "").NewListBlobsFlatPager(data, nil).NextPage(t.Context())
	if !bloberror.HasCode(err, bloberror.InvalidAuthenticationInfo) {
		t.Errorf("another account's audience: %v", err)
	}
	// Without the forced scope, the SDK follows the challenge to the right resource.
	if err := listAndDownload(t, bearerClient(t, cred, account, "https://vault.azure.net")); err != nil {
		t.Errorf("after the challenge: %v", err)
	}
}

// TestRefusals: the 401s in Azure Storage's words, each with the challenge that names the
// account's tenant.
func TestRefusals(t *testing.T) {
	expired := func() string {
		local.clock.Advance(-2 * time.Hour)
		defer local.clock.Advance(2 * time.Hour)
		return token(t, byAccount, blob.Resource+"/.default")
	}()
	good := token(t, byAccount, blob.Resource+"/.default")
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	for _, tt := range []struct {
		name, token, detail string
	}{
		{"not a JWT", "not-a-token", "JWT is not well formed."},
		{"expired", expired, "Lifetime validation failed. The token is expired."},
		{"bad signature", tampered, "Signature validation failed. Signature is invalid."},
		{"ARM audience", token(t, byAccount, "https://management.azure.com/.default"), "Audience validation failed. Audience did not match."},
		{"another tenant", token(t, outsider, blob.Resource+"/.default"), "Issuer validation failed. Issuer did not match."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, http.MethodGet, serviceURL(account)+data+"?restype=container&comp=list", tt.token)
			want := "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Server failed to authenticate the request. Please refer to the information in the www-authenticate header.\nRequestId:"
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(body, want) ||
				!strings.HasSuffix(body, "</Message><AuthenticationErrorDetail>"+tt.detail+"</AuthenticationErrorDetail></Error>") {
				t.Errorf("%s\n%s", resp.Status, body)
			}
			challenge := "Bearer authorization_uri=https://login.microsoftonline.com/" + tenantID + "/oauth2/authorize resource_id=https://storage.azure.com"
			if got := resp.Header.Get("WWW-Authenticate"); got != challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, challenge)
			}
			if resp.Header.Get("x-ms-error-code") != "InvalidAuthenticationInfo" {
				t.Errorf("x-ms-error-code = %q", resp.Header.Get("x-ms-error-code"))
			}
		})
	}
}
