package entra

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

const (
	tenantID     = "2e811126-9388-40f9-a8e4-23ac7e094717"
	usTenantID   = "5c623168-5a88-42ab-9624-1c47085d9955"
	subID        = "9500bbc1-08e9-41a1-a586-73f24f82e037"
	secretApp    = "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3"
	secretAppOID = "7fe9af53-4867-4663-8d8f-2658b2f2e315"
	certApp      = "882490b3-f041-438e-882e-d0b337dbb4da"
	sniApp       = "84f5e3bb-b7a3-4cae-a628-ee7df644eb94"
	fedApp       = "d8724f8e-18d7-4ae9-b787-0de3d2cb3f2f"
	miClient     = "213d8012-7eed-4f6d-a0db-54570c6d6f89"
	miOID        = "4249e19b-811e-4ad5-800e-2ec239154393"
	theSecret    = "s3cret-value"
	subject      = "system:serviceaccount:flux-system:source-controller"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// keyPair is an RSA key and a certificate for it.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func (k keyPair) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw}))
}

// newKeyPair makes a certificate with subject cn, signed by parent (self-signed when nil).
func newKeyPair(t testing.TB, cn string, parent *keyPair) keyPair {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(5, 0, 0),
		BasicConstraintsValid: true, IsCA: parent == nil, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return keyPair{key: key, cert: cert}
}

// issuer is an OIDC provider over TLS, like a kube-apiserver or GitHub's token service.
type issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
	kid string
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, kid: "issuer-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.url(), "jwks_uri": is.url() + "/openid/v1/jwks"})
	})
	mux.HandleFunc("/openid/v1/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JWKS{Keys: []jose.JWK{jose.RSAPublicJWK(&key.PublicKey, is.kid)}})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) url() string { return is.srv.URL }

func (is *issuer) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.srv.Certificate().Raw})
}

// token signs a service-account-like token; claims override the defaults.
func (is *issuer) token(t *testing.T, now time.Time, claims map[string]any) string {
	t.Helper()
	c := map[string]any{
		"iss": is.url(), "sub": subject, "aud": []string{directory.DefaultFederatedAudience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j1",
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	s, err := jose.SignRS256(is.key, map[string]any{"kid": is.kid}, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a server over a directory with every kind of client.
type fixture struct {
	srv      *Server
	clock    *clock
	issuer   *issuer
	cert     keyPair // registered on certApp
	sniCA    keyPair
	sniLeaf  keyPair // registered on sniApp
	sniOther keyPair // same subject and issuer as sniLeaf, not registered
	records  chan Record
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), issuer: newIssuer(t), records: make(chan Record, 100)}
	f.cert = newKeyPair(t, "cert-app", nil)
	f.sniCA = newKeyPair(t, "test-ca", nil)
	f.sniLeaf = newKeyPair(t, "sni-app", &f.sniCA)
	f.sniOther = newKeyPair(t, "sni-app", &f.sniCA)
	yaml := `
tenants:
  - {id: ` + tenantID + `, name: Test Directory, domains: [contoso.onmicrosoft.com]}
  - {id: ` + usTenantID + `, cloud: AzureUSGovernment}
subscriptions:
  - {id: ` + subID + `, tenant: ` + tenantID + `}
applications:
  - name: secret-app
    tenant: ` + tenantID + `
    clientId: ` + secretApp + `
    principalId: ` + secretAppOID + `
    clientSecrets: [{value: ` + theSecret + `}]
  - name: cert-app
    tenant: ` + tenantID + `
    clientId: ` + certApp + `
    principalId: a49b25b5-7f74-44f9-95d8-414d037683ba
    certificates: [{name: c, pem: "` + oneLine(f.cert.pem()) + `"}]
  - name: sni-app
    tenant: ` + tenantID + `
    clientId: ` + sniApp + `
    principalId: 94ce99f1-bcd9-44e3-bfa7-9456b532f506
    allowSubjectNameIssuer: true
    certificates: [{name: c, pem: "` + oneLine(f.sniLeaf.pem()) + `"}]
  - name: fed-app
    tenant: ` + tenantID + `
    clientId: ` + fedApp + `
    principalId: 4817e33f-6b74-4c56-b006-d543ddff26f0
    federatedCredentials:
      - {name: fc, issuer: "` + f.issuer.url() + `", subject: "` + subject + `"}
managedIdentities:
  - name: mi
    subscription: ` + subID + `
    resourceGroup: rg
    clientId: ` + miClient + `
    principalId: ` + miOID + `
    federatedCredentials:
      - {name: other, issuer: "https://other.example", subject: "x"}
      - {name: kube, issuer: "` + f.issuer.url() + `", subject: "` + subject + `", audiences: [api://custom]}
`
	dir, err := directory.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = New(dir, WithClock(f.clock.Now), WithIssuerCAs(f.issuer.caPEM()),
		WithObserver(func(r Record) { f.records <- r }))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func oneLine(pemText string) string { return strings.ReplaceAll(pemText, "\n", `\n`) }

// response is a decoded token endpoint answer.
type response struct {
	Status      int
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	Correlation string `json:"correlation_id"`
}

func (f *fixture) post(t *testing.T, host, tenant string, form url.Values) response {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://"+host+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("client-request-id", "corr-1")
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	var resp response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode %d %s: %v", w.Code, w.Body.String(), err)
	}
	resp.Status = w.Code
	return resp
}

func (f *fixture) get(t *testing.T, rawURL string) (int, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, rawURL, nil))
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body
}

func form(kv ...string) url.Values {
	v := url.Values{"grant_type": {"client_credentials"}, "scope": {"https://management.azure.com/.default openid offline_access profile"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// assertion describes a certificate client assertion to build.
type assertion struct {
	alg        string // PS256 (default) or RS256
	thumbprint string // "x5t#S256" (default), "x5t" or "none"
	x5c        []*x509.Certificate
	claims     map[string]any // overrides; nil values delete
}

func (f *fixture) certAssertion(t *testing.T, kp keyPair, clientID string, a assertion) string {
	t.Helper()
	now := f.clock.Now()
	claims := map[string]any{
		"aud": "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token",
		"iss": clientID, "sub": clientID, "jti": "jti-1",
		"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	for k, v := range a.claims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	alg := a.alg
	if alg == "" {
		alg = "PS256"
	}
	header := map[string]any{"alg": alg, "typ": "JWT"}
	switch a.thumbprint {
	case "", "x5t#S256":
		sum := sha256.Sum256(kp.cert.Raw)
		header["x5t#S256"] = base64.StdEncoding.EncodeToString(sum[:])
	case "x5t":
		header["x5t"] = thumbprintSHA1(kp.cert)
	}
	for _, c := range a.x5c {
		header["x5c"] = append(asStrings(header["x5c"]), base64.StdEncoding.EncodeToString(c.Raw))
	}
	return signJWT(t, alg, kp.key, header, claims)
}

func asStrings(v any) []string { s, _ := v.([]string); return s }

func thumbprintSHA1(c *x509.Certificate) string {
	sum := sha1Sum(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum)
}

func signJWT(t *testing.T, alg string, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	if alg == "PS256" {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func assertionForm(clientID, jwt string) url.Values {
	return form("client_id", clientID, "client_assertion_type", jwtBearer, "client_assertion", jwt)
}

func sha1Sum(b []byte) []byte { s := sha1.Sum(b); return s[:] }
