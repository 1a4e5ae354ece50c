package keyvault

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// kvError is a refusal in Key Vault's form: an HTTP status and the body
// {"error":{"code":...,"message":...,"innererror":{"code":...}}}.
type kvError struct {
	status  int
	code    string
	message string
	inner   string // innererror.code, when Key Vault sends one
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError *innerCode `json:"innererror,omitempty"`
}

type innerCode struct {
	Code string `json:"code"`
}

func (e *kvError) body() errorBody {
	b := errorBody{Error: errorDetail{Code: e.code, Message: e.message}}
	if e.inner != "" {
		b.Error.InnerError = &innerCode{Code: e.inner}
	}
	return b
}

// Key Vault's 401 messages. The S2S codes are the token validator's, which Key Vault passes on in
// brackets; the not-yet-valid message is Managed HSM's, the only one published.
const (
	msgMissingToken     = "AKV10000: Request is missing a Bearer or PoP token."
	msgUnreadableToken  = "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'."
	msgTokenExpired     = "[TokenExpired] Error validating token: 'S2S12086'."
	msgTokenNotYetValid = "Token not yet valid."
)

func unauthorized(message string) *kvError {
	return &kvError{status: http.StatusUnauthorized, code: "Unauthorized", message: message}
}

func errUnknownSigningKey(encodedHeader string) *kvError {
	return unauthorized(fmt.Sprintf("AKV10046: Unable to resolve the key used for signature validation. EncodedJwtHeader: '%s'.", encodedHeader))
}

func errAudience(found string) *kvError {
	return unauthorized(fmt.Sprintf("AKV10022: Invalid audience. Expected %s or %s, found: %s.", Resource, ApplicationID, found))
}

func errIssuer(expected []string, found string) *kvError {
	return unauthorized(fmt.Sprintf("AKV10032: Invalid issuer. Expected one of %s, found %s.", strings.Join(expected, ", "), found))
}

func badParameter(message string) *kvError {
	return &kvError{status: http.StatusBadRequest, code: "BadParameter", message: message}
}

func errAPIVersion(v string) *kvError {
	if v == "" {
		return badParameter(fmt.Sprintf("The api-version query parameter is missing. Consider using the latest supported version (%s).", APIVersion))
	}
	return badParameter(fmt.Sprintf("The specified version (%s) is not recognized. Consider using the latest supported version (%s).", v, APIVersion))
}

func errKeyNotFound(nameOrID string) *kvError {
	return &kvError{status: http.StatusNotFound, code: "KeyNotFound", message: fmt.Sprintf(
		"A key with (name/id) %s was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182", nameOrID)}
}

func errInvalidName(name string) *kvError {
	return badParameter("The request URI contains an invalid name: " + name)
}

// errRBAC is Key Vault's refusal for a vault of the rbac model when no role grants the action.
func errRBAC(c caller, action, resourceID string, v vault) *kvError {
	return &kvError{status: http.StatusForbidden, code: "Forbidden", inner: "ForbiddenByRbac", message: fmt.Sprintf(
		"Caller is not authorized to perform action on resource.\r\n"+
			"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n"+
			"Caller: %s\r\nAction: '%s'\r\nResource: '%s'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\n"+
			"DecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: %s;location=%s\r\n",
		c, action, strings.ToLower(resourceID), v.name, v.location)}
}

// errAccessPolicy is Key Vault's refusal for a vault of the access-policy model.
func errAccessPolicy(c caller, permission string, v vault) *kvError {
	return &kvError{status: http.StatusForbidden, code: "Forbidden", inner: "AccessDenied", message: fmt.Sprintf(
		"The user, group or application '%s' does not have keys %s permission on key vault '%s;location=%s'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
		c, permission, v.name, v.location)}
}

func errKeyOperation(op string) *kvError {
	return &kvError{status: http.StatusForbidden, code: "Forbidden", inner: "KeyOperationForbidden",
		message: fmt.Sprintf("Operation %s is not permitted on this key.", op)}
}

// errNotEmulated answers the parts of Key Vault's API this emulator does not serve.
func errNotEmulated(method, path string) *kvError {
	return &kvError{status: http.StatusNotImplemented, code: "NotImplemented", message: fmt.Sprintf(
		"The local Key Vault does not emulate %s %s: it serves keys only (create, get, list, list versions, encrypt, decrypt, wrapkey, unwrapkey). See the documentation of azurelocal/keyvault.", method, path)}
}

func errInternal(err error) *kvError {
	return &kvError{status: http.StatusInternalServerError, code: "InternalError", message: "The local Key Vault failed: " + err.Error()}
}

// writeJSON answers v with the headers Key Vault sends with every answer.
func writeJSON(w http.ResponseWriter, r *http.Request, v vault, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalError","message":"encode the answer"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "-1")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("x-ms-request-id", newRequestID())
	if v.location != "" {
		h.Set("x-ms-keyvault-region", v.location)
	}
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}
	w.WriteHeader(status)
	w.Write(data)
}

// newRequestID returns a random UUID, as Key Vault's x-ms-request-id.
func newRequestID() string { return uuid.NewString() }

// newVersion returns a key version: 32 lower-case hexadecimal digits, as Key Vault makes them.
func newVersion() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
