package entra

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// aadError is an error response in Entra's format. Code is the AADSTS number; Message is the text
// after "AADSTSnnnn: ".
type aadError struct {
	Status  int
	Error   string
	Code    int
	Message string
}

func newError(status int, kind string, code int, format string, args ...any) *aadError {
	return &aadError{Status: status, Error: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Entra's errors, with its wording. The federated credential texts come from live Entra answers;
// where Entra's exact text is unknown the message keeps its style and says what is wrong.
func errTenantNotFound(tenant string) *aadError {
	return newError(400, "invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errNoTenant() *aadError {
	return newError(400, "invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
}

func errMissingParameter(name string) *aadError {
	return newError(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

func errUnsupportedGrant(grant string) *aadError {
	return newError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
}

func errApplicationNotFound(clientID, tenantName string) *aadError {
	return newError(400, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantName)
}

func errNoCredential() *aadError {
	return newError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errInvalidSecret(clientID string) *aadError {
	return newError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
}

func errAssertionType(value string) *aadError {
	return newError(400, "invalid_request", 50027, "Invalid client_assertion_type '%s'; the only supported type is '%s'.", value, jwtBearer)
}

func errScopeNotDefault(scope string) *aadError {
	return newError(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)
}

func errManyResources(scope string) *aadError {
	return newError(400, "invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", scope)
}

func errResourceNotFound(resource, tenant string) *aadError {
	return newError(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant)
}

func errMalformedJWT(detail string) *aadError {
	if detail == "" {
		return newError(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
	}
	return newError(400, "invalid_request", 50027, "Invalid JWT token. %s", detail)
}

func errSubjectNotIssuer() *aadError {
	return newError(400, "invalid_request", 50048, "Subject must match the issuer claim in the client assertion.")
}

func errAssertionTime(now, from, until time.Time) *aadError {
	const layout = "2006-01-02T15:04:05.0000000Z"
	return newError(401, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
		now.UTC().Format(layout), from.UTC().Format(layout), until.UTC().Format(layout))
}

func errKeyNotFound(thumbprint, clientID string, sniHint bool) *aadError {
	e := newError(401, "invalid_client", 700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s'].", thumbprint, clientID, clientID)
	if sniHint {
		e.Message += " Alternatively, SNI may be configured on the app. Please ensure that client assertion is being sent with the x5c claim in the JWT header using MSAL's WithSendX5C() method so that Azure Active Directory can validate the certificate being used."
	}
	return e
}

func errBadSignature(thumbprint string, start, end time.Time) *aadError {
	const layout = "01/02/2006 15:04:05"
	return newError(401, "invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '%s', Found key 'Start=%s, End=%s']", thumbprint, start.UTC().Format(layout), end.UTC().Format(layout))
}

const ficDocs = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"

func errNoMatchingRecord(issuer, subject string, audiences []string) *aadError {
	return newError(400, "invalid_request", 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. %s", issuer, subject, strings.Join(audiences, ","), ficDocs)
}

func errNoIssuerRecord(issuer string) *aadError {
	return newError(401, "invalid_client", 700211, "No matching federated identity record found for presented assertion issuer '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. %s", issuer, ficDocs)
}

func errNoSubjectRecord(subject string, caseOnly bool) *aadError {
	if caseOnly {
		return newError(401, "invalid_client", 7002138, "No matching federated identity record found for presented assertion subject '%s'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: %s.", subject, ficDocs)
	}
	return newError(401, "invalid_client", 700213, "No matching federated identity record found for presented assertion subject '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. %s", subject, ficDocs)
}

func errIssuerUnreachable(issuer string, cause error) *aadError {
	return newError(400, "invalid_request", 50166, "Request to External OIDC endpoint failed. Issuer '%s': %v", issuer, cause)
}

func errAssertionSignature(reason, kid string) *aadError {
	return newError(401, "invalid_client", 50013, "Assertion failed signature validation. [Reason - %s, Thumbprint of key used by client: '%s']", reason, kid)
}

// errorBody is Entra's error JSON.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// writeError answers with e in Entra's format: the description ends with the trace ID,
// correlation ID and timestamp, as Entra's does.
func writeError(w http.ResponseWriter, host string, now time.Time, correlationID string, e *aadError) {
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	trace := newUUID()
	body := errorBody{
		Error: e.Error,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			e.Code, e.Message, trace, correlationID, ts),
		ErrorCodes:    []int{e.Code},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: correlationID,
		ErrorURI:      fmt.Sprintf("https://%s/error?code=%d", host, e.Code),
	}
	w.Header().Set("x-ms-request-id", trace)
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
