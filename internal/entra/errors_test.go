package entra

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// response is an answer of Entra ID as azidentity keeps it.
func response(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(strings.NewReader(body)),
		Request: &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "https", Host: "login.microsoftonline.com", Path: "/t/oauth2/v2.0/token"}}}
}

// TestNewAuthErrorReadsEntraResponse: the code and description come from Entra ID's answer as
// azidentity keeps it (its JSON body, escapes decoded), not from azidentity's error text.
func TestNewAuthErrorReadsEntraResponse(t *testing.T) {
	id := identity.Identity{Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: "t", ClientID: "c", Source: "secret ns/azure"}
	body := `{"error":"invalid_client","error_description":"AADSTS700027: see https://example.com/?view=1\u0026tabs=http for keys.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[700027]}`
	err := fmt.Errorf("wrapped: %w", &azidentity.AuthenticationFailedError{RawResponse: response(401, body)})
	e := newAuthError(id, "ClientSecretCredential", err, &fetchRecord{})
	if e.Code != 700027 {
		t.Fatalf("code = %d", e.Code)
	}
	if want := "AADSTS700027: see https://example.com/?view=1&tabs=http for keys."; e.Description != want {
		t.Errorf("description = %q, want %q", e.Description, want)
	}
	if msg := e.Error(); strings.Contains(msg, "..") || !strings.Contains(msg, "for keys. The certificate") {
		t.Errorf("message %q: want one period between the description and the hint", msg)
	}
	if !strings.HasSuffix(e.Error(), "To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#client-secret") {
		t.Errorf("message %q lacks the troubleshooting link", e.Error())
	}
	if !errors.Is(e, err) {
		t.Error("the AuthError does not wrap azidentity's error")
	}

	// An answer that is not Entra ID's (a proxy's page) is quoted by status and a bounded start.
	page := "<html>" + strings.Repeat("bad gateway ", 100) + "</html>"
	e = newAuthError(id, "ClientSecretCredential", &azidentity.AuthenticationFailedError{RawResponse: response(502, page)}, &fetchRecord{})
	if e.Code != 0 || !strings.HasPrefix(e.Description, "HTTP 502 Bad Gateway: <html>bad gateway") || len(e.Description) > maxDescription+40 {
		t.Errorf("a proxy's page: code %d, description %q", e.Code, e.Description)
	}

	// A failure with no answer keeps its whole cause, on one line.
	e = newAuthError(id, "ClientSecretCredential", errors.New("Post \"https://login.microsoftonline.com/t\":\nproxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused"), &fetchRecord{})
	if !strings.Contains(e.Description, "proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused") {
		t.Errorf("a network failure lost its cause: %q", e.Description)
	}
}
