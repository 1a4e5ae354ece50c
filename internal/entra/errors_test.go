package entra

import (
	"errors"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// TestNewAuthErrorReadsAzidentityText checks the parsing of the text azidentity gives, which
// quotes Entra ID's JSON body as it came.
func TestNewAuthErrorReadsAzidentityText(t *testing.T) {
	id := identity.Identity{Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: "t", ClientID: "c", Source: "secret ns/azure"}
	body := `{"error":"invalid_client","error_description":"AADSTS700027: see https://example.com/?view=1\u0026tabs=http for keys. Trace ID: 1 Correlation ID: 2","error_codes":[700027]}`
	err := errors.New("ClientSecretCredential: authentication failed\nPOST https://login.microsoftonline.com/t/oauth2/v2.0/token\n" +
		"--------------------------------------------------------------------------------\nRESPONSE 401: 401 Unauthorized\n" +
		"--------------------------------------------------------------------------------\n" + body + "\n" +
		"--------------------------------------------------------------------------------\n")
	e := newAuthError(id, "ClientSecretCredential", err, "")
	if e.Code != 700027 {
		t.Fatalf("code = %d", e.Code)
	}
	if want := "AADSTS700027: see https://example.com/?view=1&tabs=http for keys."; e.Description != want {
		t.Errorf("description = %q, want %q", e.Description, want)
	}
	if msg := e.Error(); strings.Contains(msg, "..") || !strings.Contains(msg, "for keys. The certificate") {
		t.Errorf("message %q: want one period between the description and the hint", msg)
	}
	if !errors.Is(e, err) {
		t.Error("the AuthError does not wrap azidentity's error")
	}
}

func TestUnescapeJSON(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:             `plain`,
		`a\u0026b \/ \"q\"`: `a&b / "q"`,
		`broken \`:          `broken \`,
		`bad \x escape`:     `bad \x escape`,
	} {
		if got := unescapeJSON(in); got != want {
			t.Errorf("unescapeJSON(%q) = %q, want %q", in, got, want)
		}
	}
}
