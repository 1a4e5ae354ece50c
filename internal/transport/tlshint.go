package transport

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// TLSHint says what to change when err is a TLS handshake's failure that an object's
// certSecretRef can fix, and "" otherwise: a server certificate from a CA the controller does
// not trust, or a server that wants a client certificate or refuses the one it was given. The
// server's alerts reach Go as text only ("remote error: tls: ..."), so they are read from it.
func TLSHint(err error) string {
	if err == nil {
		return ""
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return "the server's certificate is signed by a CA the controller does not trust: add that CA to 'ca.crt' of the secret spec.certSecretRef names"
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "remote error: tls: certificate required"):
		return "the server asks for a client certificate: put it and its private key under 'tls.crt' and 'tls.key' of the secret spec.certSecretRef names"
	case strings.Contains(msg, "remote error: tls: bad certificate"),
		strings.Contains(msg, "remote error: tls: unknown certificate authority"),
		strings.Contains(msg, "remote error: tls: certificate expired"),
		strings.Contains(msg, "remote error: tls: unknown certificate"):
		return "the server refused the client certificate of spec.certSecretRef: check that a CA the server trusts issued it and that it has not expired"
	}
	return ""
}

// ExplainTLS returns err with TLSHint's hint after it, or err as it is when there is none.
func ExplainTLS(err error) error {
	if hint := TLSHint(err); hint != "" {
		return fmt.Errorf("%w: %s", err, hint)
	}
	return err
}
