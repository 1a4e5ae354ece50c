package entra

import (
	"fmt"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// Claims are the facts a service emulator needs from a verified access token.
type Claims struct {
	TenantID string
	// ObjectID is the principal's object ID (oid): what role assignments name.
	ObjectID string
	// AppID is the client ID (appid).
	AppID    string
	Audience string
	Issuer   string
	// ResourceID is the managed identity's ARM ID (xms_mirid); empty for applications.
	ResourceID string
	IssuedAt   time.Time
	NotBefore  time.Time
	ExpiresAt  time.Time
}

// VerifyError says why a token was refused, in words fit for a service's 401 body. It never
// includes the token.
type VerifyError struct{ Reason string }

func (e *VerifyError) Error() string { return "invalid access token: " + e.Reason }

// Verifier checks access tokens issued by a Server. It is what the local ACR, Key Vault, Blob and
// Event Hubs emulators use before they ask the directory whether the principal may act.
type Verifier struct {
	keys *Keys
	now  func() time.Time
	skew time.Duration
}

// Verifier returns a verifier for this server's tokens.
func (s *Server) Verifier() *Verifier {
	return &Verifier{keys: s.keys, now: s.now, skew: 5 * time.Minute}
}

// Verify checks a bearer token's signature (the issuing tenant's key), issuer (the tenant's v1 or
// v2 issuer), audience (one of audiences; a trailing slash is ignored, as Azure services do) and
// lifetime (with five minutes of clock skew), and returns its claims.
func (v *Verifier) Verify(token string, audiences ...string) (*Claims, error) {
	if len(audiences) == 0 {
		return nil, &VerifyError{"no audience to verify against"}
	}
	t, err := jose.Parse(token)
	if err != nil {
		return nil, &VerifyError{"malformed token: " + err.Error()}
	}
	if t.Header.Alg != "RS256" {
		return nil, &VerifyError{fmt.Sprintf("unexpected signing algorithm %q", t.Header.Alg)}
	}
	c := &Claims{
		TenantID: t.String("tid"), ObjectID: t.String("oid"), AppID: t.String("appid"),
		Audience: t.String("aud"), Issuer: t.String("iss"), ResourceID: t.String("xms_mirid"),
	}
	sk, ok := v.keys.existing(c.TenantID)
	if !ok || sk.kid != t.Header.Kid {
		return nil, &VerifyError{fmt.Sprintf("token is not signed by a key of tenant '%s'", c.TenantID)}
	}
	if err := t.Verify(&sk.key.PublicKey); err != nil {
		return nil, &VerifyError{"signature verification failed"}
	}
	if !validIssuer(c.Issuer, c.TenantID) {
		return nil, &VerifyError{fmt.Sprintf("issuer '%s' is not tenant '%s'", c.Issuer, c.TenantID)}
	}
	if !audienceIn(c.Audience, audiences) {
		return nil, &VerifyError{fmt.Sprintf("audience '%s' is not one of %s", c.Audience, strings.Join(audiences, ", "))}
	}
	var okIat, okNbf, okExp bool
	c.IssuedAt, okIat = t.Time("iat")
	c.NotBefore, okNbf = t.Time("nbf")
	c.ExpiresAt, okExp = t.Time("exp")
	now := v.now()
	switch {
	case !okIat || !okNbf || !okExp:
		return nil, &VerifyError{"token lacks iat, nbf or exp"}
	case now.Add(v.skew).Before(c.NotBefore):
		return nil, &VerifyError{"token is not valid yet (nbf " + c.NotBefore.Format(time.RFC3339) + ")"}
	case now.Add(-v.skew).After(c.ExpiresAt):
		return nil, &VerifyError{"token expired at " + c.ExpiresAt.Format(time.RFC3339)}
	}
	return c, nil
}

func validIssuer(iss, tenantID string) bool {
	for _, prefix := range []string{"https://sts.windows.net/", "https://sts.chinacloudapi.cn/"} {
		if strings.EqualFold(iss, prefix+tenantID+"/") {
			return true
		}
	}
	for _, host := range loginHosts {
		if strings.EqualFold(iss, "https://"+host+"/"+tenantID+"/v2.0") {
			return true
		}
	}
	return false
}

func audienceIn(aud string, accepted []string) bool {
	for _, a := range accepted {
		if strings.EqualFold(strings.TrimSuffix(aud, "/"), strings.TrimSuffix(a, "/")) {
			return true
		}
	}
	return false
}
