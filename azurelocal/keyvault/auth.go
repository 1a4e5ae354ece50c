package keyvault

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

// loginHosts are the authorities a challenge names, by the cloud of the vault's tenant.
var loginHosts = map[string]string{
	directory.CloudPublic:       "login.microsoftonline.com",
	directory.CloudUSGovernment: "login.microsoftonline.us",
	directory.CloudChina:        "login.chinacloudapi.cn",
}

// caller is who sent a request, once the token checked out.
type caller struct {
	objectID, appID, issuer string
}

// String renders the caller as Key Vault's refusals name it.
func (c caller) String() string {
	return fmt.Sprintf("appid=%s;oid=%s;iss=%s", c.appID, c.objectID, c.issuer)
}

// challenge is the WWW-Authenticate header of every 401: where to get a token (the vault's
// tenant) and for which resource. azkeys' challenge policy reads both.
func (s *Server) challenge(v vault) string {
	return fmt.Sprintf(`Bearer authorization="https://%s/%s", resource="%s"`, s.loginHost(v), v.tenant, Resource)
}

func (s *Server) loginHost(v vault) string {
	t, _ := s.dir.Tenant(v.tenant)
	if h, ok := loginHosts[t.Cloud]; ok {
		return h
	}
	return loginHosts[directory.CloudPublic]
}

// authenticate checks the Bearer token of a request as Key Vault does: readable and signed by its
// tenant's key (Entra's Verifier), within its lifetime, for Key Vault's audience, and issued by
// the vault's tenant. Each failure has Key Vault's message.
func (s *Server) authenticate(r *http.Request, v vault) (caller, *kvError) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return caller{}, unauthorized(msgMissingToken)
	}
	t, err := jose.Parse(token)
	if err != nil {
		return caller{}, unauthorized(msgUnreadableToken)
	}
	aud := t.String("aud")
	// The audience is Key Vault's own check, with its own message, so the Verifier is asked
	// about everything else: the token's audience is the one it is checked against.
	claims, err := s.verifier.Verify(token, aud)
	if err != nil {
		return caller{}, s.classify(t, token)
	}
	if !slices.ContainsFunc([]string{Resource, ApplicationID}, func(a string) bool { return strings.EqualFold(a, aud) }) {
		return caller{}, errAudience(aud)
	}
	if !strings.EqualFold(claims.TenantID, v.tenant) {
		return caller{}, errIssuer(s.issuers(v), claims.Issuer)
	}
	return caller{objectID: strings.ToLower(claims.ObjectID), appID: claims.AppID, issuer: claims.Issuer}, nil
}

// classify explains a token the Verifier refused: outside its lifetime, signed for a tenant the
// directory does not know, or unreadable (a bad signature, a malformed claim).
func (s *Server) classify(t *jose.JWT, token string) *kvError {
	now := s.now()
	if exp, ok := t.Time("exp"); ok && now.Add(-clockSkew).After(exp) {
		return unauthorized(msgTokenExpired)
	}
	if nbf, ok := t.Time("nbf"); ok && now.Add(clockSkew).Before(nbf) {
		return unauthorized(msgTokenNotYetValid)
	}
	if _, ok := s.dir.Tenant(t.String("tid")); !ok {
		header, _, _ := strings.Cut(token, ".")
		return errUnknownSigningKey(header)
	}
	return unauthorized(msgUnreadableToken)
}

// issuers are the token issuers of the vault's tenant, as AKV10032 lists them.
func (s *Server) issuers(v vault) []string {
	t, _ := s.dir.Tenant(v.tenant)
	sts := "https://sts.windows.net/"
	if t.Cloud == directory.CloudChina {
		sts = "https://sts.chinacloudapi.cn/"
	}
	return []string{sts + v.tenant + "/", "https://" + s.loginHost(v) + "/" + v.tenant + "/v2.0"}
}

// authorize decides whether c may perform the route's operation, by the vault's permission model:
// a role that grants the data action at the key's scope or above (rbac), or the permission in
// the vault's access policies.
func (s *Server) authorize(v vault, c caller, rt route) *kvError {
	if v.model == directory.VaultAccessPolicies {
		if slices.Contains(s.dir.KeyVaultPermissions(v.name, c.objectID), rt.op.permission) {
			return nil
		}
		return errAccessPolicy(c, rt.op.permission, v)
	}
	resource := v.resourceID
	if !rt.op.vaultScope {
		resource += "/keys/" + rt.key
	}
	d := s.dir.Check(rbac.Request{PrincipalID: c.objectID, Action: rt.op.dataAction, Data: true, ResourceID: resource})
	if d.Allowed {
		return nil
	}
	return errRBAC(c, rt.op.dataAction, resource, v)
}
