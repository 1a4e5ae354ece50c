package entra

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// assertionSkew is the clock skew Entra tolerates on assertion times.
const assertionSkew = 5 * time.Minute

// checkCertificateAssertion verifies a client assertion signed with the application's
// certificate: the key (by thumbprint, or by subject name and issuer with x5c where the app
// allows it), the signature (RS256 or PS256), then the claims.
func (s *Server) checkCertificateAssertion(req *tokenRequest, tok *jose.JWT) *aadError {
	switch tok.Header.Alg {
	case "RS256", "PS256":
	default:
		return errMalformedJWT("Unsupported signing algorithm '" + tok.Header.Alg + "'; use RS256 or PS256.")
	}
	cert, thumbprint, aerr := s.assertionCertificate(req.client, tok)
	if aerr != nil {
		return aerr
	}
	if err := tok.Verify(cert.PublicKey); err != nil {
		return errBadSignature(thumbprint, cert.NotBefore, cert.NotAfter)
	}
	if tok.String("sub") != tok.String("iss") {
		return errSubjectNotIssuer()
	}
	if aerr := checkAssertionAudience(req, tok.Audiences()); aerr != nil {
		return aerr
	}
	if aerr := checkAssertionTimes(tok, s.now()); aerr != nil {
		return aerr
	}
	if tok.String("jti") == "" {
		return errMalformedJWT("The client assertion has no 'jti' claim; a unique jti is required.")
	}
	return nil
}

// assertionCertificate finds the certificate whose key signed the assertion and the thumbprint to
// print in errors (hex, upper case, as Entra prints it).
func (s *Server) assertionCertificate(p directory.Principal, tok *jose.JWT) (*x509.Certificate, string, *aadError) {
	var registered []registeredCertificate
	sni := false
	if p.Application != nil {
		sni = p.Application.AllowSubjectNameIssuer
		for _, c := range p.Application.Certificates {
			if rc, ok := parseRegistered(c.PEM); ok {
				registered = append(registered, rc)
			}
		}
	}
	h := tok.Header
	var want []byte
	var sum func([]byte) []byte
	switch {
	case h.X5tS256 != "":
		want, sum = decodeThumbprint(h.X5tS256), func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	case h.X5t != "":
		want, sum = decodeThumbprint(h.X5t), func(b []byte) []byte { s := sha1.Sum(b); return s[:] } //nolint:gosec
	case len(h.X5c) == 0:
		return nil, "", errMalformedJWT("No certificate thumbprint specified in token header.")
	}
	thumbprint := strings.ToUpper(hex.EncodeToString(want))
	if want != nil {
		for _, c := range registered {
			if bytes.Equal(sum(c.cert.Raw), want) {
				return c.cert, thumbprint, nil
			}
		}
	}
	if sni && len(h.X5c) > 0 {
		leaf, aerr := subjectNameIssuerCertificate(registered, h.X5c, s.now(), p.ClientID)
		if aerr != nil {
			return nil, thumbprint, aerr
		}
		if leaf != nil {
			return leaf, thumbprint, nil
		}
	}
	if thumbprint == "" && len(h.X5c) > 0 {
		if leaf, err := parseX5C(h.X5c[0]); err == nil {
			s := sha1.Sum(leaf.Raw) //nolint:gosec
			thumbprint = strings.ToUpper(hex.EncodeToString(s[:]))
		}
	}
	return nil, thumbprint, errKeyNotFound(thumbprint, p.ClientID, !sni)
}

// registeredCertificate is a key credential of an application: the certificate, and the CA
// certificates that follow it in the directory's pem, which subject name and issuer
// authentication trusts as issuers of the application's certificates.
type registeredCertificate struct {
	cert *x509.Certificate
	cas  []*x509.Certificate
}

// parseRegistered reads a registered certificate's pem: the certificate first, then any CA
// certificates (the directory's way of declaring the CAs it trusts for the application).
func parseRegistered(text string) (registeredCertificate, bool) {
	var rc registeredCertificate
	for rest := []byte(text); ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		switch {
		case err != nil:
		case rc.cert == nil:
			rc.cert = cert
		case cert.IsCA:
			rc.cas = append(rc.cas, cert)
		}
	}
	return rc, rc.cert != nil
}

