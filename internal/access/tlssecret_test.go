package access

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// pemPair is a self-signed certificate and its PKCS#8 key, in PEM.
func pemPair(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	k := azuretest.NewKeyPair("client", nil)
	return k.CertPEM(), k.KeyPEM()
}

func TestTLSFromSecret(t *testing.T) {
	crt, key := pemPair(t)
	otherCrt, _ := pemPair(t)
	ca := []byte("-----BEGIN CERTIFICATE-----\n...")
	for name, c := range map[string]struct {
		data       map[string][]byte
		wantCA     bool
		wantCert   bool
		wantErrHas string
	}{
		"a CA":                          {data: map[string][]byte{"ca.crt": ca}, wantCA: true},
		"a client certificate":          {data: map[string][]byte{"tls.crt": crt, "tls.key": key}, wantCert: true},
		"both":                          {data: map[string][]byte{"ca.crt": ca, "tls.crt": crt, "tls.key": key}, wantCA: true, wantCert: true},
		"a certificate without its key": {data: map[string][]byte{"ca.crt": ca, "tls.crt": crt}, wantErrHas: "has 'tls.crt' but no 'tls.key'"},
		"a key without its certificate": {data: map[string][]byte{"tls.key": key}, wantErrHas: "has 'tls.key' but no 'tls.crt'"},
		"nothing of use":                {data: map[string][]byte{"username": []byte("u")}, wantErrHas: "neither 'ca.crt' nor 'tls.crt' and 'tls.key'"},
		"a key of another certificate":  {data: map[string][]byte{"tls.crt": otherCrt, "tls.key": key}, wantErrHas: "are not a PEM certificate and its private key"},
		"not PEM":                       {data: map[string][]byte{"tls.crt": []byte("cert"), "tls.key": []byte("key")}, wantErrHas: "are not a PEM certificate"},
	} {
		gotCA, gotCert, err := TLSFromSecret("client-tls", c.data)
		if c.wantErrHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrHas) || !strings.Contains(err.Error(), "'client-tls'") {
				t.Errorf("%s: %v, want an error naming the secret and saying %q", name, err, c.wantErrHas)
			}
			continue
		}
		if err != nil || (len(gotCA) > 0) != c.wantCA || (gotCert != nil) != c.wantCert {
			t.Errorf("%s: CA %d bytes, certificate %v, %v", name, len(gotCA), gotCert != nil, err)
		}
	}
}

// Objects share a transport only when they present the same certificate with the same key:
// another object's certificate, which is public, does not give its connections.
func TestTransportsKeyedByClientCertificate(t *testing.T) {
	crt, key := pemPair(t)
	a, _ := tls.X509KeyPair(crt, key)
	b, _ := tls.X509KeyPair(crt, key)
	otherCrt, otherKey := pemPair(t)
	c, _ := tls.X509KeyPair(otherCrt, otherKey)
	var cache transportCache
	get := func(cert *tls.Certificate) any {
		tr, err := cache.get(&transport.Options{ClientCert: cert})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	if get(&a) != get(&b) {
		t.Error("the same certificate and key got two transports")
	}
	if get(&a) == get(&c) || get(&a) == get(nil) {
		t.Error("different client certificates, or none, shared a transport")
	}
	d := a
	d.PrivateKey = c.PrivateKey // a's certificate with another key: never a's connections
	if get(&a) == get(&d) {
		t.Error("a certificate with another key shared the transport of its rightful key")
	}
}

// FuzzTLSFromSecret: whatever a certSecretRef holds, TLSFromSecret returns what it found or an
// error naming the secret, never a panic, and never the key's bytes in the error.
func FuzzTLSFromSecret(f *testing.F) {
	crt, key := pemPair(f)
	f.Add([]byte(nil), crt, key)
	f.Add([]byte("ca"), crt, []byte(nil))
	f.Add([]byte(nil), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), key)
	f.Fuzz(func(t *testing.T, ca, crt, key []byte) {
		data := map[string][]byte{}
		for k, v := range map[string][]byte{"ca.crt": ca, "tls.crt": crt, "tls.key": key} {
			if len(v) > 0 {
				data[k] = v
			}
		}
		gotCA, cert, err := TLSFromSecret("s", data)
		if err != nil {
			if !strings.Contains(err.Error(), "'s'") {
				t.Fatalf("the error does not name the secret: %v", err)
			}
			if len(key) > 16 && strings.Contains(err.Error(), string(key)) {
				t.Fatalf("the error shows the key: %v", err)
			}
			return
		}
		if cert == nil && len(gotCA) == 0 {
			t.Fatal("neither a CA nor a certificate, and no error")
		}
	})
}
