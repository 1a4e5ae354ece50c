package entra_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
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
