package arm

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// clockSkew is what the token validator allows for clocks that disagree, as Entra's Verifier.
const clockSkew = 5 * time.Minute

// caller is who sent a request, once the token checked out.
type caller struct {
	objectID, appID, tenantID, issuer string
}

// authenticate checks the Bearer token of a request as ARM does: present, readable and signed by
// its tenant's key (Entra's Verifier), within its lifetime, and for ARM's audience. Whether the
// tenant is the subscription's is checked once the path names one (prepare).
func (s *Server) authenticate(r *http.Request) (caller, *armError) {
	header := strings.TrimSpace(r.Header.Get("Authorization"))
	if header == "" {
		return caller{}, errMissingHeader()
	}
	scheme, token, _ := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return caller{}, errHeaderFormat()
	}
	t, err := jose.Parse(token)
	if err != nil {
		return caller{}, errInvalidToken()
	}
	aud := t.String("aud")
	// The audience is ARM's own check, with its own message, so the Verifier is asked about
	// everything else: the token's audience is the one it is checked against.
	claims, err := s.verifier.Verify(token, aud)
	if err != nil {
		return caller{}, s.classify(t)
	}
	if !slices.ContainsFunc(audiences, func(a string) bool { return strings.EqualFold(a, aud) }) {
		return caller{}, errAudience(aud)
	}
	return caller{
		objectID: strings.ToLower(claims.ObjectID), appID: claims.AppID,
		tenantID: claims.TenantID, issuer: claims.Issuer,
	}, nil
}

// classify explains a token the Verifier refused: expired, or else invalid (a bad signature, a
// tenant the directory does not know, a malformed claim).
func (s *Server) classify(t *jose.JWT) *armError {
	now := s.now().UTC()
	if exp, ok := t.Time("exp"); ok && now.Add(-clockSkew).After(exp) {
		const layout = "1/2/2006 3:04:05 PM"
		return errExpiredToken(exp.UTC().Format(layout), now.Format(layout))
	}
	return errInvalidToken()
}
