package notify

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// sender delivers an event to one endpoint.
type sender interface {
	send(ctx context.Context, e Event) error
}

// HTTPError is an endpoint's answer other than 2xx. It quotes the start of the body, never the
// endpoint's URL (a webhook URL is a secret).
type HTTPError struct {
	StatusCode int
	Body       string
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("the endpoint answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("the endpoint answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Body)
}

// Temporary is true for answers a retry may change: throttling, timeouts, server errors.
func (e *HTTPError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

// maxAnswer bounds what is read of an endpoint's answer.
const maxAnswer = 4 << 10

// post sends body to address with the headers, and reads the answer. Errors name the endpoint by
// scheme and host only.
func post(ctx context.Context, client *http.Client, address string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, bytes.NewReader(body))
	if err != nil {
		return redactURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return redactURL(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &HTTPError{StatusCode: resp.StatusCode, Body: clip.String(strings.TrimSpace(string(data)), 300)}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}

// redactURL replaces the URL in a *url.Error by its scheme and host: webhook URLs carry their
// credential in the path or the query.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = u.Scheme + "://" + u.Host + "/[redacted]"
		} else {
			ue.URL = "[redacted]"
		}
	}
	return err
}

// retryable reports whether a failed delivery may succeed if tried again: throttling, timeouts,
// server errors, a connection refused or reset, an Entra ID that did not answer. A refusal (4xx),
// an invalid configuration and an untrusted certificate are not.
func retryable(err error) bool {
	var terminal interface{ Terminal() bool }
	if errors.As(err, &terminal) && terminal.Terminal() {
		return false
	}
	var cert *x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &cert) || errors.As(err, &host) || errors.As(err, &invalid) {
		return false
	}
	var ne net.Error // *url.Error among them: the request did not get an answer
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var answer interface{ Temporary() bool } // an HTTP answer: HTTPError, devops.StatusError
	if errors.As(err, &answer) {
		return answer.Temporary()
	}
	var auth *entra.AuthError
	if errors.As(err, &auth) {
		return auth.Code == 0 // Entra ID answered nothing: a network failure
	}
	return false
}

// retryAfter is the wait an endpoint asked for, or zero.
func retryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	var ra interface{ retryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.retryAfter()
	}
	return 0
}

// terminalError is a configuration error: retrying cannot fix it until the Provider, its secret
// or the controller's flags change.
type terminalError struct{ error }

func (terminalError) Terminal() bool  { return true }
func (e terminalError) Unwrap() error { return e.error }

func terminalf(format string, args ...any) error {
	return terminalError{fmt.Errorf(format, args...)}
}
