package imds

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

const (
	tenantID = "2e811126-9388-40f9-a8e4-23ac7e094717"
	subID    = "9500bbc1-08e9-41a1-a586-73f24f82e037"
	sysID    = "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3"
	sysOID   = "7fe9af53-4867-4663-8d8f-2658b2f2e315"
	oneID    = "213d8012-7eed-4f6d-a0db-54570c6d6f89"
	oneOID   = "4249e19b-811e-4ad5-800e-2ec239154393"
	twoID    = "4817e33f-6b74-4c56-b006-d543ddff26f0"
	twoOID   = "47e72644-5b71-4d43-b59f-d13c95fafb93"
)

// newServer builds IMDS over a node with the given system identity flag and user identities.
func newServer(t *testing.T, system bool, identities ...string) (*Server, *entra.Server, *[]entra.Record) {
	t.Helper()
	yaml := `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `}]
managedIdentities:
  - {name: one, subscription: ` + subID + `, resourceGroup: rg, clientId: ` + oneID + `, principalId: ` + oneOID + `}
  - {name: two, subscription: ` + subID + `, resourceGroup: rg, clientId: ` + twoID + `, principalId: ` + twoOID + `}
node:
  name: vm0
  identities: [` + strings.Join(identities, ", ") + `]
`
	if system {
		yaml += "  systemAssigned: {clientId: " + sysID + ", principalId: " + sysOID + "}\n"
	}
	dir, err := directory.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	issuer, err := entra.New(dir, entra.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	var records []entra.Record
	return New(dir, issuer, WithClock(now), WithObserver(func(r entra.Record) { records = append(records, r) })), issuer, &records
}

func get(s *Server, query url.Values, metadata bool) (int, map[string]string) {
	r := httptest.NewRequest(http.MethodGet, "http://169.254.169.254"+TokenPath+"?"+query.Encode(), nil)
	if metadata {
		r.Header.Set("Metadata", "true")
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var body map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body
}

func query(kv ...string) url.Values {
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {"https://storage.azure.com"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

func TestIdentitySelection(t *testing.T) {
	withSystem, _, _ := newServer(t, true, "one", "two")
	usersOnly, _, _ := newServer(t, false, "one", "two")
	single, _, _ := newServer(t, false, "two")
	none, _, _ := newServer(t, false)
	rid := "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/two"
	tests := []struct {
		name       string
		srv        *Server
		q          url.Values
		metadata   bool
		wantStatus int
		wantClient string
		wantDesc   string
	}{
		{"system-assigned by default", withSystem, query(), true, 200, sysID, ""},
		{"user-assigned by client_id", withSystem, query("client_id", oneID), true, 200, oneID, ""},
		{"user-assigned by object_id", withSystem, query("object_id", twoOID), true, 200, twoID, ""},
		{"user-assigned by msi_res_id", withSystem, query("msi_res_id", rid), true, 200, twoID, ""},
		{"system-assigned by its client_id", withSystem, query("client_id", sysID), true, 200, sysID, ""},
		{"the only user-assigned by default", single, query(), true, 200, twoID, ""},
		{"several and none chosen", usersOnly, query(), true, 400, "", "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"},
		{"identity not assigned", single, query("client_id", oneID), true, 400, "", "Identity not found"},
		{"no identity at all", none, query(), true, 400, "", "Identity not found"},
		{"missing Metadata header", withSystem, query(), false, 400, "", "Required metadata header not specified"},
		{"missing api-version", withSystem, query("api-version", ""), true, 400, "", "api-version"},
		{"missing resource", withSystem, query("resource", ""), true, 400, "", "Required audience parameter not specified"},
		{"unknown resource", withSystem, query("resource", "https://nope.example"), true, 400, "", "AADSTS500011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(tt.srv, tt.q, tt.metadata)
			if code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", code, tt.wantStatus, body)
			}
			if tt.wantStatus != 200 {
				if body["error_description"] != tt.wantDesc && !strings.Contains(body["error_description"], tt.wantDesc) {
					t.Errorf("error_description %q, want %q", body["error_description"], tt.wantDesc)
				}
				if body["error"] == "" {
					t.Error("error is empty")
				}
				return
			}
			if body["client_id"] != tt.wantClient {
				t.Errorf("client_id = %s, want %s", body["client_id"], tt.wantClient)
			}
		})
	}
}

func TestTokenResponse(t *testing.T) {
	srv, issuer, records := newServer(t, false, "one")
	code, body := get(srv, query("resource", "https://vault.azure.net"), true)
	if code != 200 {
		t.Fatal(body)
	}
	for _, k := range []string{"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"} {
		if body[k] == "" {
			t.Errorf("%s missing from %v", k, body)
		}
	}
	if body["expires_in"] != "3600" || body["token_type"] != "Bearer" || body["resource"] != "https://vault.azure.net" {
		t.Errorf("body %v", body)
	}
	exp, _ := strconv.ParseInt(body["expires_on"], 10, 64)
	if exp != time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("expires_on = %d", exp)
	}
	claims, err := issuer.Verifier().Verify(body["access_token"], "https://vault.azure.net")
	if err != nil {
		t.Fatal(err)
	}
	wantRID := "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/one"
	if claims.ObjectID != oneOID || claims.AppID != oneID || claims.ResourceID != wantRID {
		t.Errorf("claims %+v", claims)
	}
	if len(*records) != 1 || (*records)[0].Grant != entra.GrantManagedIdentity || (*records)[0].ClientID != oneID {
		t.Errorf("records %+v", *records)
	}
}
