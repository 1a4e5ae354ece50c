package entra

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// federatedAlgorithms are the signing algorithms accepted from external issuers.
var federatedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}

// checkFederatedAssertion matches an external token against the client's federated credentials
// (issuer, then subject, then audience, all exact), then verifies it with the issuer's published
// keys and checks its lifetime. Matching comes first because Entra only fetches keys from issuers
// the client trusts.
func (s *Server) checkFederatedAssertion(ctx context.Context, p directory.Principal, tok *jose.JWT) *aadError {
	iss, sub, auds := tok.String("iss"), tok.String("sub"), tok.Audiences()
	if iss == "" || sub == "" || len(auds) == 0 {
		return errMalformedJWT("The assertion must have 'iss', 'sub' and 'aud' claims.")
	}
	var byIssuer []directory.FederatedCredential
	for _, fc := range p.FederatedCredentials {
		if fc.Issuer == iss {
			byIssuer = append(byIssuer, fc)
		}
	}
	if len(byIssuer) == 0 {
		return errNoIssuerRecord(iss)
	}
	var bySubject []directory.FederatedCredential
	caseOnly := false
	for _, fc := range byIssuer {
		if fc.Subject == sub {
			bySubject = append(bySubject, fc)
		} else if strings.EqualFold(fc.Subject, sub) {
			caseOnly = true
		}
	}
	if len(bySubject) == 0 {
		return errNoSubjectRecord(sub, caseOnly)
	}
	if !slices.ContainsFunc(bySubject, func(fc directory.FederatedCredential) bool {
		return slices.ContainsFunc(fc.Audiences, func(a string) bool { return slices.Contains(auds, a) })
	}) {
		return errNoMatchingRecord(iss, sub, auds)
	}
	if !slices.Contains(federatedAlgorithms, tok.Header.Alg) {
		return errMalformedJWT("'" + tok.Header.Alg + "' is not a supported signature algorithm.")
	}
	if aerr := s.issuers.verify(ctx, iss, tok); aerr != nil {
		return aerr
	}
	exp, ok := tok.Time("exp")
	if !ok {
		return errMalformedJWT("The assertion has no 'exp' claim.")
	}
	nbf, hasNbf := tok.Time("nbf")
	if !hasNbf {
		nbf = time.Unix(0, 0)
	}
	now := s.now()
	if now.Add(-assertionSkew).After(exp) || now.Add(assertionSkew).Before(nbf) {
		return errAssertionTime(now, nbf, exp)
	}
	return nil
}

// issuerSet fetches and caches external issuers' keys over HTTPS.
type issuerSet struct {
	pendingCAs [][]byte     // from options, applied by init
	fixed      *http.Client // WithIssuerHTTPClient

	mu     sync.Mutex
	pool   *x509.CertPool
	client *http.Client
	cache  map[string]issuerKeys
}

type issuerKeys struct {
	keys    []jose.JWK
	fetched time.Time
}

// issuerKeysTTL is how long fetched keys are reused before the issuer is asked again; an unknown
// kid always triggers a new fetch, which picks up key rotation at once.
const issuerKeysTTL = 10 * time.Minute

func (is *issuerSet) init() error {
	is.cache = map[string]issuerKeys{}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	is.pool = pool
	for _, p := range is.pendingCAs {
		if !is.pool.AppendCertsFromPEM(p) {
			return errors.New("entra: an issuer CA holds no PEM certificate")
		}
	}
	is.client = is.newClient()
	return nil
}

func (is *issuerSet) newClient() *http.Client {
	if is.fixed != nil {
		return is.fixed
	}
	// Issuers are dialed as they are: the connect-to map is for the emulated Azure hosts, and an
	// issuer is a real server (a kube-apiserver on 127.0.0.1, a test OIDC provider).
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{RootCAs: is.pool, MinVersion: tls.VersionTLS12},
		},
	}
}

func (is *issuerSet) trust(pemCerts []byte) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	pool := is.pool.Clone()
	if !pool.AppendCertsFromPEM(pemCerts) {
		return errors.New("entra: the issuer CA holds no PEM certificate")
	}
	is.pool = pool
	is.client = is.newClient()
	return nil
}

// verify checks tok's signature with a key of issuer, fetching the keys when they are not cached
// or do not include the token's kid.
func (is *issuerSet) verify(ctx context.Context, issuer string, tok *jose.JWT) *aadError {
	is.mu.Lock()
	cached, ok := is.cache[issuer]
	client := is.client
	is.mu.Unlock()
	if !ok || time.Since(cached.fetched) > issuerKeysTTL || findKey(cached.keys, tok.Header.Kid) == nil {
		keys, err := fetchIssuerKeys(ctx, client, issuer)
		if err != nil {
			return errIssuerUnreachable(issuer, err)
		}
		cached = issuerKeys{keys: keys, fetched: time.Now()}
		is.mu.Lock()
		is.cache[issuer] = cached
		is.mu.Unlock()
	}
	candidates := cached.keys
	if tok.Header.Kid != "" {
		jwk := findKey(cached.keys, tok.Header.Kid)
		if jwk == nil {
			return errAssertionSignature("The key was not found.", tok.Header.Kid)
		}
		candidates = []jose.JWK{*jwk}
	}
	for _, jwk := range candidates {
		pub, err := jwk.PublicKey()
		if err != nil {
			continue
		}
		if tok.Verify(pub) == nil {
			return nil
		}
	}
	return errAssertionSignature("Key was found, but use of the key to verify the signature failed.", tok.Header.Kid)
}

func findKey(keys []jose.JWK, kid string) *jose.JWK {
	for i := range keys {
		if kid == "" || keys[i].Kid == kid {
			return &keys[i]
		}
	}
	return nil
}

// fetchIssuerKeys reads ISSUER/.well-known/openid-configuration, checks that it names the same
// issuer, and reads its jwks_uri.
func fetchIssuerKeys(ctx context.Context, client *http.Client, issuer string) ([]jose.JWK, error) {
	if !strings.HasPrefix(issuer, "https://") {
		return nil, errors.New("the issuer is not an https URL")
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, client, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, err
	}
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return nil, fmt.Errorf("the discovery document names issuer '%s'", doc.Issuer)
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") {
		return nil, fmt.Errorf("jwks_uri '%s' is not an https URL", doc.JWKSURI)
	}
	var set jose.JWKS
	if err := getJSON(ctx, client, doc.JWKSURI, &set); err != nil {
		return nil, err
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("the issuer publishes no keys")
	}
	return set.Keys, nil
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// kube-apiserver serves its JWKS as application/jwk-set+json and refuses a narrower Accept.
	req.Header.Set("Accept", "application/json, application/jwk-set+json, */*;q=0.8")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
