package entra_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

func TestInstanceDiscovery(t *testing.T) {
	f := newFixture(t)
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {"https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/authorize"}}
	code, body := f.get(t, "https://login.microsoftonline.com/common/discovery/instance?"+q.Encode())
	if code != 200 {
		t.Fatalf("status %d %v", code, body)
	}
	if got := body["tenant_discovery_endpoint"]; got != "https://login.microsoftonline.com/"+tenantID+"/v2.0/.well-known/openid-configuration" {
		t.Errorf("tenant_discovery_endpoint = %v", got)
	}
	meta, _ := body["metadata"].([]any)
	first, _ := meta[0].(map[string]any)
	if body["api-version"] != "1.1" || first["preferred_network"] != "login.microsoftonline.com" || first["preferred_cache"] != "login.windows.net" {
		t.Errorf("body %v", body)
	}
	q.Set("authorization_endpoint", "https://evil.example/t/oauth2/v2.0/authorize")
	if code, body := f.get(t, "https://login.microsoftonline.com/common/discovery/instance?"+q.Encode()); code != 400 || body["error"] != "invalid_instance" {
		t.Errorf("unknown instance: %d %v", code, body)
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path       string
		wantStatus int
		wantIssuer string
		wantToken  string
	}{
		{"/" + tenantID + "/v2.0/.well-known/openid-configuration", 200, "https://login.microsoftonline.com/" + tenantID + "/v2.0", "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token"},
		{"/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", 200, "https://login.microsoftonline.com/" + tenantID + "/v2.0", "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token"},
		{"/common/v2.0/.well-known/openid-configuration", 200, "https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/common/oauth2/v2.0/token"},
		{"/nope.onmicrosoft.com/v2.0/.well-known/openid-configuration", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := f.get(t, "https://login.microsoftonline.com"+tt.path)
			if code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", code, tt.wantStatus, body)
			}
			if code != 200 {
				if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(90002) {
					t.Errorf("error body %v", body)
				}
				return
			}
			if body["issuer"] != tt.wantIssuer || body["token_endpoint"] != tt.wantToken || body["jwks_uri"] == nil || body["authorization_endpoint"] == nil {
				t.Errorf("body %v", body)
			}
		})
	}
}

// TestV1OpenIDConfiguration: the discovery document of v1 tokens, as an API server's JWT
// authenticator reads it: the v1 issuer of the tenant, and its keys, which verify a token for the
// AKS server application.
func TestV1OpenIDConfiguration(t *testing.T) {
	f := newFixture(t)
	v1Issuer := "https://sts.windows.net/" + tenantID + "/"
	tests := []struct {
		path       string
		wantStatus int
		wantIssuer string
		wantJWKS   string
	}{
		{"/" + tenantID + "/.well-known/openid-configuration", 200, v1Issuer, "https://login.microsoftonline.com/" + tenantID + "/discovery/keys"},
		{"/CONTOSO.onmicrosoft.com/.well-known/openid-configuration", 200, v1Issuer, "https://login.microsoftonline.com/" + tenantID + "/discovery/keys"},
		{"/common/.well-known/openid-configuration", 200, "https://sts.windows.net/{tenantid}/", "https://login.microsoftonline.com/common/discovery/keys"},
		{"/nope.onmicrosoft.com/.well-known/openid-configuration", 400, "", ""},
		{"/00000000-0000-0000-0000-000000000009/.well-known/openid-configuration", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := f.get(t, "https://login.microsoftonline.com"+tt.path)
			if code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", code, tt.wantStatus, body)
			}
			if code != 200 {
				if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(90002) || body["error"] != "invalid_tenant" {
					t.Errorf("error body %v", body)
				}
				return
			}
			if body["issuer"] != tt.wantIssuer || body["jwks_uri"] != tt.wantJWKS {
				t.Errorf("issuer %v, jwks_uri %v", body["issuer"], body["jwks_uri"])
			}
			if tok, _ := body["token_endpoint"].(string); !strings.HasSuffix(tok, "/oauth2/token") {
				t.Errorf("token_endpoint = %v", body["token_endpoint"])
			}
			algs, _ := body["id_token_signing_alg_values_supported"].([]any)
			if len(algs) != 1 || algs[0] != "RS256" || body["authorization_endpoint"] == nil ||
				body["response_types_supported"] == nil || body["subject_types_supported"] == nil || body["token_endpoint_auth_methods_supported"] == nil {
				t.Errorf("body %v", body)
			}
		})
	}
	// A tenant of another cloud is not on this host.
	if code, _ := f.get(t, "https://login.microsoftonline.com/"+usTenantID+"/.well-known/openid-configuration"); code != 400 {
		t.Errorf("a US Government tenant on the public host: %d", code)
	}
	// The keys behind jwks_uri verify a token for the AKS server application, whose issuer is the
	// document's.
	resp := f.post(t, login, tenantID, form("client_id", secretApp, "client_secret", theSecret, "scope", entra.AKSServerAppID+"/.default"))
	if resp.Status != 200 {
		t.Fatalf("AKS token: %d %s", resp.Status, resp.Description)
	}
	<-f.records
	tok, err := jose.Parse(resp.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok.String("aud") != entra.AKSServerAppID || tok.String("iss") != v1Issuer {
		t.Errorf("aud %s, iss %s", tok.String("aud"), tok.String("iss"))
	}
	_, doc := f.get(t, "https://login.microsoftonline.com/contoso.onmicrosoft.com/.well-known/openid-configuration")
	code, body := f.get(t, doc["jwks_uri"].(string))
	if code != 200 {
		t.Fatalf("jwks_uri: %d %v", code, body)
	}
	var set jose.JWKS
	data, _ := json.Marshal(body)
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	verified := false
	for _, k := range set.Keys {
		if k.Kid != tok.Header.Kid {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		verified = tok.Verify(pub) == nil
	}
	if !verified {
		t.Errorf("no key of %s verifies the token (kid %s)", doc["jwks_uri"], tok.Header.Kid)
	}
}

func TestKeysPublishTheSigningKey(t *testing.T) {
	f := newFixture(t)
	resp := f.post(t, login, tenantID, form("client_id", secretApp, "client_secret", theSecret))
	code, body := f.get(t, "https://login.microsoftonline.com/"+tenantID+"/discovery/v2.0/keys")
	keys, _ := body["keys"].([]any)
	if code != 200 || len(keys) != 1 {
		t.Fatalf("keys: %d %v", code, body)
	}
	key, _ := keys[0].(map[string]any)
	header := decodeHeader(t, resp.AccessToken)
	if key["kid"] != header["kid"] || key["kty"] != "RSA" || key["use"] != "sig" || key["x5c"] == nil {
		t.Errorf("published key %v does not match token header %v", key, header)
	}
}

func TestUnknownHostAndMethod(t *testing.T) {
	f := newFixture(t)
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://myacr.azurecr.io/v2/", nil))
	if w.Code != 404 {
		t.Errorf("foreign host: %d", w.Code)
	}
	w = httptest.NewRecorder()
	f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://login.microsoftonline.com/"+tenantID+"/oauth2/v2.0/token", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET on the token endpoint: %d", w.Code)
	}
}

func decodeHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	return azuretest.Claims(t, "x."+parts[0]+".y")
}
