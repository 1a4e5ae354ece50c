package entra_test

import (
	"crypto/x509"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

type x509Cert = x509.Certificate

func itoa(n int) string { return strconv.Itoa(n) }

func directoryFC(name, issuer, subject string) directory.FederatedCredential {
	return directory.FederatedCredential{Name: name, Issuer: issuer, Subject: subject}
}

const login = "login.microsoftonline.com"

// TestErrorCodes provokes every AADSTS error the emulator returns and checks code, status, error
// kind and a telling part of the description.
func TestErrorCodes(t *testing.T) {
	f := newFixture(t)
	other := azuretest.NewKeyPair("not-registered", nil)
	now := f.clock.Now()
	tests := []struct {
		name       string
		host       string
		tenant     string
		form       func(t *testing.T) url.Values
		wantCode   int
		wantStatus int
		wantError  string
		wantText   string
	}{
		{"tenant not found", login, "00000000-0000-0000-0000-000000000009", func(*testing.T) url.Values { return form("client_id", secretApp, "client_secret", theSecret) },
			90002, 400, "invalid_tenant", "Tenant '00000000-0000-0000-0000-000000000009' not found"},
		{"tenant of another cloud", "login.microsoftonline.us", tenantID, func(*testing.T) url.Values { return form("client_id", secretApp, "client_secret", theSecret) },
			90002, 400, "invalid_tenant", "not found"},
		{"common tenant", login, "common", func(*testing.T) url.Values { return form("client_id", secretApp, "client_secret", theSecret) },
			50059, 400, "invalid_request", "No tenant-identifying information"},
		{"missing client_id", login, tenantID, func(*testing.T) url.Values { return form("client_secret", theSecret) },
			900144, 400, "invalid_request", "'client_id'"},
		{"unsupported grant", login, tenantID, func(*testing.T) url.Values { return form("grant_type", "password", "client_id", secretApp) },
			70003, 400, "unsupported_grant_type", "'password'"},
		{"scope without .default", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "https://vault.azure.net/user_impersonation")
		}, 1002012, 400, "invalid_scope", "must have a scope value with /.default"},
		{"two resources", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "https://vault.azure.net/.default https://storage.azure.com/.default")
		}, 28000, 400, "invalid_scope", "more than one resource"},
		{"unknown application", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", "0a0a0a0a-0000-4000-8000-000000000000", "client_secret", "x")
		},
			700016, 400, "unauthorized_client", "Application with identifier '0a0a0a0a-0000-4000-8000-000000000000' was not found in the directory 'Test Directory'"},
		{"no credential", login, tenantID, func(*testing.T) url.Values { return form("client_id", secretApp) },
			7000218, 401, "invalid_client", "'client_assertion' or 'client_secret'"},
		{"wrong secret", login, tenantID, func(*testing.T) url.Values { return form("client_id", secretApp, "client_secret", "nope") },
			7000215, 401, "invalid_client", "Invalid client secret provided"},
		{"secret for a managed identity", login, tenantID, func(*testing.T) url.Values { return form("client_id", miClient, "client_secret", "nope") },
			7000215, 401, "invalid_client", "Invalid client secret provided"},
		{"unknown resource", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "https://unknown.example/.default")
		}, 500011, 400, "invalid_resource", "The resource principal named https://unknown.example was not found"},
		{"malformed assertion", login, tenantID, func(*testing.T) url.Values { return assertionForm(certApp, "not-a-jwt") },
			50027, 400, "invalid_request", "JWT token is invalid or malformed"},
		{"no thumbprint", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{thumbprint: "none"}))
		}, 50027, 400, "invalid_request", "No certificate thumbprint"},
		{"assertion without jti", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{claims: map[string]any{"jti": nil}}))
		}, 50027, 400, "invalid_request", "'jti'"},
		{"assertion for another endpoint", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{claims: map[string]any{"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}}))
		}, 50027, 400, "invalid_request", "is not the token endpoint"},
		{"assertion subject is not its issuer", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{claims: map[string]any{"sub": "someone-else"}}))
		}, 50048, 400, "invalid_request", "Subject must match the issuer"},
		{"expired certificate assertion", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{claims: map[string]any{"nbf": now.Add(-time.Hour).Unix(), "exp": now.Add(-10 * time.Minute).Unix()}}))
		}, 700024, 401, "invalid_client", "Client assertion is not within its valid time range. Current time: 2026-11-24T12:00:00.0000000Z"},
		{"certificate assertion from the future", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{claims: map[string]any{"nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}}))
		}, 700024, 401, "invalid_client", "not within its valid time range"},
		{"unregistered certificate", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, other, certApp, assertion{}))
		}, 700027, 401, "invalid_client", "is not registered on application. [Reason - The key was not found."},
		{"signature by another key", login, tenantID, func(t *testing.T) url.Values {
			forged := azuretest.KeyPair{Key: other.Key, Cert: f.cert.Cert}
			return assertionForm(certApp, f.certAssertion(t, forged, certApp, assertion{alg: "RS256", thumbprint: "x5t"}))
		}, 700027, 401, "invalid_client", "Client assertion contains an invalid signature"},
		{"x5c to an app without subject name and issuer", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, other, certApp, assertion{x5c: []*x509Cert{other.Cert}}))
		}, 700027, 401, "invalid_client", "Alternatively, SNI may be configured on the app"},
		{"federated issuer not trusted", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(miClient, f.token(now, map[string]any{"iss": "https://unknown.example"}))
		}, 700211, 401, "invalid_client", "No matching federated identity record found for presented assertion issuer 'https://unknown.example'"},
		{"federated subject not trusted", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(miClient, f.token(now, map[string]any{"sub": "system:serviceaccount:other:sa", "aud": "api://custom"}))
		}, 700213, 401, "invalid_client", "presented assertion subject 'system:serviceaccount:other:sa'"},
		{"federated subject differs in case only", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(miClient, f.token(now, map[string]any{"sub": strings.ToUpper(subject), "aud": "api://custom"}))
		}, 7002138, 401, "invalid_client", "case-insensitive comparison"},
		{"federated audience not trusted", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(miClient, f.token(now, nil))
		}, 70021, 400, "invalid_request", "Assertion Audience: 'api://AzureADTokenExchange'"},
		{"federated app without credentials", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(secretApp, f.token(now, nil))
		}, 700211, 401, "invalid_client", "presented assertion issuer"},
		{"expired federated token", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(fedApp, f.token(now, map[string]any{"exp": now.Add(-time.Hour).Unix()}))
		}, 700024, 401, "invalid_client", "not within its valid time range"},
		{"federated token signed by another key", login, tenantID, func(t *testing.T) url.Values {
			tok := f.token(now, nil)
			forged := signJWT(t, "RS256", other.Key, map[string]any{"alg": "RS256", "kid": azuretest.IssuerKeyID}, azuretest.Claims(t, tok))
			return assertionForm(fedApp, forged)
		}, 50013, 401, "invalid_client", "Assertion failed signature validation"},
		{"federated token with an unknown kid", login, tenantID, func(t *testing.T) url.Values {
			forged := signJWT(t, "RS256", other.Key, map[string]any{"alg": "RS256", "kid": "nope"}, azuretest.Claims(t, f.token(now, nil)))
			return assertionForm(fedApp, forged)
		}, 50013, 401, "invalid_client", "The key was not found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.post(t, tt.host, tt.tenant, tt.form(t))
			if len(resp.Codes) != 1 || resp.Codes[0] != tt.wantCode {
				t.Fatalf("error_codes = %v, want [%d]; %s", resp.Codes, tt.wantCode, resp.Description)
			}
			if resp.Status != tt.wantStatus || resp.Error != tt.wantError {
				t.Errorf("status %d error %q, want %d %q", resp.Status, resp.Error, tt.wantStatus, tt.wantError)
			}
			prefix := "AADSTS" + itoa(tt.wantCode) + ": "
			if !strings.HasPrefix(resp.Description, prefix) || !strings.Contains(resp.Description, tt.wantText) {
				t.Errorf("description %q, want prefix %q and %q", resp.Description, prefix, tt.wantText)
			}
			if !strings.Contains(resp.Description, "Correlation ID: corr-1") || resp.Correlation != "corr-1" {
				t.Errorf("the client-request-id must come back as the correlation ID: %q", resp.Description)
			}
		})
	}
}

