package azurelocal_test

import (
	"crypto"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// httpClient is what every Azimuth client is: a transport with the connect-to map and the local
// CA, nothing else.
func httpClient(t *testing.T, a *azurelocal.Azure) *http.Client {
	t.Helper()
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transport.New(&transport.Options{ConnectTo: rules, RootCAs: a.CAPool()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func clientOptions(t *testing.T, a *azurelocal.Azure) azcore.ClientOptions {
	return azcore.ClientOptions{Transport: httpClient(t, a)}
}

// loadPKCS12 reads testdata/app.pfx, a password-protected PKCS#12, the way a user's
// AZURE_CLIENT_CERTIFICATE_PATH is read.
func loadPKCS12(t *testing.T) ([]*x509.Certificate, crypto.PrivateKey) {
	t.Helper()
	data, err := os.ReadFile("testdata/app.pfx")
	if err != nil {
		t.Fatal(err)
	}
	certs, key, err := azidentity.ParseCertificates(data, []byte("azimuth-test"))
	if err != nil {
		t.Fatal(err)
	}
	return certs, key
}
