package entra

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// TestEntraErrorsAreExplained provokes each error of the local Entra ID through a resolved
// identity and checks that it becomes an *AuthError with the code, a hint that says what to do,
// and no secret.
func TestEntraErrorsAreExplained(t *testing.T) {
	la := local(t)
	const (
		wrongSecret = "wrong-s3cret-never-print-me"
		unknownApp  = "a2e0f000-0000-4000-8000-0000000000ff"
		unknownTen  = "a2e0f000-0000-4000-8000-0000000000fe"
	)
	// workload returns a setup for a service account acting as the managed identity clientID,
	// after federate has had its say.
	workload := func(clientID string, federate func(t *testing.T, ns string)) func(*testing.T, string) identity.Request {
		return func(t *testing.T, ns string) identity.Request {
			la.serviceAccount(t, ns, "source", clientID)
			federate(t, ns)
			return identity.Request{Namespace: ns, ServiceAccountName: "source"}
		}
	}
	bucket := func(data map[string]string) func(*testing.T, string) identity.Request {
		return func(t *testing.T, ns string) identity.Request {
			la.secret(t, ns, "azure", bytesOf(data))
			return identity.Request{Namespace: ns, SecretName: "azure"}
		}
	}
	federationHint := func(ns string) []string {
		return []string{"issuer \"" + la.env.IssuerURL + "\"", "subject \"system:serviceaccount:" + ns + ":source\"",
			"az identity federated-credential create", "--issuer " + la.env.IssuerURL, "--subject system:serviceaccount:" + ns + ":source"}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, ns string) identity.Request
		skew  time.Duration // of the local Azure's clock
		code  int
		// hint lists texts the hint must hold, given the test's namespace.
		hint func(ns string) []string
		// secrets must not appear in the error.
		secrets []string
	}{
		{
			name: "70021 audience matches no federated credential",
			setup: workload(wiAudience, func(t *testing.T, ns string) {
				la.federate(t, wiAudience, ns, "source", "api://SomethingElse")
			}),
			code: 70021, hint: federationHint,
		},
		{
			name:  "700211 no federated credential for the issuer",
			setup: workload(wiNone, func(*testing.T, string) {}),
			code:  700211, hint: federationHint,
		},
		{
			name: "700213 no federated credential for the subject",
			setup: workload(wiSubject, func(t *testing.T, ns string) {
				la.federate(t, wiSubject, ns, "another-account")
			}),
			code: 700213, hint: federationHint,
		},
		{
			name: "700024 assertion outside its validity",
			setup: workload(wiObject, func(t *testing.T, ns string) {
				la.federate(t, wiObject, ns, "source")
			}),
			// The service account token is at most a year old by Entra's (skewed) clock.
			skew: 2 * 366 * 24 * time.Hour,
			code: 700024, hint: func(string) []string { return []string{"The assertion is outside its valid time range", "clocks"} },
		},
		{
			name:  "7000215 wrong client secret",
			setup: bucket(map[string]string{"tenantId": tenantID, "clientId": secretApp, "clientSecret": wrongSecret}),
			code:  7000215,
			hint: func(ns string) []string {
				return []string{"az ad app credential reset --id " + secretApp, "secret " + ns + "/azure"}
			},
			secrets: []string{wrongSecret},
		},
		{
			name:  "700016 unknown client ID",
			setup: bucket(map[string]string{"tenantId": tenantID, "clientId": unknownApp, "clientSecret": appSecret}),
			code:  700016,
			hint: func(ns string) []string {
				return []string{"client ID " + unknownApp, "tenant " + tenantID, "key clientId of secret " + ns + "/azure"}
			},
			secrets: []string{appSecret},
		},
		{
			name:  "90002 unknown tenant",
			setup: bucket(map[string]string{"tenantId": unknownTen, "clientId": secretApp, "clientSecret": appSecret}),
			code:  90002,
			hint: func(ns string) []string {
				return []string{"Tenant " + unknownTen + " does not exist", "key tenantId of secret " + ns + "/azure"}
			},
			secrets: []string{appSecret},
		},
		{
			name:  "700027 certificate not registered",
			setup: bucket(map[string]string{"tenantId": tenantID, "clientId": certApp, "clientCertificate": string(la.strangerPEM)}),
			code:  700027,
			hint: func(ns string) []string {
				return []string{"az ad app credential reset --id " + certApp + " --cert", "secret " + ns + "/azure"}
			},
			secrets: []string{"PRIVATE KEY"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := la.namespace(t)
			req := tc.setup(t, ns)
			la.skewClock(t, tc.skew)
			r := la.resolver(t, identity.Options{ObjectLevelWorkloadIdentity: true}, nil)
			p := la.provider(nil)
			cred := credential(t, p, la.resolve(t, r, req), nil)
			err := getToken(t.Context(), cred, ContainerRegistryScope)
			var authErr *AuthError
			if !errors.As(err, &authErr) {
				t.Fatalf("err = %v, want an *AuthError", err)
			}
			if authErr.Code != tc.code || authErr.Method != cred.Method() || authErr.Identity != cred.Identity().String() {
				t.Errorf("code %d, method %s, identity %s; want %d, %s, %s", authErr.Code, authErr.Method, authErr.Identity, tc.code, cred.Method(), cred.Identity())
			}
			msg := err.Error()
			if want := "AADSTS" + strconv.Itoa(tc.code) + ":"; !strings.Contains(authErr.Description, want) {
				t.Errorf("description %q lacks %q", authErr.Description, want)
			}
			for _, want := range tc.hint(ns) {
				if !strings.Contains(authErr.Hint, want) || !strings.Contains(msg, want) {
					t.Errorf("hint lacks %q:\n%s", want, authErr.Hint)
				}
			}
			for _, secret := range append(tc.secrets, "eyJ") { // eyJ starts every JWT
				if strings.Contains(msg, secret) {
					t.Errorf("the error holds secret material %q:\n%s", secret, msg)
				}
			}
			if n := testutil.ToFloat64(p.metrics.fetches.WithLabelValues("failure", strconv.Itoa(tc.code))); n != 1 {
				t.Errorf("failed fetches with aadsts=%d: %v, want 1", tc.code, n)
			}
			// A failure is not cached: the next call asks Entra ID again.
			if err := getToken(t.Context(), cred, ContainerRegistryScope); err == nil {
				t.Fatal("the second attempt succeeded")
			}
			if n := testutil.ToFloat64(p.metrics.fetches.WithLabelValues("failure", strconv.Itoa(tc.code))); n != 2 {
				t.Errorf("after a second attempt, failed fetches = %v, want 2", n)
			}
			if hits := testutil.ToFloat64(p.metrics.hits); hits != 0 {
				t.Errorf("cache hits = %v: a failure was served from the cache", hits)
			}
		})
	}
}
