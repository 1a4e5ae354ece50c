package entra

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1 by definition.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
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
	var registered []*x509.Certificate
	sni := false
	if p.Application != nil {
		sni = p.Application.AllowSubjectNameIssuer
		for _, c := range p.Application.Certificates {
			if cert, err := directory.ParseCertificatePEM(c.PEM); err == nil {
				registered = append(registered, cert)
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
			if bytes.Equal(sum(c.Raw), want) {
				return c, thumbprint, nil
			}
		}
	}
	if sni && len(h.X5c) > 0 {
		leaf, aerr := subjectNameIssuerCertificate(registered, h.X5c, s.now())
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

// subjectNameIssuerCertificate accepts the x5c leaf when a registered certificate has the same
// subject and issuer, the leaf is within its validity period, and, when x5c carries the issuing
// certificate, the leaf's signature verifies with it. It returns nil when nothing matches.
func subjectNameIssuerCertificate(registered []*x509.Certificate, chain []string, now time.Time) (*x509.Certificate, *aadError) {
	leaf, err := parseX5C(chain[0])
	if err != nil {
		return nil, errMalformedJWT("The x5c header does not hold a DER certificate.")
	}
	if len(chain) > 1 {
		issuer, err := parseX5C(chain[1])
		if err != nil || leaf.CheckSignatureFrom(issuer) != nil {
			return nil, errMalformedJWT("The x5c chain does not verify: its first certificate is not signed by the second.")
		}
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, nil
	}
	for _, c := range registered {
		if bytes.Equal(c.RawSubject, leaf.RawSubject) && bytes.Equal(c.RawIssuer, leaf.RawIssuer) {
			return leaf, nil
		}
	}
	return nil, nil
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
