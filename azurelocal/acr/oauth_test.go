package acr_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/acr"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
)

const unauthorized = "authentication required, visit https://aka.ms/acr/authorization for more information."

func get(t *testing.T, u, bearer string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

type errorsBody struct {
	Errors []struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"errors"`
}

func decodeErrors(t *testing.T, body []byte) errorsBody {
	t.Helper()
	var e errorsBody
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 {
		t.Fatalf("body %s is not ACR's errors form (%v)", body, err)
	}
	return e
}

// TestChallenge: without a token, the registry API answers ACR's 401 challenge and body.
func TestChallenge(t *testing.T) {
	tests := []struct {
		path, wantHeader, wantDetail string
	}{
		{"/v2/", `Bearer realm="https://emulated.azurecr.io/oauth2/token",service="emulated.azurecr.io"`, ""},
		{"/v2/samples/hello/manifests/latest",
			`Bearer realm="https://emulated.azurecr.io/oauth2/token",service="emulated.azurecr.io",scope="repository:samples/hello:pull"`,
			`[{"Type":"repository","Name":"samples/hello","Action":"pull"}]`},
		{"/v2/_catalog",
			`Bearer realm="https://emulated.azurecr.io/oauth2/token",service="emulated.azurecr.io",scope="registry:catalog:*"`,
			`[{"Type":"registry","Name":"catalog","Action":"*"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, "https://"+registryHost+tt.path, "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantHeader {
				t.Errorf("WWW-Authenticate\n got %s\nwant %s", got, tt.wantHeader)
			}
			e := decodeErrors(t, body)
			if e.Errors[0].Code != "UNAUTHORIZED" || e.Errors[0].Message != unauthorized || string(e.Errors[0].Detail) != tt.wantDetail {
				t.Errorf("body %s", body)
			}
		})
	}
	t.Run("garbage token", func(t *testing.T) {
		resp, _ := get(t, "https://"+registryHost+"/v2/", "not-a-token")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasSuffix(resp.Header.Get("WWW-Authenticate"), `,error="invalid_token"`) {
			t.Errorf("status %d, WWW-Authenticate %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("unknown registry", func(t *testing.T) {
		resp, body := get(t, "https://undeclared.azurecr.io/v2/", "")
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "resources.registries") {
			t.Errorf("status %d, body %s", resp.StatusCode, body)
		}
	})
}

