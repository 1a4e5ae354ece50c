package entra

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// retryStatusCodes are the answers azcore retries by default; the rest are final.
var retryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// shouldRetry is azcore's retry rule, except that a certificate the process does not trust is
// final: retrying cannot make it trusted, and azcore's back-off would take 17 s to say so.
func shouldRetry(resp *http.Response, err error) bool {
	if err != nil {
		return !isCertificateError(err)
	}
	return runtime.HasStatusCode(resp, retryStatusCodes...)
}

// isCertificateError reports whether err is a TLS peer that this process does not trust.
func isCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// fetchRecord keeps what one fetch sent and met, to explain its failure: the federated
// assertion presented (its issuer and subject, never itself, go into hints) and the last error
// of the transport, whose type azidentity's errors do not keep.
type fetchRecord struct {
	mu           sync.Mutex
	assertion    string
	transportErr error
	// lastAnswer describes the last error answer, such as "HTTP 429 Too Many Requests
	// (Retry-After: 5)", for callers that stop waiting before the fetch ends.
	lastAnswer string
}

// last describes the last failure the fetch met, or "" if it met none.
func (r *fetchRecord) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.lastAnswer != "":
		return r.lastAnswer
	case r.transportErr != nil:
		return oneLine(r.transportErr.Error())
	}
	return ""
}

func (r *fetchRecord) presented(jwt string) { r.mu.Lock(); r.assertion = jwt; r.mu.Unlock() }

func (r *fetchRecord) get() (assertion string, transportErr error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.assertion, r.transportErr
}

// recordingTransport is the credential's HTTP client, noting transport errors in a fetchRecord.
type recordingTransport struct {
	client *http.Client
	record *fetchRecord
}

var _ policy.Transporter = recordingTransport{}

func (t recordingTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.client.Do(req)
	t.record.mu.Lock()
	defer t.record.mu.Unlock()
	switch {
	case err != nil:
		t.record.transportErr, t.record.lastAnswer = err, ""
	case resp.StatusCode >= 400:
		t.record.lastAnswer = fmt.Sprintf("HTTP %d %s from %s", resp.StatusCode, http.StatusText(resp.StatusCode), req.URL.Host)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			t.record.lastAnswer += " (Retry-After: " + ra + ")"
		}
	}
	return resp, err
}
