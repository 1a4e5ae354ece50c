package blob

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

func TestClassify(t *testing.T) {
	const account = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a"
	tests := []struct {
		method, path, query string
		name, action        string
		data                bool
		container, blob     string
		resource            string
	}{
		{"GET", "/", "comp=list", "ListContainers", rbac.ActionBlobContainerRead, false, "", "", account},
		{"GET", "", "restype=service&comp=properties", "GetBlobServiceProperties", rbac.ActionBlobServiceRead, false, "", "", account},
		{"POST", "/", "restype=service&comp=userdelegationkey", "GetUserDelegationKey", rbac.ActionBlobDelegationKey, false, "", "", account},
		{"HEAD", "/", "restype=account&comp=properties", "GetAccountInformation", rbac.DataActionBlobRead, true, "", "", account},
		{"PUT", "/c1", "restype=container", "CreateContainer", rbac.ActionBlobContainerWrite, false, "c1", "", account + "/blobServices/default/containers/c1"},
		{"HEAD", "/c1", "restype=container", "GetContainerProperties", rbac.ActionBlobContainerRead, false, "c1", "", account + "/blobServices/default/containers/c1"},
		{"DELETE", "/c1", "restype=container", "DeleteContainer", rbac.ActionBlobContainerDelete, false, "c1", "", account + "/blobServices/default/containers/c1"},
		{"GET", "/c1", "restype=container&comp=list&prefix=a", "ListBlobs", rbac.DataActionBlobRead, true, "c1", "", account + "/blobServices/default/containers/c1"},
		{"GET", "/c1", "RESTYPE=x&restype=Container&comp=LIST", "ListBlobs", rbac.DataActionBlobRead, true, "c1", "", account + "/blobServices/default/containers/c1"},
		{"GET", "/c1/dir/a.txt", "", "GetBlob", rbac.DataActionBlobRead, true, "c1", "dir/a.txt", account + "/blobServices/default/containers/c1"},
		{"HEAD", "/c1/a", "", "GetBlobProperties", rbac.DataActionBlobRead, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"PUT", "/c1/a", "", "PutBlob", rbac.DataActionBlobWrite, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"PUT", "/c1/a", "comp=block&blockid=x", "PutBlock", rbac.DataActionBlobWrite, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"DELETE", "/c1/a", "", "DeleteBlob", rbac.DataActionBlobDelete, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"DELETE", "/c1/a", "versionid=2024-01-01T00:00:00.0000000Z", "DeleteBlobVersion", rbac.DataActionBlobDeleteVersion, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"GET", "/c1/a", "comp=tags", "GetBlobTags", rbac.DataActionBlobTagsRead, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"GET", "/", "comp=blobs&where=x", "FindBlobsByTags", rbac.DataActionBlobFilter, true, "", "", account},
		// What the table does not know is judged by its method.
		{"PUT", "/c1/a", "comp=legalhold", "", rbac.DataActionBlobWrite, true, "c1", "a", account + "/blobServices/default/containers/c1"},
		{"GET", "/c1", "", "", rbac.DataActionBlobRead, true, "c1", "", account + "/blobServices/default/containers/c1"},
		{"DELETE", "/", "", "", rbac.DataActionBlobDelete, true, "", "", account},
		{"PATCH", "/c1/a", "", "", rbac.DataActionBlobWrite, true, "c1", "a", account + "/blobServices/default/containers/c1"},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		r := classify(tt.method, tt.path, q)
		if r.Op.Name != tt.name || r.Op.Action != tt.action || r.Op.Data != tt.data || r.Container != tt.container || r.Blob != tt.blob || r.resourceID(account) != tt.resource {
			t.Errorf("%s %s?%s = %+v at %s", tt.method, tt.path, tt.query, r, r.resourceID(account))
		}
	}
}

// TestAuthKind: the scheme of Authorization decides, then a SAS signature in the query.
func TestAuthKind(t *testing.T) {
	for _, tt := range []struct{ auth, query, want string }{
		{"Bearer x", "sig=y", AuthBearer},
		{"bearer x", "", AuthBearer},
		{"SharedKey a:b", "", AuthSharedKey},
		{"SharedKeyLite a:b", "", AuthSharedKey},
		{"", "sv=1&sig=y", AuthSAS},
		{"", "comp=list", AuthAnonymous},
	} {
		r, _ := http.NewRequest(http.MethodGet, "https://a.blob.core.windows.net/c?"+tt.query, nil)
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		if got := authKind(r); got != tt.want {
			t.Errorf("authKind(%q, %q) = %s, want %s", tt.auth, tt.query, got, tt.want)
		}
	}
}

// FuzzClassify: any URL of a request classifies to an operation with an action, and a resource
// under the account.
func FuzzClassify(f *testing.F) {
	f.Add("GET", "/c/b", "restype=container&comp=list")
	f.Add("DELETE", "//", "versionid=x")
	f.Fuzz(func(t *testing.T, method, path, query string) {
		q, _ := url.ParseQuery(query)
		r := classify(method, path, q)
		if r.Op.Action == "" {
			t.Fatalf("no action for %s %s?%s", method, path, query)
		}
		if id := r.resourceID("/acct"); len(id) < len("/acct") || id[:5] != "/acct" {
			t.Fatalf("resource %s is not under the account", id)
		}
	})
}
