package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// AuthError is a failure to get a token, explained: which identity and credential failed, Entra
// ID's error code and description, and a hint that says what would fix it. It never holds a
// token, a secret or an assertion.
type AuthError struct {
	// Identity is the identity that failed, as identity.Identity.String prints it.
	Identity string
	// Method is the azidentity credential that was used, such as "ClientAssertionCredential".
	Method string
	// Code is the AADSTS error code, or 0 when Entra ID sent none (a network or IMDS failure).
	Code int
	// Description is Entra ID's error description, or the failure's own text.
	Description string
	// Hint says what to change, with a command where one helps.
	Hint string
	// Troubleshoot is the Azure SDK's troubleshooting page for the credential, when it has one.
	Troubleshoot string

	err error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("%s could not get a token for %s: %s", e.Method, e.Identity, e.Description)
	if e.Hint != "" {
		msg = strings.TrimRight(msg, " .") + ". " + e.Hint
	}
	if e.Troubleshoot != "" {
		msg = strings.TrimRight(msg, " .") + ". To troubleshoot, visit " + e.Troubleshoot
	}
	return msg
}

// troubleshootAnchors are the anchors of azidentity's troubleshooting guide, by credential.
var troubleshootAnchors = map[string]string{
	"ClientAssertionCredential":   "client-assertion",
	"ClientCertificateCredential": "client-cert",
	"ClientSecretCredential":      "client-secret",
	"ManagedIdentityCredential":   "managed-id",
	"WorkloadIdentityCredential":  "workload",
}

func troubleshootLink(method string) string {
	if anchor, ok := troubleshootAnchors[method]; ok {
		return "https://aka.ms/azsdk/go/identity/troubleshoot#" + anchor
	}
	return ""
}

// Unwrap returns azidentity's error.
func (e *AuthError) Unwrap() error { return e.err }

// entraError is the body of Entra ID's (and IMDS's) error answers.
type entraError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

// maxDescription bounds what an AuthError quotes of an answer that is not Entra ID's JSON (a
// proxy's or a gateway's page).
const maxDescription = 300

// newAuthError explains err, the failure of method for id. record is what the fetch sent and met:
// the federated assertion, if any (its issuer and subject go into the hint, never the assertion
// itself), and the transport's last error.
//
// Entra ID's answer is read from the response azidentity keeps (*azidentity.AuthenticationFailedError),
// never from its error text; a failure without an answer (a network error) keeps its whole cause.
func newAuthError(id identity.Identity, method string, err error, record *fetchRecord) *AuthError {
	e := &AuthError{Identity: id.String(), Method: method, Troubleshoot: troubleshootLink(method), err: err}
	presented, transportErr := record.get()
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil {
		e.Code, e.Description = describeResponse(failed.RawResponse)
	} else {
		e.Description = oneLine(err.Error())
		if strings.Contains(e.Description, e.Troubleshoot) {
			e.Troubleshoot = "" // azidentity's text has the link already
		}
	}
	e.Hint = hint(id, e.Code, presented)
	if e.Code == 0 && transportErr != nil && isCertificateError(transportErr) {
		e.Hint = "This process does not trust the certificate Entra ID (or a proxy on the way) presented: " +
			"give the CA that signs it with --ca-file or SSL_CERT_FILE, or fix the proxy's TLS inspection"
	}
	return e
}

// describeResponse reads Entra ID's error code and the first sentence group of its description
// (without the trace and correlation IDs), or the status and the start of any other body.
func describeResponse(resp *http.Response) (int, string) {
	body, err := runtime.Payload(resp)
	var answer entraError
	if err == nil && json.Unmarshal(body, &answer) == nil && (answer.Description != "" || answer.Error != "") {
		desc := answer.Description
		if desc == "" {
			desc = answer.Error
		}
		desc, _, _ = strings.Cut(desc, "\r\n")
		desc, _, _ = strings.Cut(desc, " Trace ID:")
		code := 0
		if len(answer.Codes) > 0 {
			code = answer.Codes[0]
		}
		return code, strings.TrimSpace(desc)
	}
	desc := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if text := oneLine(string(body)); text != "" {
		desc += ": " + truncate(text, maxDescription)
	}
	return 0, desc
}

