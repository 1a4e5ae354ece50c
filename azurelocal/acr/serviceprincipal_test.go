package acr_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/azimuth-gitops/azimuth/azurelocal/acr"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// handlerTransport serves requests with an http.Handler in process, for a registry that is not
// the one the shared fixture routes.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	in.RequestURI = r.URL.RequestURI()
	if in.Body == nil {
		in.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, in)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

// spRegistry is a registry that checks service principal credentials with the fixture's Entra
// ID, as azurelocal.Start wires it.
type spRegistry struct {
	rt      http.RoundTripper
	records azuretest.Recorder[acr.Record]
}

func newSPRegistry(t *testing.T) *spRegistry {
	t.Helper()
	dir, err := directory.Parse([]byte(testDirectory))
	if err != nil {
		t.Fatal(err)
	}
	r := &spRegistry{}
	srv, err := acr.New(dir, local.azure.Entra().Verifier(), acr.WithEntra(local.azure.Entra()),
		acr.WithAdminUser("withadmin", "withadmin", "admin-password"),
		acr.WithObserver(r.records.Add))
	if err != nil {
		t.Fatal(err)
	}
	r.rt = handlerTransport{srv}
	return r
}

// basic returns remote options that log in as docker login -u CLIENT_ID -p SECRET does.
func (r *spRegistry) basic(t *testing.T, user, password string) []remote.Option {
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: user, Password: password}), remote.WithTransport(r.rt), remote.WithContext(t.Context())}
}

func (r *spRegistry) last() acr.Record { return r.records.Since(r.records.Len()-1, nil)[0] }

// TestServicePrincipalLogin is issue 10's item 8 for go-containerregistry: a service principal's
// application ID and client secret as user name and password work as on Azure. The registry asks
// Entra ID, and grants what the principal's roles allow: AcrPush pushes, AcrPull pulls, no role
// gets ACR's 401 on the registry API, and a wrong secret, an unknown application or one of
// another tenant get 401 "Invalid clientid or client secret." from the token endpoint.
func TestServicePrincipalLogin(t *testing.T) {
	r := newSPRegistry(t)
	img := pushRandom(t, registryHost+"/sp/hello:v1", r.basic(t, pusher.clientID, secret))
	if rec := r.last(); rec.PrincipalID != pusher.objectID || rec.TenantID != tenantID || rec.Grant != "basic_password" {
		t.Errorf("last record %+v, want the pusher's object ID from Entra ID", rec)
	}
	digest, _ := img.Digest()

	tags, err := remote.List(ref(t, registryHost+"/sp/hello:v1").Context(), r.basic(t, puller.clientID, secret)...)
	if err != nil || !slices.Equal(tags, []string{"v1"}) {
		t.Fatalf("list as AcrPull: %v %v", tags, err)
	}
	got, err := remote.Image(ref(t, registryHost+"/sp/hello:v1"), r.basic(t, puller.clientID, secret)...)
	if err != nil {
		t.Fatalf("pull as AcrPull: %v", err)
	}
	if d, _ := got.Digest(); d != digest {
		t.Errorf("pulled %s, want %s", d, digest)
	}

	t.Run("AcrPull cannot push", func(t *testing.T) {
		err := remote.Write(ref(t, registryHost+"/sp/hello:v2"), img, r.basic(t, puller.clientID, secret)...)
		wantStatus(t, err, http.StatusUnauthorized, transport.UnauthorizedErrorCode)
	})
	t.Run("no role: the registry's refusal", func(t *testing.T) {
		_, err := remote.Image(ref(t, registryHost+"/sp/hello:v1"), r.basic(t, nobody.clientID, secret)...)
		wantStatus(t, err, http.StatusUnauthorized, transport.UnauthorizedErrorCode)
		if !strings.Contains(err.Error(), "authentication required") {
			t.Errorf("err = %v, want ACR's 'authentication required' message", err)
		}
	})
	for _, tt := range []struct{ name, user, password string }{
		{"wrong secret", puller.clientID, "not-the-secret"},
		{"unknown application", "0f0e0d0c-0b0a-4909-8807-060504030201", secret},
		{"application of another tenant", outsider.clientID, secret},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := remote.Image(ref(t, registryHost+"/sp/hello:v1"), r.basic(t, tt.user, tt.password)...)
			wantStatus(t, err, http.StatusUnauthorized, transport.UnauthorizedErrorCode)
			if !strings.Contains(err.Error(), "Invalid clientid or client secret.") {
				t.Errorf("err = %v, want ACR's 'Invalid clientid or client secret.'", err)
			}
		})
	}
}

// TestServicePrincipalTokenWire checks the token endpoint's answers on the wire: GET with Basic
// credentials (Docker, crane) and POST grant_type=password (containerd, buildkit).
func TestServicePrincipalTokenWire(t *testing.T) {
	r := newSPRegistry(t)
	client := &http.Client{Transport: r.rt}
	scope := "repository:sp/wire:pull,push"
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantAccess []string
	}{
		{"GET, Basic, AcrPull", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "https://"+registryHost+"/oauth2/token?service="+registryHost+"&scope="+url.QueryEscape(scope), nil)
			req.SetBasicAuth(puller.clientID, secret)
			return req
		}, http.StatusOK, []string{"repository:sp/wire:pull"}},
		{"POST password, AcrPush", func() *http.Request {
			form := url.Values{"grant_type": {"password"}, "service": {registryHost}, "scope": {scope},
				"username": {pusher.clientID}, "password": {secret}}
			req, _ := http.NewRequest(http.MethodPost, "https://"+registryHost+"/oauth2/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, http.StatusOK, []string{"repository:sp/wire:pull,push"}},
		{"GET, Basic, no role: a token without access", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "https://"+registryHost+"/oauth2/token?service="+registryHost+"&scope="+url.QueryEscape(scope), nil)
			req.SetBasicAuth(nobody.clientID, secret)
			return req
		}, http.StatusOK, []string{}},
		{"GET, Basic, wrong secret", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "https://"+registryHost+"/oauth2/token?service="+registryHost+"&scope="+url.QueryEscape(scope), nil)
			req.SetBasicAuth(puller.clientID, "wrong")
			return req
		}, http.StatusUnauthorized, nil},
		{"POST password, wrong secret", func() *http.Request {
			form := url.Values{"grant_type": {"password"}, "service": {registryHost}, "scope": {scope},
				"username": {pusher.clientID}, "password": {"wrong"}}
			req, _ := http.NewRequest(http.MethodPost, "https://"+registryHost+"/oauth2/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		}, http.StatusUnauthorized, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Do(tt.req().WithContext(t.Context()))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
				errorsBody
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, tt.wantStatus, body.Errors)
			}
			if tt.wantStatus != http.StatusOK {
				want := []struct{ code, message string }{{"UNAUTHORIZED", "Invalid clientid or client secret."}}
				if len(body.Errors) != 1 || body.Errors[0].Code != want[0].code || body.Errors[0].Message != want[0].message {
					t.Errorf("errors %+v, want %+v", body.Errors, want)
				}
				return
			}
			if got := access(t, body.AccessToken); !slices.Equal(got, tt.wantAccess) {
				t.Errorf("access %v, want %v", got, tt.wantAccess)
			}
		})
	}
	t.Run("the admin user still works beside service principals", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+adminHost+"/oauth2/token?service="+adminHost+"&scope="+url.QueryEscape("repository:x:pull"), nil)
		req.SetBasicAuth("withadmin", "admin-password")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("admin user: status %d", resp.StatusCode)
		}
	})
}