// subjectNameIssuerCertificate accepts the x5c leaf, as Entra ID's subject name and issuer (SN+I)
// authentication does, when a registered certificate has the same subject and issuer, the leaf is
// within its validity period, and the leaf chains, through the other x5c certificates, to a CA
// the directory trusts for that registered certificate:
//   - a CA certificate that follows the registered certificate in its pem (declared trust), or
//   - an x5c certificate whose key signed the registered certificate: the CA that issued it.
//
// A CA made to carry the same names but holding another key is neither, so its certificates are
// refused with AADSTS7000213, as Entra ID refuses a chain to a CA it does not trust. The function
// returns nil, nil when no registered certificate has the leaf's names.
func subjectNameIssuerCertificate(registered []registeredCertificate, chain []string, now time.Time, clientID string) (*x509.Certificate, *aadError) {
	var certs []*x509.Certificate
	for _, c := range chain {
		cert, err := parseX5C(c)
		if err != nil {
			return nil, errMalformedJWT("The x5c header does not hold DER certificates.")
		}
		certs = append(certs, cert)
	}
	leaf := certs[0]
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, nil
	}
	var named []registeredCertificate
	for _, c := range registered {
		if bytes.Equal(c.cert.RawSubject, leaf.RawSubject) && bytes.Equal(c.cert.RawIssuer, leaf.RawIssuer) {
			named = append(named, c)
		}
	}
	if len(named) == 0 {
		return nil, nil
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	var lastErr error
	for _, rc := range named {
		roots := x509.NewCertPool()
		for _, ca := range rc.cas {
			roots.AddCert(ca)
		}
		for _, c := range certs[1:] {
			if rc.cert.CheckSignatureFrom(c) == nil {
				roots.AddCert(c)
			}
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: intermediates, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err == nil {
			return leaf, nil
		}
		lastErr = err
	}
	return nil, errCertificateChain(leaf, clientID, len(certs) == 1, lastErr)
}

// errCertificateChain is Entra ID's refusal of an SN+I certificate whose chain does not lead to
// a trusted CA. Entra's text is "Invalid certificate chain."; the reason in brackets is this
// emulator's, in the style of AADSTS700027's.
func errCertificateChain(leaf *x509.Certificate, clientID string, leafOnly bool, cause error) *aadError {
	sum := sha1.Sum(leaf.Raw) //nolint:gosec
	hint := "The certificates in x5c do not chain to a CA trusted for this application"
	if leafOnly {
		hint = "x5c holds only the certificate, and the directory declares no CA that issued it"
	}
	return newError(401, "invalid_client", 7000213, "Invalid certificate chain. [Reason - %s (%v), Subject: '%s', Issuer: '%s', Thumbprint of key used by client: '%s', app Id '%s'. "+
		"Send the issuing CA's certificates after the certificate in x5c (azidentity: SendCertificateChain with the chain in the certificate file), "+
		"or, in the local directory, append the trusted CA's certificate to the pem of the application's registered certificate.]",
		hint, cause, leaf.Subject, leaf.Issuer, strings.ToUpper(hex.EncodeToString(sum[:])), clientID)
}

func parseX5C(s string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// decodeThumbprint accepts base64url (RFC 7515) and the standard alphabet MSAL Go uses.
func decodeThumbprint(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return []byte(s)
}

// checkAssertionAudience requires the assertion to name this tenant's token endpoint, by tenant
// ID or domain, in the v2 or v1 form. Entra refuses an array of several audiences.
func checkAssertionAudience(req *tokenRequest, auds []string) *aadError {
	if len(auds) != 1 {
		return errMalformedJWT("The client assertion must have exactly one audience: the token endpoint.")
	}
	for _, name := range append([]string{req.tenant.ID}, req.tenant.Domains...) {
		for _, path := range []string{"/oauth2/v2.0/token", "/oauth2/token"} {
			if strings.EqualFold(auds[0], "https://"+req.host+"/"+name+path) {
				return nil
			}
		}
	}
	return errMalformedJWT("The audience '" + auds[0] + "' of the client assertion is not the token endpoint https://" + req.host + "/" + req.tenant.ID + "/oauth2/v2.0/token.")
}

// checkAssertionTimes enforces exp (required) and nbf (optional) with Entra's clock skew.
func checkAssertionTimes(tok *jose.JWT, now time.Time) *aadError {
	exp, ok := tok.Time("exp")
	if !ok {
		return errMalformedJWT("The client assertion has no 'exp' claim.")
	}
	nbf, hasNbf := tok.Time("nbf")
	if !hasNbf {
		nbf = time.Unix(0, 0)
	}
	if now.Add(-assertionSkew).After(exp) || (hasNbf && now.Add(assertionSkew).Before(nbf)) {
		return errAssertionTime(now, nbf, exp)
	}
	return nil
}
