package blob

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// clockSkew is what the token validator allows for clocks that disagree, as Entra's Verifier.
const clockSkew = 5 * time.Minute

// loginHosts are the authorities a challenge names, by the cloud of the account's tenant.
var loginHosts = map[string]string{
	directory.CloudPublic:       "login.microsoftonline.com",
	directory.CloudUSGovernment: "login.microsoftonline.us",
	directory.CloudChina:        "login.chinacloudapi.cn",
}

// caller is who sent a request, once the token checked out.
type caller struct{ objectID string }

// challenge is the WWW-Authenticate header of every 401: where to get a token (the account's
// tenant) and for which resource. azblob's challenge policy asks for a token for resource_id.
func (s *Server) challenge(a account) string {
	return fmt.Sprintf("Bearer authorization_uri=https://%s/%s/oauth2/authorize resource_id=%s", s.loginHost(a.tenant), a.tenant, Resource)
}

func (s *Server) loginHost(tenant string) string {
	t, _ := s.dir.Tenant(tenant)
	if h, ok := loginHosts[t.Cloud]; ok {
		return h
	}
	return loginHosts[directory.CloudPublic]
}

// authenticate checks the Bearer token of a request as Azure Storage does: readable and signed by
// its tenant's key (Entra's Verifier), of a valid issuer, within its lifetime, for Azure
// Storage's audience (or this account's own), and issued by the account's tenant.
func (s *Server) authenticate(r *http.Request, a account) (caller, *storageError) {
	_, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	t, err := jose.Parse(token)
	if err != nil {
		return caller{}, unauthenticated(detailMalformed)
	}
	aud := t.String("aud")
	// The audience is Azure Storage's own check, with its own detail, so the Verifier is asked
	// about everything else: the token's audience is the one it is checked against.
	claims, err := s.verifier.Verify(token, aud)
	if err != nil {
		return caller{}, s.classify(t)
	}
	if !audienceFor(aud, a.name) {
		return caller{}, unauthenticated(detailAudience)
	}
	if !strings.EqualFold(claims.TenantID, a.tenant) {
		return caller{}, unauthenticated(detailIssuer)
	}
	return caller{objectID: strings.ToLower(claims.ObjectID)}, nil
}

// audienceFor reports whether aud is an audience of the account's Blob service: Azure Storage's
// resource or application ID, or the account's own URL. A trailing slash is ignored.
func audienceFor(aud, accountName string) bool {
	aud = strings.TrimSuffix(aud, "/")
	return slices.ContainsFunc([]string{Resource, ApplicationID, "https://" + accountName + Suffix}, func(a string) bool {
		return strings.EqualFold(a, aud)
	})
}

// classify explains a token the Verifier refused: signed for a tenant the directory does not
// know, of an issuer that is not its tenant's, outside its lifetime, or with a bad signature or
// claim.
func (s *Server) classify(t *jose.JWT) *storageError {
	tid := t.String("tid")
	if _, ok := s.dir.Tenant(tid); !ok || tid == "" {
		return errUnknownKey(t.Header.Kid)
	}
	if !slices.ContainsFunc(issuers(tid), func(iss string) bool { return strings.EqualFold(iss, t.String("iss")) }) {
		return unauthenticated(detailIssuer)
	}
	now := s.now()
	if exp, ok := t.Time("exp"); ok && now.Add(-clockSkew).After(exp) {
		return unauthenticated(detailExpired)
	}
	if nbf, ok := t.Time("nbf"); ok && now.Add(clockSkew).Before(nbf) {
		return unauthenticated(detailNotYetValid)
	}
	return unauthenticated(detailSignature)
}

// issuers are the issuers Entra ID writes in a tenant's tokens: v1 and v2, of every cloud.
func issuers(tenant string) []string {
	out := []string{"https://sts.windows.net/" + tenant + "/", "https://sts.chinacloudapi.cn/" + tenant + "/"}
	for _, h := range loginHosts {
		out = append(out, "https://"+h+"/"+tenant+"/v2.0")
	}
	return out
}

// authorize decides whether c may perform the request's operation: a role assignment at the
// container (for its blobs too), the account, its resource group, subscription or management
// groups whose role grants the operation's action or data action.
func (s *Server) authorize(a account, c caller, req request) *storageError {
	d := s.dir.Check(rbac.Request{PrincipalID: c.objectID, Action: req.Op.Action, Data: req.Op.Data, ResourceID: req.resourceID(a.id)})
	if d.Allowed {
		return nil
	}
	return errPermission()
}
