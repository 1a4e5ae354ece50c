package azuretest

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// IssuerKeyID is the kid of the key an Issuer signs with and publishes.
const IssuerKeyID = "issuer-key-1"

// Issuer is an external OIDC issuer over TLS, as a cluster's service-account issuer or GitHub
// Actions' token service is: it serves its discovery document and JWKS, and signs the tokens a
// workload presents for a federated credential. The local Entra ID trusts it when its CAPEM is in
// azurelocal.Options.IssuerCAs.
type Issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

// NewIssuer starts an issuer; Close stops it.
func NewIssuer() *Issuer {
	is := &Issuer{key: newKey()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL(), "jwks_uri": is.URL() + "/openid/v1/jwks"})
	})
	mux.HandleFunc("GET /openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JWKS{Keys: []jose.JWK{jose.RSAPublicJWK(&is.key.PublicKey, IssuerKeyID)}})
	})
	is.srv = httptest.NewTLSServer(mux)
	return is
}

// Close stops the issuer.
func (is *Issuer) Close() { is.srv.Close() }

// URL is the issuer's identifier, the iss of its tokens: https://127.0.0.1:PORT.
func (is *Issuer) URL() string { return is.srv.URL }

// CAPEM returns the certificate the issuer serves TLS with, in PEM, for clients to trust.
func (is *Issuer) CAPEM() []byte { return CertPEM(is.srv.Certificate()) }

// Claims returns the claims Token signs for a token issued at now: iss, sub, aud (a list of one),
// iat, nbf, exp an hour later, and jti. A test changes them to make a token Token would not.
func (is *Issuer) Claims(subject, audience string, now time.Time) map[string]any {
	return map[string]any{
		"iss": is.URL(), "sub": subject, "aud": []string{audience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j1",
	}
}

// Sign signs claims with the issuer's key, RS256 with IssuerKeyID as kid.
func (is *Issuer) Sign(claims map[string]any) string {
	s, err := jose.SignRS256(is.key, map[string]any{"kid": IssuerKeyID}, claims)
	if err != nil {
		panic(err)
	}
	return s
}

// Token signs a token for subject and audience, issued now and valid for an hour, as a
// projected service-account token is.
func (is *Issuer) Token(subject, audience string) string {
	return is.Sign(is.Claims(subject, audience, time.Now()))
}

// TokenFile writes Token(subject, audience) to a file of the test, as the token file of a pod
// (AZURE_FEDERATED_TOKEN_FILE), and returns its path.
func (is *Issuer) TokenFile(t testing.TB, subject, audience string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(path, []byte(is.Token(subject, audience)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
