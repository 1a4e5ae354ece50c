package entra

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// instanceMetadata is MSAL's cloud alias table as Entra publishes it. MSAL uses it to decide which
// hosts share a token cache and whether an authority's issuer is acceptable.
type instanceMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

var instanceAliases = []instanceMetadata{
	{"login.microsoftonline.com", "login.windows.net", []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}},
	{"login.partner.microsoftonline.cn", "login.partner.microsoftonline.cn", []string{"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}},
	{"login.microsoftonline.us", "login.microsoftonline.us", []string{"login.microsoftonline.us", "login.usgovcloudapi.net"}},
	{"login-us.microsoftonline.com", "login-us.microsoftonline.com", []string{"login-us.microsoftonline.com"}},
}

func knownInstance(host string) bool {
	for _, m := range instanceAliases {
		for _, a := range m.Aliases {
			if strings.EqualFold(a, host) {
				return true
			}
		}
	}
	return false
}

// handleInstanceDiscovery answers MSAL's GET /common/discovery/instance?api-version=1.1&
// authorization_endpoint=https://HOST/TENANT/oauth2/v2.0/authorize. Like Entra it does not check
// that the tenant exists; the OpenID configuration request that follows does.
func (s *Server) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	host := requestHost(r)
	endpoint, err := url.Parse(r.URL.Query().Get("authorization_endpoint"))
	if err != nil || endpoint.Scheme != "https" || !knownInstance(endpoint.Hostname()) {
		writeError(w, host, s.now(), correlationID(r),
			newError(400, "invalid_instance", 50049, "Unknown or invalid instance."))
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(endpoint.Path, "/"), "/")
	if tenant == "" {
		tenant = "common"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": "https://" + endpoint.Host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  instanceAliases,
	})
}

// commonTenantID stands for the tenant in the documents of a multi-tenant alias (common,
// organizations), as Entra writes it.
const commonTenantID = "{tenantid}"

// discoveryTenant resolves the {tenant} of a discovery request on its host: a multi-tenant alias
// is a tenant with ID commonTenantID, whose endpoints keep the alias; a tenant named by domain
// name has its ID in the endpoints. It answers the request itself when the tenant is unknown.
func (s *Server) discoveryTenant(w http.ResponseWriter, r *http.Request) (host string, t directory.Tenant, endpoints string, ok bool) {
	host, segment := requestHost(r), r.PathValue("tenant")
	if isCommonTenant(segment) {
		return host, directory.Tenant{ID: commonTenantID}, "https://" + host + "/" + segment, true
	}
	t, aerr := s.tenantFor(host, segment)
	if aerr != nil {
		writeError(w, host, s.now(), correlationID(r), aerr)
		return "", directory.Tenant{}, "", false
	}
	return host, t, "https://" + host + "/" + t.ID, true
}

// handleOpenIDConfiguration serves /{tenant}/v2.0/.well-known/openid-configuration. A tenant given
// by domain name gets its ID in every endpoint, as Entra answers.
func (s *Server) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	host, t, endpoints, ok := s.discoveryTenant(w, r)
	if !ok {
		return
	}
	base := "https://" + host + "/" + t.ID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        endpoints + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              endpoints + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                endpoints + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         endpoints + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  endpoints + "/oauth2/v2.0/logout",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   strings.TrimPrefix(host, "login."),
	})
}

// handleV1OpenIDConfiguration serves /{tenant}/.well-known/openid-configuration, the discovery
// document of v1 tokens: the one a Kubernetes API server's JWT authenticator reads to verify the
// tokens of an AKS server application (issuer https://sts.windows.net/TENANT/). A tenant given by
// domain name gets its ID, as for v2. jwks_uri names the tenant's own keys, which sign its tokens
// (Entra names common/discovery/keys, every tenant's).
func (s *Server) handleV1OpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	host, t, endpoints, ok := s.discoveryTenant(w, r)
	if !ok {
		return
	}
	issuer := "https://sts.windows.net/{tenantid}/"
	if t.ID != commonTenantID {
		issuer = v1Issuer(t.Cloud, t.ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        endpoints + "/oauth2/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              endpoints + "/discovery/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "token id_token", "token"},
		"scopes_supported":                      []string{"openid"},
		"issuer":                                issuer,
		"microsoft_multi_refresh_token":         true,
		"authorization_endpoint":                endpoints + "/oauth2/authorize",
		"device_authorization_endpoint":         endpoints + "/oauth2/devicecode",
		"end_session_endpoint":                  endpoints + "/oauth2/logout",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "appid"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   strings.TrimPrefix(host, "login."),
	})
}

// handleKeys serves the tenant's JWKS; for a multi-tenant alias, the keys of every tenant of the
// host's cloud.
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	host, segment := requestHost(r), r.PathValue("tenant")
	var out jose.JWKS
	for _, t := range s.dir.Tenants() {
		if cloudHosts[host] != t.Cloud {
			continue
		}
		if !isCommonTenant(segment) {
			if match, ok := s.dir.Tenant(segment); !ok || match.ID != t.ID {
				continue
			}
		}
		set, err := s.keys.JWKS(t.ID, "https://"+host+"/"+t.ID+"/v2.0")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out.Keys = append(out.Keys, set.Keys...)
	}
	if len(out.Keys) == 0 {
		writeError(w, host, s.now(), correlationID(r), errTenantNotFound(segment))
		return
	}
	writeJSON(w, http.StatusOK, out)
}
