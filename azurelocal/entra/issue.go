package entra

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// Well-known resources (first-party applications) tokens can be issued for. Every one of them
// accepts v1 tokens, so the issuer is sts.windows.net, as Entra sets it.
var knownResources = []string{
	"https://management.azure.com",
	"https://management.core.windows.net",
	"https://management.usgovcloudapi.net",
	"https://management.core.usgovcloudapi.net",
	"https://management.chinacloudapi.cn",
	"https://management.core.chinacloudapi.cn",
	"https://storage.azure.com",
	"https://vault.azure.net",
	"https://vault.usgovcloudapi.net",
	"https://vault.azure.cn",
	"https://eventhubs.azure.net",
	"https://servicebus.azure.net",
	"https://containerregistry.azure.net",
	"https://graph.microsoft.com",
	"499b84ac-1321-427f-aa17-267ca6975798", // Azure DevOps
	"e406a681-f3d4-42a8-90b6-c2b029497af1", // Azure Storage, by application ID
	AKSServerAppID,
}

// AKSServerAppID is the application ID of the AKS server application (Azure Kubernetes Service
// AAD Server), the same in every tenant: the audience, bare, of the tokens that the API server of
// an AKS cluster with Microsoft Entra ID integration accepts. Its scope is AKSServerAppID +
// "/.default".
const AKSServerAppID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// Storage also accepts per-account audiences, https://ACCOUNT.blob.core.windows.net.
var accountResourceSuffixes = []string{".blob.core.windows.net", ".blob.core.usgovcloudapi.net", ".blob.core.chinacloudapi.cn"}

// knownResource reports whether resource (a scope with /.default removed) names a resource
// application. The comparison ignores case and a trailing slash, as Entra's identifier URI match
// does.
func knownResource(resource string) bool {
	r := strings.ToLower(strings.TrimSuffix(resource, "/"))
	for _, k := range knownResources {
		if r == k {
			return true
		}
	}
	if account, ok := strings.CutPrefix(r, "https://"); ok {
		for _, suffix := range accountResourceSuffixes {
			if name, ok := strings.CutSuffix(account, suffix); ok && name != "" && !strings.ContainsAny(name, "./") {
				return true
			}
		}
	}
	return false
}

// resourceFromScopes turns the scope parameter of a client credentials request into a resource.
// OIDC scopes that MSAL always adds are ignored; what remains must be one "RESOURCE/.default".
// Entra removes "/.default" only, so "https://eventhubs.azure.net//.default" gives the resource
// (and audience) "https://eventhubs.azure.net/".
func resourceFromScopes(scope string) (string, *aadError) {
	var resources []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		resources = append(resources, s)
	}
	switch {
	case len(resources) == 0:
		return "", errMissingParameter("scope")
	case len(resources) > 1:
		return "", errManyResources(strings.Join(resources, " "))
	}
	resource, ok := strings.CutSuffix(resources[0], "/.default")
	if !ok || resource == "" {
		return "", errScopeNotDefault(resources[0])
	}
	return resource, nil
}

// AccessToken is an issued token and its times.
type AccessToken struct {
	Token     string
	Resource  string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresOn time.Time
	// Lifetime is the token's validity from the moment it was issued: expires_in.
	Lifetime time.Duration
}

// ErrUnknownResource is returned by IssueManagedIdentityToken for a resource Entra does not know.
var ErrUnknownResource = errors.New("unknown resource")

// IssueManagedIdentityToken issues a token for a managed identity, as IMDS obtains one on a VM's
// behalf. The resource is IMDS's resource parameter (no "/.default").
func (s *Server) IssueManagedIdentityToken(p directory.Principal, resource string) (AccessToken, error) {
	if !knownResource(resource) {
		return AccessToken{}, fmt.Errorf("%w: %s", ErrUnknownResource, resource)
	}
	t, ok := s.dir.Tenant(p.TenantID)
	if !ok {
		return AccessToken{}, fmt.Errorf("tenant '%s' of managed identity '%s' is not in the directory", p.TenantID, p.Name)
	}
	return s.issue(p, resource, t.Cloud, "2")
}

// accessClaims are the claims of a v1 app-only access token, as Entra issues them.
type accessClaims struct {
	Aud      string `json:"aud"`
	Iss      string `json:"iss"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	Exp      int64  `json:"exp"`
	Aio      string `json:"aio"`
	AppID    string `json:"appid"`
	AppIDACR string `json:"appidacr"`
	IDP      string `json:"idp"`
	IDTyp    string `json:"idtyp"`
	OID      string `json:"oid"`
	RH       string `json:"rh"`
	Sub      string `json:"sub"`
	TID      string `json:"tid"`
	UTI      string `json:"uti"`
	Ver      string `json:"ver"`
	XMSMirID string `json:"xms_mirid,omitempty"`
}

// issue signs an access token for p. acr is the appidacr claim: "1" for a client secret, "2" for
// a certificate or assertion.
func (s *Server) issue(p directory.Principal, resource, cloud, acr string) (AccessToken, error) {
	sk, err := s.keys.forTenant(p.TenantID)
	if err != nil {
		return AccessToken{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	issuer := v1Issuer(cloud, p.TenantID)
	// Entra back-dates nbf and iat by five minutes to absorb clock skew.
	nbf := now.Add(-5 * time.Minute)
	exp := now.Add(s.lifetime)
	claims := accessClaims{
		Aud: resource, Iss: issuer, Iat: nbf.Unix(), Nbf: nbf.Unix(), Exp: exp.Unix(),
		Aio: opaque(), AppID: p.ClientID, AppIDACR: acr, IDP: issuer, IDTyp: "app",
		OID: p.PrincipalID, RH: opaque(), Sub: p.PrincipalID, TID: p.TenantID, UTI: opaque(), Ver: "1.0",
	}
	if p.Kind != directory.KindApplication {
		claims.XMSMirID = p.ResourceID
	}
	token, err := jose.SignRS256(sk.key, map[string]any{"kid": sk.kid, "x5t": sk.kid}, claims)
	if err != nil {
		return AccessToken{}, fmt.Errorf("sign access token: %w", err)
	}
	return AccessToken{Token: token, Resource: resource, IssuedAt: nbf, NotBefore: nbf, ExpiresOn: exp, Lifetime: s.lifetime}, nil
}

// v1Issuer is the issuer of a tenant's v1 tokens: sts.windows.net, or sts.chinacloudapi.cn in
// Azure China.
func v1Issuer(cloud, tenantID string) string {
	if cloud == directory.CloudChina {
		return "https://sts.chinacloudapi.cn/" + tenantID + "/"
	}
	return "https://sts.windows.net/" + tenantID + "/"
}

// opaque returns a random value in the style of Entra's opaque claims (aio, rh, uti).
func opaque() string {
	return strings.ReplaceAll(newUUID(), "-", "")[:22]
}
