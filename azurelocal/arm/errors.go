package arm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// armError is a refusal in ARM's form: an HTTP status and {"error":{"code":...,"message":...}}.
type armError struct {
	status  int
	code    string
	message string
}

func (e *armError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *armError {
	return &armError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// The audiences ARM accepts, as its refusal lists them.
var audiences = []string{
	"https://management.core.windows.net/",
	"https://management.core.windows.net",
	"https://management.azure.com/",
	"https://management.azure.com",
}

func errMissingHeader() *armError {
	return newError(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
}

func errHeaderFormat() *armError {
	return newError(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.")
}

func errInvalidToken() *armError {
	return newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
}

func errExpiredToken(expiry, now string) *armError {
	return newError(http.StatusUnauthorized, "ExpiredAuthenticationToken",
		"The access token expiry UTC time '%s' is earlier than current UTC time '%s'.", expiry, now)
}

func errAudience(aud string) *armError {
	return newError(http.StatusUnauthorized, "InvalidAuthenticationTokenAudience",
		"The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences '%s'.",
		aud, strings.Join(audiences, "','"))
}

func errWrongTenant(issuer, tenant string) *armError {
	return newError(http.StatusUnauthorized, "InvalidAuthenticationTokenTenant",
		"The access token is from the wrong issuer '%s'. It must match the tenant 'https://sts.windows.net/%s/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/%s' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
		issuer, tenant, tenant)
}

// errAuthorization is ARM's 403: the caller, the action and the full ID of what was asked.
func errAuthorization(c caller, action, scope string) *armError {
	return newError(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		c.objectID, c.objectID, action, scope)
}

func errMissingAPIVersion() *armError {
	return newError(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
}

func errAPIVersion(got string, supported []string) *armError {
	return newError(http.StatusBadRequest, "InvalidApiVersionParameter",
		"The api-version '%s' is invalid. The supported versions are '%s'.", got, strings.Join(supported, ","))
}

func errSubscriptionNotFound(id string) *armError {
	return newError(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", id)
}

func errResourceGroupNotFound(name string) *armError {
	return newError(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", name)
}

func errResourceNotFound(resourceType, name, group string) *armError {
	return newError(http.StatusNotFound, "ResourceNotFound",
		"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		resourceType, name, group)
}

// errManagementGroupNotFound is the emulator's words; ARM answers an unknown management group
// as one the caller may not read.
func errManagementGroupNotFound(name string) *armError {
	return newError(http.StatusNotFound, "ManagementGroupNotFound",
		"The management group '%s' could not be found. Declare it in the directory file's managementGroups.", name)
}

func errInvalidContent(detail string) *armError {
	return newError(http.StatusBadRequest, "InvalidRequestContent",
		"The request content was invalid and could not be deserialized: '%s'.", detail)
}

func errBadRequest(format string, args ...any) *armError {
	return newError(http.StatusBadRequest, "BadRequest", format, args...)
}

// errNotEmulated answers what this emulator does not serve, naming what it does.
func errNotEmulated(method, path string) *armError {
	return newError(http.StatusNotImplemented, "NotImplemented",
		"The local Azure Resource Manager does not emulate %s %s. It serves role assignments, role definitions, user-assigned identities with their federated credentials, AKS clusters (read) with their user credentials, and the list of a subscription's resources; see the documentation of azurelocal/arm.",
		method, path)
}

func errMethod(method string) *armError {
	return newError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '%s'.", method)
}

func errInternal(err error) *armError {
	return newError(http.StatusInternalServerError, "InternalServerError", "The local Azure Resource Manager failed: %v", err)
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers e; a 401 carries ARM's challenge, which names the error for the SDK.
func writeError(w http.ResponseWriter, r *http.Request, e *armError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(
			`Bearer authorization_uri="https://login.microsoftonline.com/", error="invalid_token", error_description="%s"`,
			strings.ReplaceAll(e.message, `"`, "'")))
	}
	var b errorBody
	b.Error.Code, b.Error.Message = e.code, e.message
	writeJSON(w, r, e.status, b)
}

// writeJSON answers body with the headers ARM sends with every answer.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"encode the answer"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "-1")
	h.Set("X-Content-Type-Options", "nosniff")
	id := newUUID()
	h.Set("x-ms-request-id", id)
	h.Set("x-ms-correlation-request-id", id)
	if cid := r.Header.Get("x-ms-client-request-id"); cid != "" && len(cid) <= 256 {
		h.Set("x-ms-client-request-id", cid)
	}
	w.WriteHeader(status)
	w.Write(data)
}

// newUUID returns a random version 4 UUID.
func newUUID() string { return uuid.NewString() }
