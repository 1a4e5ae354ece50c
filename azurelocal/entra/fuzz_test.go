package entra_test

import (
	"testing"
	"time"
)

// FuzzClientAssertion sends arbitrary client assertions to the token endpoint, for a certificate
// application and a federated managed identity. Whatever the input, the answer must be one of
// Entra's JSON errors: never a token, never a server error.
func FuzzClientAssertion(f *testing.F) {
	f.Add("not-a-jwt", true)
	f.Add("eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiI4ODI0OTBiMy1mMDQxLTQzOGUtODgyZS1kMGIzMzdkYmI0ZGEifQ.c2ln", true)
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6Imlzc3Vlci1rZXktMSJ9.eyJpc3MiOiJodHRwczovL3giLCJzdWIiOiJzIiwiYXVkIjoiYSJ9.c2ln", false)
	f.Add("eyJhbGciOiJQUzI1NiIsIng1YyI6WyJBQUFBIl19.eyJpc3MiOiI4ODI0OTBiMy1mMDQxLTQzOGUtODgyZS1kMGIzMzdkYmI0ZGEifQ.", true)
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, assertion string, certificate bool) {
		client := miClient
		if certificate {
			client = certApp
		}
		resp := fx.post(t, login, tenantID, assertionForm(client, assertion))
		if resp.Status == 200 || resp.Status >= 500 || len(resp.Codes) != 1 {
			t.Fatalf("assertion %q: status %d codes %v %s", assertion, resp.Status, resp.Codes, resp.Description)
		}
		// Drain the observer so the fixture's channel never fills.
		select {
		case <-fx.records:
		case <-time.After(time.Second):
			t.Fatal("no record for the request")
		}
	})
}
