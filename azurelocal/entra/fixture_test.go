package entra_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
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

// jwtBearer is the client_assertion_type of a client assertion.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// newClock returns the fixture's clock, standing at a fixed time.
func newClock() *azuretest.Clock {
	return azuretest.NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
}

// fixture is a server over a directory with every kind of client.
type fixture struct {
	srv      *entra.Server
	dir      *directory.Directory
	clock    *azuretest.Clock
	issuer   *azuretest.Issuer
	cert     azuretest.KeyPair // registered on certApp
	sniCA    azuretest.KeyPair
	sniLeaf  azuretest.KeyPair // registered on sniApp
	sniOther azuretest.KeyPair // same subject and issuer as sniLeaf, not registered
	records  chan entra.Record
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), issuer: azuretest.NewIssuer(), records: make(chan entra.Record, 100)}
	t.Cleanup(f.issuer.Close)
	f.cert = azuretest.NewKeyPair("cert-app", nil)
	f.sniCA = azuretest.NewKeyPair("test-ca", nil)
	f.sniLeaf = azuretest.NewKeyPair("sni-app", &f.sniCA)
	f.sniOther = azuretest.NewKeyPair("sni-app", &f.sniCA)
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
    certificates: [{name: c, pem: "` + azuretest.OneLine(f.cert.CertPEM()) + `"}]
  - name: sni-app
    tenant: ` + tenantID + `
    clientId: ` + sniApp + `
    principalId: 94ce99f1-bcd9-44e3-bfa7-9456b532f506
    allowSubjectNameIssuer: true
    certificates: [{name: c, pem: "` + azuretest.OneLine(f.sniLeaf.CertPEM()) + `"}]
  - name: fed-app
    tenant: ` + tenantID + `
    clientId: ` + fedApp + `
    principalId: 4817e33f-6b74-4c56-b006-d543ddff26f0
    federatedCredentials:
      - {name: fc, issuer: "` + f.issuer.URL() + `", subject: "` + subject + `"}
managedIdentities:
  - name: mi
    subscription: ` + subID + `
    resourceGroup: rg
    clientId: ` + miClient + `
    principalId: ` + miOID + `
    federatedCredentials:
      - {name: other, issuer: "https://other.example", subject: "x"}
      - {name: kube, issuer: "` + f.issuer.URL() + `", subject: "` + subject + `", audiences: [api://custom]}
`
	var err error
	if f.dir, err = directory.Parse([]byte(yaml)); err != nil {
		t.Fatal(err)
	}
	f.srv, err = entra.New(f.dir, entra.WithClock(f.clock.Now), entra.WithIssuerCAs(f.issuer.CAPEM()),
		entra.WithObserver(func(r entra.Record) { f.records <- r }))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// token signs a service-account-like token of the fixture's issuer, issued at now for subject
// with the default federated audience; claims override those, and nil values delete them.
func (f *fixture) token(now time.Time, claims map[string]any) string {
	c := f.issuer.Claims(subject, directory.DefaultFederatedAudience, now)
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return f.issuer.Sign(c)
}

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

func (f *fixture) certAssertion(t *testing.T, kp azuretest.KeyPair, clientID string, a assertion) string {
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
		sum := sha256.Sum256(kp.Cert.Raw)
		header["x5t#S256"] = base64.StdEncoding.EncodeToString(sum[:])
	case "x5t":
		header["x5t"] = thumbprintSHA1(kp.Cert)
	}
	for _, c := range a.x5c {
		header["x5c"] = append(asStrings(header["x5c"]), base64.StdEncoding.EncodeToString(c.Raw))
	}
	return signJWT(t, alg, kp.Key, header, claims)
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