// TestIssuerUnreachable covers a federated credential whose issuer serves nothing.
func TestIssuerUnreachable(t *testing.T) {
	f := newFixture(t)
	if err := f.dir.AddFederatedCredential("fed-app", directoryFC("gone", "https://127.0.0.1:1", subject)); err != nil {
		t.Fatal(err)
	}
	tok := f.token(f.clock.Now(), map[string]any{"iss": "https://127.0.0.1:1"})
	resp := f.post(t, login, tenantID, assertionForm(fedApp, tok))
	if len(resp.Codes) != 1 || resp.Codes[0] != 50166 {
		t.Fatalf("error_codes = %v; %s", resp.Codes, resp.Description)
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	tests := []struct {
		name      string
		host      string
		tenant    string
		form      func(t *testing.T) url.Values
		wantAud   string
		wantIss   string
		wantOID   string
		wantGrant string
	}{
		{"secret, ARM", login, tenantID, func(*testing.T) url.Values { return form("client_id", secretApp, "client_secret", theSecret) },
			"https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", secretAppOID, entra.GrantClientSecret},
		{"tenant by domain", login, "contoso.onmicrosoft.com", func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "https://containerregistry.azure.net/.default")
		}, "https://containerregistry.azure.net", "https://sts.windows.net/" + tenantID + "/", secretAppOID, entra.GrantClientSecret},
		{"event hubs keeps the trailing slash", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "https://eventhubs.azure.net//.default")
		}, "https://eventhubs.azure.net/", "https://sts.windows.net/" + tenantID + "/", secretAppOID, entra.GrantClientSecret},
		{"azure devops by application ID", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "499b84ac-1321-427f-aa17-267ca6975798/.default")
		}, "499b84ac-1321-427f-aa17-267ca6975798", "https://sts.windows.net/" + tenantID + "/", secretAppOID, entra.GrantClientSecret},
		{"AKS server application", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", entra.AKSServerAppID+"/.default")
		}, "6dae42f8-4368-4678-94ff-3960e28e3630", "https://sts.windows.net/" + tenantID + "/", secretAppOID, entra.GrantClientSecret},
		{"storage account audience", login, tenantID, func(*testing.T) url.Values {
			return form("client_id", secretApp, "client_secret", theSecret, "scope", "https://acct.blob.core.windows.net/.default")
		}, "https://acct.blob.core.windows.net", "https://sts.windows.net/" + tenantID + "/", secretAppOID, entra.GrantClientSecret},
		{"certificate PS256 x5t#S256", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{}))
		}, "https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", "a49b25b5-7f74-44f9-95d8-414d037683ba", entra.GrantCertificate},
		{"certificate RS256 x5t, v1 endpoint audience", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{alg: "RS256", thumbprint: "x5t",
				claims: map[string]any{"aud": "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token"}}))
		}, "https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", "a49b25b5-7f74-44f9-95d8-414d037683ba", entra.GrantCertificate},
		{"registered certificate with x5c, no SN+I", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(certApp, f.certAssertion(t, f.cert, certApp, assertion{x5c: []*x509Cert{f.cert.Cert}}))
		}, "https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", "a49b25b5-7f74-44f9-95d8-414d037683ba", entra.GrantCertificate},
		{"subject name and issuer with a new certificate", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(sniApp, f.certAssertion(t, f.sniOther, sniApp, assertion{x5c: []*x509Cert{f.sniOther.Cert, f.sniCA.Cert}}))
		}, "https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", "94ce99f1-bcd9-44e3-bfa7-9456b532f506", entra.GrantCertificate},
		{"federated app", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(fedApp, f.token(now, nil))
		}, "https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", "4817e33f-6b74-4c56-b006-d543ddff26f0", entra.GrantFederated},
		{"federated managed identity, custom audience", login, tenantID, func(t *testing.T) url.Values {
			return assertionForm(miClient, f.token(now, map[string]any{"aud": "api://custom"}))
		}, "https://management.azure.com", "https://sts.windows.net/" + tenantID + "/", miOID, entra.GrantFederated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.post(t, tt.host, tt.tenant, tt.form(t))
			if resp.Status != 200 {
				t.Fatalf("status %d: %s", resp.Status, resp.Description)
			}
			if resp.TokenType != "Bearer" || resp.ExpiresIn != 3600 {
				t.Errorf("token_type %q expires_in %d", resp.TokenType, resp.ExpiresIn)
			}
			tok, err := jose.Parse(resp.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Header.Alg != "RS256" || tok.Header.Kid == "" {
				t.Errorf("header %+v", tok.Header)
			}
			exp, _ := tok.Time("exp")
			for claim, want := range map[string]string{"aud": tt.wantAud, "iss": tt.wantIss, "oid": tt.wantOID, "tid": tenantID, "ver": "1.0"} {
				if got := tok.String(claim); got != want {
					t.Errorf("%s = %q, want %q", claim, got, want)
				}
			}
			if !exp.Equal(now.Add(time.Hour)) {
				t.Errorf("exp = %v, want %v", exp, now.Add(time.Hour))
			}
			claims, err := f.srv.Verifier().Verify(resp.AccessToken, tt.wantAud)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims.ObjectID != tt.wantOID {
				t.Errorf("verified oid = %s", claims.ObjectID)
			}
			rec := <-f.records
			if rec.Grant != tt.wantGrant || rec.Status != 200 || rec.TenantID != tenantID || rec.Resource != tt.wantAud {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

func TestVerifier(t *testing.T) {
	f := newFixture(t)
	resp := f.post(t, login, tenantID, form("client_id", secretApp, "client_secret", theSecret, "scope", "https://vault.azure.net/.default"))
	if resp.Status != 200 {
		t.Fatal(resp.Description)
	}
	v := f.srv.Verifier()
	if _, err := v.Verify(resp.AccessToken, "https://vault.azure.net/"); err != nil {
		t.Errorf("a trailing slash on the expected audience must not matter: %v", err)
	}
	tests := []struct {
		name    string
		token   string
		aud     []string
		advance time.Duration
		want    string
	}{
		{"wrong audience", resp.AccessToken, []string{"https://storage.azure.com"}, 0, "audience"},
		{"no audience", resp.AccessToken, nil, 0, "no audience"},
		{"expired", resp.AccessToken, []string{"https://vault.azure.net"}, 2 * time.Hour, "expired"},
		{"tampered", resp.AccessToken[:len(resp.AccessToken)-4] + "AAAA", []string{"https://vault.azure.net"}, 0, "signature"},
		{"garbage", "x.y", []string{"https://vault.azure.net"}, 0, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Advance(tt.advance)
			defer f.clock.Advance(-tt.advance)
			_, err := v.Verify(tt.token, tt.aud...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Error("the error must not include the token")
			}
		})
	}
}

func TestSovereignClouds(t *testing.T) {
	dir, err := directory.Parse([]byte(`
tenants:
  - {id: ` + tenantID + `, cloud: AzureChina}
applications:
  - {name: app, clientId: ` + secretApp + `, principalId: ` + secretAppOID + `, clientSecrets: [{value: ` + theSecret + `}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := entra.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: srv, clock: newClock()}
	if resp := f.post(t, login, tenantID, form("client_id", secretApp, "client_secret", theSecret)); len(resp.Codes) == 0 || resp.Codes[0] != 90002 {
		t.Errorf("a China tenant must not answer on the public host: %+v", resp)
	}
	resp := f.post(t, "login.chinacloudapi.cn", tenantID, form("client_id", secretApp, "client_secret", theSecret, "scope", "https://management.chinacloudapi.cn/.default"))
	if resp.Status != 200 {
		t.Fatal(resp.Description)
	}
	tok, _ := jose.Parse(resp.AccessToken)
	if iss := tok.String("iss"); iss != "https://sts.chinacloudapi.cn/"+tenantID+"/" {
		t.Errorf("iss = %s", iss)
	}
	// The v1 discovery document names the issuer of the cloud's v1 tokens.
	if code, body := f.get(t, "https://login.chinacloudapi.cn/"+tenantID+"/.well-known/openid-configuration"); code != 200 ||
		body["issuer"] != tok.String("iss") || body["jwks_uri"] != "https://login.chinacloudapi.cn/"+tenantID+"/discovery/keys" {
		t.Errorf("v1 discovery in Azure China: %d %v", code, body)
	}
}