// oneLine folds s onto one line, so a multi-line cause keeps every part.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// hint says, for each error Entra ID gives, what the user should change.
func hint(id identity.Identity, code int, presented string) string {
	switch code {
	case 70021, 700211, 700213, 700212:
		iss, sub := assertionIssuerSubject(presented)
		return fmt.Sprintf("Entra ID has no federated credential matching the token presented, issuer %q and subject %q with audience %q. "+
			"Add one to the identity with client ID %s: az identity federated-credential create --name %s --identity-name <identity name> --resource-group <resource group> --issuer %s --subject %s --audiences %s "+
			"(for an application: az ad app federated-credential create --id %s --parameters '{\"name\":\"%s\",\"issuer\":\"%s\",\"subject\":\"%s\",\"audiences\":[\"%s\"]}')",
			iss, sub, identity.ExchangeAudience, id.ClientID, credentialName(sub), iss, sub, identity.ExchangeAudience,
			id.ClientID, credentialName(sub), iss, sub, identity.ExchangeAudience)
	case 700016:
		return fmt.Sprintf("No application or managed identity with client ID %s exists in tenant %s: check the client ID (%s)", id.ClientID, id.TenantID, clientIDSource(id))
	case 90002:
		return fmt.Sprintf("Tenant %s does not exist: check the tenant ID (%s)", id.TenantID, tenantIDSource(id))
	case 7000215, 7000222:
		return fmt.Sprintf("The client secret is wrong or expired: create a new one with `az ad app credential reset --id %s` and update %s", id.ClientID, secretSource(id))
	case 700027, 700023:
		return fmt.Sprintf("The certificate is not registered with the application, or the assertion's signature is invalid: register it with `az ad app credential reset --id %s --cert @cert.pem --append`, or update %s", id.ClientID, secretSource(id))
	case 700024:
		return "The assertion is outside its valid time range: check the clocks of the cluster and the controller, and that the token file is refreshed"
	case 50027:
		return "The assertion is not a valid JWT: check the token file or the service account's token"
	case 50034, 500011:
		return "Check the scope: the service it names must exist in this tenant"
	}
	return ""
}

func credentialName(subject string) string {
	name := strings.NewReplacer("system:serviceaccount:", "", ":", "-").Replace(subject)
	if name == "" {
		return "azimuth"
	}
	return name
}

func clientIDSource(id identity.Identity) string {
	switch {
	case id.Kind == identity.WorkloadIdentity:
		return "annotation " + identity.ClientIDAnnotation + " of " + id.Source
	case id.Level == identity.ControllerLevel:
		return "AZURE_CLIENT_ID"
	}
	return "key clientId of " + id.Source
}

func tenantIDSource(id identity.Identity) string {
	switch {
	case id.Kind == identity.WorkloadIdentity:
		return "annotation " + identity.TenantIDAnnotation + " of " + id.Source
	case id.Level == identity.ControllerLevel:
		return "AZURE_TENANT_ID"
	}
	return "key tenantId of " + id.Source
}

func secretSource(id identity.Identity) string {
	if id.Level == identity.ControllerLevel {
		return "the controller's AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"
	}
	return id.Source
}

// assertionIssuerSubject reads iss and sub from a JWT without verifying it: they only explain an
// error Entra ID already gave.
func assertionIssuerSubject(jwt string) (iss, sub string) {
	var claims struct{ Iss, Sub string }
	if ReadClaims(jwt, &claims) != nil {
		return "<unknown>", "<unknown>"
	}
	return claims.Iss, claims.Sub
}

// RoleError is a service's refusal because the identity lacks a role at a scope.
type RoleError struct {
	Identity string
	// ClientID is the assignee for the command.
	ClientID string
	Role     string
	// Scope is the resource ID the role is needed at, or a shell expression that prints it.
	Scope string
	// ScopeName names the scope for people, such as "the registry myreg"; empty means Scope.
	ScopeName string
	// Service says who refused, such as "registry myreg.azurecr.io".
	Service string
}

func (e *RoleError) Error() string {
	where := e.ScopeName
	if where == "" {
		where = "scope " + e.Scope
	}
	return fmt.Sprintf("%s was refused by %s: it needs the role %q on %s. Grant it with: az role assignment create --assignee %s --role %q --scope %s",
		e.Identity, e.Service, e.Role, where, e.ClientID, e.Role, e.Scope)
}
