package acr

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// unsignedJWT builds a token with the given claims JSON; the signature is not checked by the
// client, only the registry can check it.
func unsignedJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("sig"))
}

func TestParseExpiry(t *testing.T) {
	tests := []struct {
		token   string
		want    time.Time
		wantErr string
	}{
		{unsignedJWT(`{"exp":1900000000,"sub":"x"}`), time.Unix(1900000000, 0), ""},
		{unsignedJWT(`{"exp":1900000000.5}`), time.Unix(1900000000, 0), ""}, // whole seconds, as JWT libraries read it
		{unsignedJWT(`{"sub":"x"}`), time.Time{}, "no exp claim"},
		{unsignedJWT(`{"exp":"tomorrow"}`), time.Time{}, "as a JWT"},
		{"opaque-token", time.Time{}, "as a JWT"},
		{"", time.Time{}, "as a JWT"},
	}
	for _, tt := range tests {
		got, err := ParseExpiry(tt.token)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseExpiry(%q) = %v, %v; want error %q", tt.token, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", tt.token, got, err, tt.want)
		}
	}
}

// TestExchangeWireFormat checks the request against the azcontainerregistry SDK's form and the
// answers a registry gives.
func TestExchangeWireFormat(t *testing.T) {
	refresh := unsignedJWT(`{"exp":1900000000}`)
	var got *http.Request
	var form url.Values
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		r.ParseForm()
		form = r.PostForm
		switch form.Get("access_token") {
		case "good":
			fmt.Fprintf(w, `{"refresh_token":%q}`, refresh)
		case "opaque":
			fmt.Fprint(w, `{"refresh_token":"opaque"}`)
		case "plain":
			http.Error(w, "upstream broke\nsecond line", http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"audience is wrong"}]}`)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")

	rt, err := Exchange(t.Context(), srv.Client(), host, "good")
	if err != nil {
		t.Fatal(err)
	}
	if rt.Token != refresh || !rt.ExpiresOn.Equal(time.Unix(1900000000, 0)) {
		t.Errorf("refresh token %+v", rt)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/oauth2/exchange" || got.URL.RawQuery != "api-version=2021-07-01" {
		t.Errorf("request %s %s", got.Method, got.URL)
	}
	if got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || got.Header.Get("Accept") != "application/json" || got.Header.Get("Authorization") != "" {
		t.Errorf("headers %v", got.Header)
	}
	want := url.Values{"grant_type": {"access_token"}, "service": {host}, "access_token": {"good"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", form, want)
	}

	_, err = Exchange(t.Context(), srv.Client(), host, "bad")
	var xe *ExchangeError
	if !errors.As(err, &xe) || xe.StatusCode != 401 || xe.Code != "UNAUTHORIZED" || xe.Message != "audience is wrong" {
		t.Fatalf("err = %#v", err)
	}
	xe.Identity, xe.Scope = "client secret (client ID c1)", "https://management.azure.com/.default"
	for _, want := range []string{"registry " + host, "client secret (client ID c1)", "HTTP 401 UNAUTHORIZED", "audience is wrong", "authentication-as-arm update"} {
		if !strings.Contains(xe.Error(), want) {
			t.Errorf("%q lacks %q", xe.Error(), want)
		}
	}
	if strings.Contains(xe.Error(), "bad") {
		t.Errorf("%q repeats the token", xe.Error())
	}

	_, err = Exchange(t.Context(), srv.Client(), host, "plain")
	if !errors.As(err, &xe) || xe.StatusCode != 502 || xe.Message != "upstream broke" {
		t.Errorf("err = %v", err)
	}
	if _, err := Exchange(t.Context(), srv.Client(), host, "opaque"); err == nil || !strings.Contains(err.Error(), "as a JWT") {
		t.Errorf("opaque refresh token: %v", err)
	}
}

func TestPrincipalOf(t *testing.T) {
	key, oid := principalOf(unsignedJWT(`{"tid":"T1","oid":"O1","exp":1}`))
	if key != "t1/o1" || oid != "O1" {
		t.Errorf("key %q oid %q", key, oid)
	}
	k1, oid := principalOf("opaque-1")
	k2, _ := principalOf("opaque-2")
	if k1 == k2 || oid != "" || strings.Contains(k1, "opaque") {
		t.Errorf("opaque keys %q %q", k1, k2)
	}
}
