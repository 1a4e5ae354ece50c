package entra

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"testing"
)

func TestShouldRetry(t *testing.T) {
	untrusted := fmt.Errorf("Get \"https://login.microsoftonline.com/\": %w",
		&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})
	for _, tt := range []struct {
		name   string
		status int
		err    error
		want   bool
	}{
		{"unknown authority", 0, untrusted, false},
		{"wrong host name", 0, x509.HostnameError{Host: "login.microsoftonline.com"}, false},
		{"connection refused", 0, fmt.Errorf("proxyconnect tcp: %w", syscall.ECONNREFUSED), true},
		{"reset", 0, errors.New("read: connection reset by peer"), true},
		{"429", http.StatusTooManyRequests, nil, true},
		{"503", http.StatusServiceUnavailable, nil, true},
		{"401", http.StatusUnauthorized, nil, false},
		{"400", http.StatusBadRequest, nil, false},
	} {
		var resp *http.Response
		if tt.err == nil {
			resp = &http.Response{StatusCode: tt.status}
		}
		if got := shouldRetry(resp, tt.err); got != tt.want {
			t.Errorf("%s: shouldRetry = %v, want %v", tt.name, got, tt.want)
		}
	}
}
