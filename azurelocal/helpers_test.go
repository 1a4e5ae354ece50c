package azurelocal_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// start runs a local Azure for the test and stops it afterwards.
func start(t *testing.T, opts *azurelocal.Options) *azurelocal.Azure {
	t.Helper()
	o := azurelocal.Options{StateDir: t.TempDir()}
	if opts != nil {
		o = *opts
		if o.StateDir == "" {
			o.StateDir = t.TempDir()
		}
	}
	a, err := azurelocal.Start(t.Context(), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	return a
}

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

// keyPair is an RSA key with a certificate.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func (k keyPair) certPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw}))
}

// newKeyPair makes a certificate for cn, signed by parent or self-signed.
func newKeyPair(t *testing.T, cn string, parent *keyPair) keyPair {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		BasicConstraintsValid: true, IsCA: parent == nil,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{key: key, cert: cert}
}

// oidcIssuer is an external identity provider over TLS, as GitHub Actions or a cluster's
// service-account issuer is.
type oidcIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &oidcIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/keys"})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JWKS{Keys: []jose.JWK{jose.RSAPublicJWK(&key.PublicKey, "k1")}})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *oidcIssuer) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.srv.Certificate().Raw})
}

// token returns a signed token for subject with the workload identity audience.
func (is *oidcIssuer) token(t *testing.T, subject string) string {
	t.Helper()
	now := time.Now()
	s, err := jose.SignRS256(is.key, map[string]any{"kid": "k1"}, map[string]any{
		"iss": is.srv.URL, "sub": subject, "aud": []string{"api://AzureADTokenExchange"},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

type x509Certificate = x509.Certificate

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

func pemOf(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