func TestExchange(t *testing.T) {
	crToken := entraToken(t, puller, "https://containerregistry.azure.net/.default")
	armToken := entraToken(t, puller, "https://management.azure.com/.default")
	tests := []struct {
		name       string
		host       string
		form       url.Values
		wantStatus int
		wantCode   string
		wantText   string
	}{
		{"registry audience", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "access_token": {crToken}}, 200, "", ""},
		{"ARM audience", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "access_token": {armToken}}, 200, "", ""},
		{"tenant parameter", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "tenant": {tenantID}, "access_token": {crToken}}, 200, "", ""},
		{"ARM audience, authentication-as-arm disabled", armlessHost, url.Values{"grant_type": {"access_token"}, "service": {armlessHost}, "access_token": {armToken}},
			401, "UNAUTHORIZED", "authentication-as-arm disabled"},
		{"registry audience, authentication-as-arm disabled", armlessHost, url.Values{"grant_type": {"access_token"}, "service": {armlessHost}, "access_token": {crToken}}, 200, "", ""},
		{"other audience", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "access_token": {entraToken(t, puller, "https://vault.azure.net/.default")}},
			401, "UNAUTHORIZED", "audience 'https://vault.azure.net' is not one of"},
		{"other tenant", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "access_token": {entraToken(t, outsider, "https://containerregistry.azure.net/.default")}},
			401, "UNAUTHORIZED", "belongs to tenant '" + tenantID + "'"},
		{"wrong tenant parameter", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "tenant": {otherTID}, "access_token": {crToken}}, 401, "UNAUTHORIZED", "tenant parameter"},
		{"forged token", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}, "access_token": {crToken[:len(crToken)-4] + "AAAA"}}, 401, "UNAUTHORIZED", "signature"},
		{"service of another registry", registryHost, url.Values{"grant_type": {"access_token"}, "service": {armlessHost}, "access_token": {crToken}}, 400, "BAD_REQUEST", "is not this registry"},
		{"no token", registryHost, url.Values{"grant_type": {"access_token"}, "service": {registryHost}}, 400, "BAD_REQUEST", "access_token"},
		{"refresh token grant", registryHost, url.Values{"grant_type": {"refresh_token"}, "service": {registryHost}, "access_token": {crToken}}, 400, "UNSUPPORTED", "grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, "https://"+tt.host+"/oauth2/exchange?api-version=2021-07-01", tt.form)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tt.wantStatus, body)
			}
			if tt.wantStatus == 200 {
				c := azuretest.Claims(t, body["refresh_token"].(string))
				iat, exp := time.Unix(int64(c["iat"].(float64)), 0), time.Unix(int64(c["exp"].(float64)), 0)
				if c["sub"] != puller.objectID || c["tenant"] != tenantID || c["aud"] != tt.host || exp.Sub(iat) != 3*time.Hour {
					t.Errorf("refresh token claims %v", c)
				}
				return
			}
			raw, _ := json.Marshal(body)
			e := decodeErrors(t, raw)
			if e.Errors[0].Code != tt.wantCode || !strings.Contains(e.Errors[0].Message, tt.wantText) {
				t.Errorf("error %+v, want code %s and text %q", e.Errors[0], tt.wantCode, tt.wantText)
			}
			if strings.Contains(string(raw), crToken) || strings.Contains(string(raw), armToken) {
				t.Error("the error repeats the token")
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		resp, _ := get(t, "https://"+registryHost+"/oauth2/exchange", "")
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// TestTokenGrants: the access token carries what RBAC allows at the registry's scope or above.
func TestTokenGrants(t *testing.T) {
	const repo = "repository:grants/hello:pull,push"
	tests := []struct {
		who    app
		scopes []string
		want   []string
	}{
		{pusher, []string{repo}, []string{"repository:grants/hello:pull,push"}},
		{puller, []string{repo}, []string{"repository:grants/hello:pull"}},
		{reader, []string{repo}, []string{"repository:grants/hello:pull"}},
		{nobody, []string{repo}, []string{}},
		{owner, []string{"repository:grants/hello:delete,*"}, []string{"repository:grants/hello:delete,pull,push"}},
		{pusher, []string{"repository:grants/hello:delete"}, []string{}},
		{puller, []string{"registry:catalog:*"}, []string{"registry:catalog:*"}},
		{nobody, []string{"registry:catalog:*"}, []string{}},
		{puller, []string{"repository:a:pull repository:b:pull", "repository:c:push"}, []string{"repository:a:pull", "repository:b:pull"}},
		{puller, []string{"repository(plugin):a:pull", "bogus"}, []string{"repository:a:pull"}},
	}
	for _, tt := range tests {
		t.Run(tt.who.name+" "+strings.Join(tt.scopes, "+"), func(t *testing.T) {
			refresh := exchange(t, registryHost, tt.who)
			if got := access(t, accessToken(t, registryHost, refresh, tt.scopes...)); !slices.Equal(got, tt.want) {
				t.Errorf("POST: access %v, want %v", got, tt.want)
			}
			// GET with Basic credentials, as go-containerregistry and Docker send them.
			q := url.Values{"service": {registryHost}, "scope": tt.scopes}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+registryHost+"/oauth2/token?"+q.Encode(), nil)
			req.SetBasicAuth(acr.RefreshTokenUser, refresh)
			resp, err := local.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET: status %d, %v", resp.StatusCode, err)
			}
			if got := access(t, body.AccessToken); !slices.Equal(got, tt.want) {
				t.Errorf("GET: access %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTokenRefusals(t *testing.T) {
	refresh := exchange(t, registryHost, puller)
	otherRefresh := exchange(t, armlessHost, puller)
	access := accessToken(t, registryHost, refresh, "repository:x:pull")
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantText   string
	}{
		{"another registry's refresh token", url.Values{"grant_type": {"refresh_token"}, "service": {registryHost}, "refresh_token": {otherRefresh}}, 401, "issued for 'armless.azurecr.io'"},
		{"an access token", url.Values{"grant_type": {"refresh_token"}, "service": {registryHost}, "refresh_token": {access}}, 401, "not a refresh token"},
		{"an Entra token", url.Values{"grant_type": {"refresh_token"}, "service": {registryHost}, "refresh_token": {entraToken(t, puller, "https://containerregistry.azure.net/.default")}}, 401, "not issued by this registry"},
		{"no refresh token", url.Values{"grant_type": {"refresh_token"}, "service": {registryHost}}, 400, "refresh_token"},
		{"client credentials", url.Values{"grant_type": {"client_credentials"}, "service": {registryHost}}, 400, "grant_type"},
		{"admin user not enabled", url.Values{"grant_type": {"password"}, "service": {registryHost}, "username": {"emulated"}, "password": {"x"}}, 401, unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, "https://"+registryHost+"/oauth2/token", tt.form)
			raw, _ := json.Marshal(body)
			if status != tt.wantStatus || !strings.Contains(string(raw), tt.wantText) {
				t.Errorf("status %d, body %s; want %d and %q", status, raw, tt.wantStatus, tt.wantText)
			}
		})
	}
	t.Run("GET without credentials", func(t *testing.T) {
		resp, _ := get(t, "https://"+registryHost+"/oauth2/token?service="+registryHost+"&scope=repository:x:pull", "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("an access token at the registry API for another registry", func(t *testing.T) {
		resp, _ := get(t, "https://"+armlessHost+"/v2/", access)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("a refresh token at the registry API", func(t *testing.T) {
		resp, _ := get(t, "https://"+registryHost+"/v2/", refresh)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// TestAdminUser: the admin user's Basic credentials get every action asked for.
func TestAdminUser(t *testing.T) {
	scope := "repository:admin/hello:pull,push,delete"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+adminHost+"/oauth2/token?service="+adminHost+"&scope="+url.QueryEscape(scope), nil)
	req.SetBasicAuth("withadmin", "admin-password")
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if got := access(t, body.AccessToken); !slices.Equal(got, []string{scope}) {
		t.Errorf("access %v", got)
	}
	status, _ := post(t, "https://"+adminHost+"/oauth2/token", url.Values{
		"grant_type": {"password"}, "service": {adminHost}, "username": {"withadmin"}, "password": {"wrong"}, "scope": {scope},
	})
	if status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d", status)
	}
}

// TestRotateKey: after a key rollover the registry refuses every token issued before, and a
// client that exchanges again gets in.
func TestRotateKey(t *testing.T) {
	refresh := exchange(t, registryHost, puller)
	access := accessToken(t, registryHost, refresh, "repository:rotate/hello:pull")
	if err := local.acr.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, "https://"+registryHost+"/v2/", access); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old access token: status %d", resp.StatusCode)
	}
	status, _ := post(t, "https://"+registryHost+"/oauth2/token", url.Values{
		"grant_type": {"refresh_token"}, "service": {registryHost}, "refresh_token": {refresh}, "scope": {"repository:rotate/hello:pull"},
	})
	if status != http.StatusUnauthorized {
		t.Errorf("old refresh token: status %d", status)
	}
	fresh := accessToken(t, registryHost, exchange(t, registryHost, puller), "repository:rotate/hello:pull")
	if resp, _ := get(t, "https://"+registryHost+"/v2/", fresh); resp.StatusCode != http.StatusOK {
		t.Errorf("new access token: status %d", resp.StatusCode)
	}
}

// TestRecords: every exchange and token request is recorded, without secrets.
func TestRecords(t *testing.T) {
	start := local.log.Len()
	refresh := exchange(t, registryHost, reader)
	accessToken(t, registryHost, refresh, "repository:records/hello:pull,push")
	got := local.log.Since(start, func(r acr.Record) bool { return r.PrincipalID == reader.objectID })
	if len(got) != 2 {
		t.Fatalf("%d records for the reader, want 2: %+v", len(got), got)
	}
	if x := got[0]; x.Path != "/oauth2/exchange" || x.Host != registryHost || x.Grant != "access_token" || x.TenantID != tenantID || x.Status != 200 {
		t.Errorf("exchange record %+v", x)
	}
	if x := got[1]; x.Path != "/oauth2/token" || x.Grant != "refresh_token" || x.Status != 200 ||
		!slices.Equal(x.Scopes, []string{"repository:records/hello:pull,push"}) || !slices.Equal(x.Granted, []string{"repository:records/hello:pull"}) {
		t.Errorf("token record %+v", x)
	}
	refused := local.log.Since(start, func(r acr.Record) bool { return r.Status != 200 })
	if len(refused) != 0 {
		t.Errorf("refusals recorded: %+v", refused)
	}
}
