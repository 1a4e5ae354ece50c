package gateway

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })
}

func TestRouting(t *testing.T) {
	g := New()
	for pattern, name := range map[string]string{
		"login.microsoftonline.com": "entra",
		"*.azurecr.io":              "acr",
		"special.azurecr.io":        "special",
	} {
		if err := g.Register(pattern, named(name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		host       string
		sni        string
		wantStatus int
		wantBody   string
	}{
		{"login.microsoftonline.com", "", 200, "entra"},
		{"LOGIN.microsoftonline.com:443", "", 200, "entra"},
		{"myacr.azurecr.io", "", 200, "acr"},
		{"special.azurecr.io", "", 200, "special"},
		{"a.b.azurecr.io", "", 404, "no emulator serves host 'a.b.azurecr.io'"},
		{"azurecr.io", "", 404, "served hosts: *.azurecr.io, login.microsoftonline.com, special.azurecr.io"},
		{"myacr.azurecr.io", "other.azurecr.io", 200, "acr"},
		{"myacr.azurecr.io", "login.microsoftonline.com", 421, "opened for 'login.microsoftonline.com'"},
	}
	for _, tt := range tests {
		t.Run(tt.host+"/"+tt.sni, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = tt.host
			if tt.sni != "" {
				r.TLS = &tls.ConnectionState{ServerName: tt.sni}
			}
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("got %d %q, want %d containing %q", w.Code, w.Body.String(), tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestRegisterRejectsBadPatterns(t *testing.T) {
	for _, p := range []string{"", "*", "*.", "a.*.b", "host:443", "https://x.y", "localhost", "**.x.y"} {
		if err := New().Register(p, named("x")); err == nil {
			t.Errorf("Register(%q) succeeded", p)
		}
	}
}

func TestMatchHost(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"*.azurecr.io", "myacr.azurecr.io", true},
		{"*.azurecr.io", "MyAcr.AzureCR.io.", true},
		{"*.azurecr.io", "azurecr.io", false},
		{"*.azurecr.io", "x.y.azurecr.io", false},
		{"*.azurecr.io", ".azurecr.io", false},
		{"dev.azure.com", "dev.azure.com", true},
		{"dev.azure.com", "x.dev.azure.com", false},
	}
	for _, tt := range tests {
		if got := MatchHost(tt.pattern, tt.host); got != tt.want {
			t.Errorf("MatchHost(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestConnectToRules(t *testing.T) {
	got := ConnectToRules([]string{"login.microsoftonline.com", "*.azurecr.io"}, "127.0.0.1:8443", "[::1]:8080")
	want := []string{
		"login.microsoftonline.com:443:127.0.0.1:8443",
		"*.azurecr.io:443:127.0.0.1:8443",
		"169.254.169.254:80:[::1]:8080",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
