package blob

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Headers of Azure Storage's answers.
const (
	headerErrorCode = "x-ms-error-code"
	headerRequestID = "x-ms-request-id"
	// serverHeader is what Azure Storage's front ends call themselves.
	serverHeader = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"
)

// Error codes the gateway answers with itself, or puts in place of Azurite's (see translate);
// every other answer is Azurite's.
const (
	CodeInvalidAuthenticationInfo       = "InvalidAuthenticationInfo"
	CodeAuthenticationFailed            = "AuthenticationFailed"
	CodeAuthorizationPermissionMismatch = "AuthorizationPermissionMismatch"
	CodeResourceNotFound                = "ResourceNotFound"
	CodeInternalError                   = "InternalError"
	CodeNotImplemented                  = "NotImplemented"
)

// storageError is a refusal in Azure Storage's form: an HTTP status, x-ms-error-code, and the XML
// body <Error><Code/><Message/>[<AuthenticationErrorDetail/>]</Error>, whose message ends with the
// request ID and time.
type storageError struct {
	status  int
	code    string
	message string
	detail  string // AuthenticationErrorDetail, for the 401s
}

// Azure Storage's messages.
const (
	msgAuthenticate         = "Server failed to authenticate the request. Please refer to the information in the www-authenticate header."
	msgAuthenticationFailed = "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature."
	msgPermission           = "This request is not authorized to perform this operation using this permission."
)

// AuthenticationErrorDetail of the 401s: Microsoft.IdentityModel's words, which Azure Storage
// passes on without their IDX numbers.
const (
	detailExpired     = "Lifetime validation failed. The token is expired."
	detailNotYetValid = "Lifetime validation failed. The token is not yet valid."
	detailAudience    = "Audience validation failed. Audience did not match."
	detailIssuer      = "Issuer validation failed. Issuer did not match."
	detailMalformed   = "JWT is not well formed."
	detailSignature   = "Signature validation failed. Signature is invalid."
	// Azure adds the signature and the string it signed, which Azurite does not tell.
	detailSharedKey = "The MAC signature found in the HTTP request is not the same as any computed signature."
	detailSAS       = "Signature did not match, or the signature is not valid at this time."
)

func unauthenticated(detail string) *storageError {
	return &storageError{status: http.StatusUnauthorized, code: CodeInvalidAuthenticationInfo, message: msgAuthenticate, detail: detail}
}

func errUnknownKey(kid string) *storageError {
	return unauthenticated(fmt.Sprintf("Signature validation failed. Unable to match key: kid: '%s'.", kid))
}

func errPermission() *storageError {
	return &storageError{status: http.StatusForbidden, code: CodeAuthorizationPermissionMismatch, message: msgPermission}
}

func errNoAccount(host string) *storageError {
	name := strings.TrimSuffix(host, Suffix)
	return &storageError{status: http.StatusNotFound, code: CodeResourceNotFound, message: fmt.Sprintf(
		"The specified resource does not exist. No storage account '%s' is declared in the local Azure's directory (resources.storageAccounts); an account NAME is served as https://NAME%s. In Azure this name would not resolve.",
		name, Suffix)}
}

func errAzurite(err error) *storageError {
	return &storageError{status: http.StatusBadGateway, code: CodeInternalError, message: "The local Blob service (Azurite) did not answer: " + err.Error()}
}

// errNotStarted answers for the blob hosts of a local Azure that was started without Blob.
var errNotStarted = &storageError{status: http.StatusNotImplemented, code: CodeNotImplemented, message: "Blob Storage is not running in this local Azure: Azurite starts only when asked (azurelocal.Options.Blob; `azimuth dev up` starts it)."}

// xmlText escapes the characters XML text may not hold as they are. Newlines stay as they are,
// as Azure writes them in its messages.
var xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// write answers e as Azure Storage does. challenge, when set, is the 401's WWW-Authenticate.
func (e *storageError) write(w http.ResponseWriter, r *http.Request, challenge string) {
	id := newRequestID()
	h := w.Header()
	e.setHeaders(h, id)
	if v := r.Header.Get("x-ms-version"); v != "" {
		h.Set("x-ms-version", v)
	}
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		w.Write([]byte(e.body(id)))
	}
}

func (e *storageError) setHeaders(h http.Header, requestID string) {
	h.Set("Content-Type", "application/xml")
	h.Set("Server", serverHeader)
	h.Set(headerErrorCode, e.code)
	h.Set(headerRequestID, requestID)
}

// body is the XML of the refusal; its message ends with the request ID and the time.
func (e *storageError) body(requestID string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Error><Code>`)
	b.WriteString(e.code)
	b.WriteString(`</Code><Message>`)
	b.WriteString(xmlText.Replace(e.message))
	fmt.Fprintf(&b, "\nRequestId:%s\nTime:%s</Message>", requestID, time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z"))
	if e.detail != "" {
		b.WriteString("<AuthenticationErrorDetail>" + xmlText.Replace(e.detail) + "</AuthenticationErrorDetail>")
	}
	b.WriteString("</Error>")
	return b.String()
}

// translate replaces the answers in which Azurite departs from Azure: a shared key signature that
// matches neither key (Azurite: 400 InvalidAuthenticationInfo, from its token check, which runs
// last) and a SAS whose signature does not match or whose time is up (Azurite: 403
// AuthorizationFailure) are 403 AuthenticationFailed in Azure. Azurite's request ID is kept.
func translate(resp *http.Response) error {
	code := resp.Header.Get(headerErrorCode)
	var detail string
	switch kind := authKind(resp.Request); {
	case kind == AuthSharedKey && resp.StatusCode == http.StatusBadRequest && code == "InvalidAuthenticationInfo":
		detail = detailSharedKey
	case kind == AuthSAS && resp.StatusCode == http.StatusForbidden && code == "AuthorizationFailure":
		detail = detailSAS
	default:
		return nil
	}
	e := &storageError{status: http.StatusForbidden, code: CodeAuthenticationFailed, message: msgAuthenticationFailed, detail: detail}
	id := resp.Header.Get(headerRequestID)
	if id == "" {
		id = newRequestID()
	}
	body := e.body(id)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.StatusCode, resp.Status = e.status, "403 Forbidden"
	e.setHeaders(resp.Header, id)
	return nil
}

// newRequestID returns a random UUID, as Azure Storage's x-ms-request-id.
func newRequestID() string { return uuid.NewString() }
