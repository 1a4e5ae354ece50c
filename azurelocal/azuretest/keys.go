package azuretest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"time"
)

// KeyPair is an RSA key and a certificate for it.
type KeyPair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// NewKeyPair makes a 2048-bit RSA key and a certificate for it with the common name cn:
// self-signed, and a CA that can issue others, when parent is nil; a leaf issued by parent
// otherwise. Certificates are valid from a year ago to five years ahead, so that a test clock
// set at a fixed date finds them valid.
func NewKeyPair(cn string, parent *KeyPair) KeyPair {
	return certify(newKey(), cn, parent, parent == nil)
}

// NewCA makes a CA: self-signed when parent is nil, an intermediate issued by parent otherwise.
func NewCA(cn string, parent *KeyPair) KeyPair { return certify(newKey(), cn, parent, true) }

// Reissue returns k's key with a new self-signed certificate for cn, as when a certificate is
// renewed with the same key.
func (k KeyPair) Reissue(cn string) KeyPair { return certify(k.Key, cn, nil, true) }

func newKey() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
}

func certify(key *rsa.PrivateKey, cn string, parent *KeyPair, isCA bool) KeyPair {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(5, 0, 0),
		BasicConstraintsValid: true, IsCA: isCA, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return KeyPair{Key: key, Cert: cert}
}

// CertPEM returns the certificate in PEM.
func (k KeyPair) CertPEM() []byte { return CertPEM(k.Cert) }

// KeyPEM returns the key in PKCS#8 PEM ("PRIVATE KEY").
func (k KeyPair) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PEM returns the certificate and then the key, the file azidentity's certificate credential and
// a Flux secret's clientCertificate take.
func (k KeyPair) PEM() []byte { return append(k.CertPEM(), k.KeyPEM()...) }

// CertPEM returns c in PEM.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// OneLine joins PEM blocks and escapes their line breaks, for a double-quoted string of a
// directory YAML: pem: "` + OneLine(cert.CertPEM()) + `".
func OneLine(pems ...[]byte) string {
	var b strings.Builder
	for _, p := range pems {
		b.Write(p)
	}
	return strings.ReplaceAll(b.String(), "\n", `\n`)
}
