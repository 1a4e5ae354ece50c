package setup

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// TestClusterIssuer reads the issuer of an API server's OpenID configuration as written, and says
// to pass --issuer when the document is refused or names none. (The real API server's is read in
// cmd/azimuth's TestSetupPlanFixesTeamDenied.)
func TestClusterIssuer(t *testing.T) {
	for _, tc := range []struct {
		name, body, want, refusal string
		status                    int
	}{
		{name: "issuer", status: 200, body: `{"issuer":"https://oidc.prod-aks.azure.com/abc/","jwks_uri":"https://x/keys"}`, want: "https://oidc.prod-aks.azure.com/abc/"},
		{name: "forbidden", status: 403, body: `{"kind":"Status","status":"Failure","code":403}`, refusal: "pass --issuer"},
		{name: "no issuer", status: 200, body: `{"jwks_uri":"https://x/keys"}`, refusal: "names no issuer"},
		{name: "huge", status: 200, body: `{"issuer":"` + strings.Repeat("a", maxDiscovery) + `"}`, refusal: "pass --issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/.well-known/openid-configuration" {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			got, err := ClusterIssuer(t.Context(), &rest.Config{Host: srv.URL})
			if tc.refusal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refusal) {
					t.Errorf("err = %v, want one saying %q", err, tc.refusal)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ClusterIssuer = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
