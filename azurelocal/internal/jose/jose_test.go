package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func signWith(t *testing.T, alg string, key crypto.Signer, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]any{"alg": alg, "kid": "k1"})
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
		}
	case *ecdsa.PrivateKey:
		var r, s []byte
		rr, ss, e := ecdsa.Sign(rand.Reader, k, digest[:])
		err = e
		r, s = rr.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))
		sig = append(r, s...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestRoundTrip(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"aud": []string{"a", "b"}, "exp": 1700000000.5, "sub": "s"}
	tests := []struct {
		alg string
		key crypto.Signer
		pub crypto.PublicKey
	}{
		{"RS256", rsaKey, &rsaKey.PublicKey},
		{"PS256", rsaKey, &rsaKey.PublicKey},
		{"ES256", ecKey, &ecKey.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			tok, err := Parse(signWith(t, tt.alg, tt.key, claims))
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify(tt.pub); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got := tok.Audiences(); strings.Join(got, ",") != "a,b" {
				t.Errorf("Audiences = %v", got)
			}
			if exp, ok := tok.Time("exp"); !ok || !exp.Equal(time.Unix(1700000000, 5e8)) {
				t.Errorf("exp = %v %v", exp, ok)
			}
			tok.Signature[0] ^= 1
			if err := tok.Verify(tt.pub); !errors.Is(err, ErrSignature) {
				t.Errorf("tampered signature: err = %v", err)
			}
		})
	}
	// The key type must fit the algorithm.
	tok, _ := Parse(signWith(t, "RS256", rsaKey, claims))
	if err := tok.Verify(&ecKey.PublicKey); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("RS256 with an EC key: err = %v", err)
	}
}

func TestSignRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SignRS256(key, map[string]any{"kid": "abc", "alg": "none"}, map[string]any{"aud": "x"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header.Alg != "RS256" || tok.Header.Kid != "abc" || tok.String("aud") != "x" {
		t.Errorf("header %+v claims %v", tok.Header, tok.Claims)
	}
	jwk := RSAPublicJWK(&key.PublicKey, "abc")
	pub, err := jwk.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(pub); err != nil {
		t.Errorf("Verify with the JWK's key: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + ".WzFd."} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4IiwiZXhwIjoxfQ.c2ln")
	f.Add("e30.e30.")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		_ = tok.Audiences()
		_, _ = tok.Time("exp")
		_ = tok.String("iss")
		_ = tok.Verify(&rsa.PublicKey{})
	})
}

func TestECJWK(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	jwk := JWK{Kty: "EC", Crv: "P-256", Kid: "e", X: base64.RawURLEncoding.EncodeToString(raw[1:33]), Y: base64.RawURLEncoding.EncodeToString(raw[33:])}
	pub, err := jwk.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := Parse(signWith(t, "ES256", key, map[string]any{"sub": "s"}))
	if err := tok.Verify(pub); err != nil {
		t.Errorf("ES256 with the JWK's key: %v", err)
	}
	jwk.Y = jwk.X
	if _, err := jwk.PublicKey(); err == nil {
		t.Error("a point off the curve must be refused")
	}
}
