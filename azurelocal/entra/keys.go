package entra

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition (RFC 7517 §4.8).
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// Keys holds one RSA signing key per tenant, made when the tenant first needs one. Keys live in
// memory only: tokens issued before a restart no longer verify after it, which a client handles
// like a real key rollover. Keys is safe for concurrent use.
type Keys struct {
	mu       sync.Mutex
	byTenant map[string]*signingKey
}

type signingKey struct {
	key  *rsa.PrivateKey
	kid  string // base64url SHA-1 of the certificate, as Entra's kid and x5t
	cert []byte // self-signed certificate DER, published in x5c as Entra does
}

// NewKeys returns an empty key store.
func NewKeys() *Keys { return &Keys{byTenant: map[string]*signingKey{}} }

// forTenant returns the tenant's key, creating it on first use.
func (k *Keys) forTenant(tenantID string) (*signingKey, error) {
	id := strings.ToLower(tenantID)
	k.mu.Lock()
	defer k.mu.Unlock()
	if sk, ok := k.byTenant[id]; ok {
		return sk, nil
	}
	sk, err := newSigningKey(id)
	if err != nil {
		return nil, err
	}
	k.byTenant[id] = sk
	return sk, nil
}

// existing returns the tenant's key without creating one: verification must not mint keys.
func (k *Keys) existing(tenantID string) (*signingKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sk, ok := k.byTenant[strings.ToLower(tenantID)]
	return sk, ok
}

func newSigningKey(tenantID string) (*signingKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create signing certificate for tenant %s: %w", tenantID, err)
	}
	sum := sha1.Sum(der) //nolint:gosec // see import
	return &signingKey{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:]), cert: der}, nil
}

// JWKS returns the tenant's published keys, in the shape of Entra's discovery/v2.0/keys.
func (k *Keys) JWKS(tenantID, issuer string) (jose.JWKS, error) {
	sk, err := k.forTenant(tenantID)
	if err != nil {
		return jose.JWKS{}, err
	}
	jwk := jose.RSAPublicJWK(&sk.key.PublicKey, sk.kid)
	jwk.X5t = sk.kid
	jwk.X5c = []string{base64.StdEncoding.EncodeToString(sk.cert)}
	jwk.Issuer = issuer
	return jose.JWKS{Keys: []jose.JWK{jwk}}, nil
}
