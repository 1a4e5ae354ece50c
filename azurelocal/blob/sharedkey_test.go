package blob_test

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// TestSharedKey: with either of the account's keys the SDK creates a container, uploads, lists and
// downloads through the gateway, whose host-style URLs Azurite checks the signatures of; a wrong
// key is refused as Azure refuses it (Azurite's 400 InvalidAuthenticationInfo is translated).
func TestSharedKey(t *testing.T) {
	var made []string
	for i, key := range []string{key1, key2} {
		c := sharedKeyClient(t, account, key)
		name := unique("shared-key")
		made = append(made, name)
		if _, err := c.CreateContainer(t.Context(), name, nil); err != nil {
			t.Fatalf("key%d: create container: %v", i+1, err)
		}
		content := "written with key" + string(rune('1'+i))
		// A name with characters that URLs escape, to check that the signed path survives.
		blobName := "a dir/ü+%x.txt"
		if _, err := c.UploadBuffer(t.Context(), name, blobName, []byte(content), nil); err != nil {
			t.Fatalf("key%d: upload: %v", i+1, err)
		}
		page, err := c.NewListBlobsFlatPager(name, nil).NextPage(t.Context())
		if err != nil || len(page.Segment.BlobItems) != 1 || *page.Segment.BlobItems[0].Name != blobName {
			t.Fatalf("key%d: list = %+v, %v", i+1, page.Segment, err)
		}
		if got, err := download(t, c, name, blobName); err != nil || got != content {
			t.Fatalf("key%d: download = %q, %v", i+1, got, err)
		}
	}
	containers, err := sharedKeyClient(t, account, key1).NewListContainersPager(nil).NextPage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range containers.ContainerItems {
		names = append(names, *c.Name)
	}
	for _, want := range append(made, data) {
		if !slices.Contains(names, want) {
			t.Errorf("list containers = %v, want %s among them", names, want)
		}
	}
	// Host names ignore case, as DNS does; Azurite's account names would not.
	cred, err := azblob.NewSharedKeyCredential(account, key1)
	if err != nil {
		t.Fatal(err)
	}
	upper, err := azblob.NewClientWithSharedKeyCredential(strings.ToUpper(serviceURL(account)), cred, clientOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := download(t, upper, data, helloBlob); err != nil || got != hello {
		t.Errorf("through %s: %q, %v", strings.ToUpper(serviceURL(account)), got, err)
	}
	_, err = sharedKeyClient(t, account, directory.DerivedStorageKey(account)).NewListContainersPager(nil).NextPage(t.Context())
	if !bloberror.HasCode(err, bloberror.AuthenticationFailed) || status(t, err) != http.StatusForbidden ||
		!strings.Contains(err.Error(), "<AuthenticationErrorDetail>The MAC signature found in the HTTP request is not the same as any computed signature.</AuthenticationErrorDetail>") {
		t.Errorf("a wrong key: %v, want 403 AuthenticationFailed", err)
	}
}

// TestDerivedKey: an account that declares no key is served with the derived one.
func TestDerivedKey(t *testing.T) {
	c := sharedKeyClient(t, other, directory.DerivedStorageKey(other))
	name := unique("derived")
	if _, err := c.CreateContainer(t.Context(), name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadBuffer(t.Context(), name, "x", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	// The other account's key does not open this one.
	_, err := sharedKeyClient(t, account, directory.DerivedStorageKey(other)).NewListBlobsFlatPager(data, nil).NextPage(t.Context())
	if !bloberror.HasCode(err, bloberror.AuthenticationFailed) {
		t.Errorf("another account's key: %v", err)
	}
}

// TestSAS: a service SAS for a blob downloads it, one for the container lists it, an account
// SAS lists the containers; a SAS read-only for a write, signed with another key or expired is
// refused by Azurite, with Azure's codes.
func TestSAS(t *testing.T) {
	cred, err := azblob.NewSharedKeyCredential(account, key2)
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().Add(time.Hour)
	blobSAS, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: expiry, ContainerName: data, BlobName: helloBlob,
		Permissions: (&sas.BlobPermissions{Read: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	blobURL := serviceURL(account) + data + "/" + helloBlob + "?" + blobSAS.Encode()
	resp, body := send(t, http.MethodGet, blobURL, "")
	if resp.StatusCode != http.StatusOK || body != hello {
		t.Fatalf("download with a blob SAS: %s %q", resp.Status, body)
	}

	containerSAS, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: expiry, ContainerName: data,
		Permissions: (&sas.ContainerPermissions{Read: true, List: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := container.NewClientWithNoCredential(serviceURL(account)+data+"?"+containerSAS.Encode(), &container.ClientOptions{ClientOptions: clientOptions("").ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	page, err := cc.NewListBlobsFlatPager(nil).NextPage(t.Context())
	if err != nil || len(page.Segment.BlobItems) == 0 {
		t.Fatalf("list with a container SAS: %+v, %v", page.Segment, err)
	}
	_, err = cc.NewBlockBlobClient("sas-write").UploadBuffer(t.Context(), []byte("x"), nil)
	if !bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch) {
		t.Errorf("a read-only SAS writing: %v, want AuthorizationPermissionMismatch", err)
	}

	accountSAS, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: expiry,
		Permissions:   (&sas.AccountPermissions{Read: true, List: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Service: true, Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := azblob.NewClientWithNoCredential(serviceURL(account)+"?"+accountSAS.Encode(), clientOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.NewListContainersPager(nil).NextPage(t.Context()); err != nil {
		t.Errorf("list containers with an account SAS: %v", err)
	}

	forged, err := azblob.NewSharedKeyCredential(account, directory.DerivedStorageKey(account))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPS, ExpiryTime: expiry, ContainerName: data, BlobName: helloBlob,
		Permissions: (&sas.BlobPermissions{Read: true}).String(),
	}.SignWithSharedKey(forged)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPS, StartTime: time.Now().Add(-2 * time.Hour), ExpiryTime: time.Now().Add(-time.Hour),
		ContainerName: data, BlobName: helloBlob, Permissions: (&sas.BlobPermissions{Read: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	for what, q := range map[string]sas.QueryParameters{"signed with another key": bad, "expired": expired} {
		resp, body := send(t, http.MethodGet, serviceURL(account)+data+"/"+helloBlob+"?"+q.Encode(), "")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-ms-error-code") != string(bloberror.AuthenticationFailed) ||
			!strings.HasPrefix(body, `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.`+"\nRequestId:"+resp.Header.Get("x-ms-request-id")) {
			t.Errorf("a SAS %s: %s %s\n%s", what, resp.Status, resp.Header.Get("x-ms-error-code"), body)
		}
	}
}

// TestDeclaredContainers: the directory's containers exist when Start returns, private: an
// anonymous request cannot list them.
func TestDeclaredContainers(t *testing.T) {
	if _, err := sharedKeyClient(t, account, key1).ServiceClient().NewContainerClient(data).GetProperties(t.Context(), nil); err != nil {
		t.Fatalf("the declared container: %v", err)
	}
	resp, _ := send(t, http.MethodGet, serviceURL(account)+data+"?restype=container&comp=list", "")
	if resp.StatusCode < 400 {
		t.Errorf("an anonymous list of a private container: %s", resp.Status)
	}
}

// TestUnknownAccount: an account the directory does not declare is 404 ResourceNotFound, with
// what to declare.
func TestUnknownAccount(t *testing.T) {
	resp, body := send(t, http.MethodGet, serviceURL("nosuchaccount")+"?comp=list", "")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-ms-error-code") != blob.CodeResourceNotFound ||
		!strings.Contains(body, "No storage account 'nosuchaccount' is declared in the local Azure's directory (resources.storageAccounts)") {
		t.Errorf("unknown account: %s %s %s", resp.Status, resp.Header.Get("x-ms-error-code"), body)
	}
}

// TestPersistence: with a location, Azurite keeps blobs across a restart; Stop leaves no process
// behind.
func TestPersistence(t *testing.T) {
	location := t.TempDir()
	a := local.azure
	start := func() *blob.Azurite {
		t.Helper()
		az, err := blob.StartAzurite(t.Context(), &blob.AzuriteOptions{
			Accounts: a.Directory().StorageAccounts(), Location: location, RootCAs: a.CAPool(),
			CertFile: filepath.Join(a.StateDir(), azurelocal.TLSCertFile), KeyFile: filepath.Join(a.StateDir(), azurelocal.TLSKeyFile),
		})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := blob.New(a.Directory(), a.Entra().Verifier(), az, blob.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Register("*"+blob.Suffix, srv); err != nil {
			t.Fatal(err)
		}
		return az
	}
	t.Cleanup(func() { a.Register("*"+blob.Suffix, local.blob) })
	first := start()
	c := sharedKeyClient(t, account, key1)
	if _, err := c.UploadBuffer(t.Context(), data, "kept.txt", []byte("kept"), nil); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if left := processesUsing(t, location); len(left) > 0 {
		t.Fatalf("Azurite left running after Stop:\n%s", strings.Join(left, "\n"))
	}
	// Its server has no one to forward to now.
	resp, body := send(t, http.MethodGet, serviceURL(account)+"?comp=list", "")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("x-ms-error-code") != blob.CodeInternalError || !strings.Contains(body, "The local Blob service (Azurite) did not answer") {
		t.Errorf("Azurite stopped: %s %s", resp.Status, body)
	}
	second := start()
	defer second.Stop()
	if got, err := download(t, c, data, "kept.txt"); err != nil || got != "kept" {
		t.Errorf("after a restart: %q, %v", got, err)
	}
}

// processesUsing lists the running processes, other than this one, whose command line names dir.
func processesUsing(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for processes: %v", err)
	}
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		if cmd := strings.ReplaceAll(string(cmdline), "\x00", " "); strings.Contains(cmd, dir) {
			found = append(found, e.Name()+": "+cmd)
		}
	}
	return found
}
