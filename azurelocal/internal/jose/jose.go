// Package jose reads, verifies and signs the compact JSON Web Tokens the local Entra ID handles:
// client assertions, federated tokens from external issuers, and the access tokens it issues.
// It also converts public keys to and from JSON Web Keys.
//
// It is small on purpose: the emulator must tell apart every way a token can be wrong (to return
// the right AADSTS code), so parsing, signature checks and claim checks are separate steps here
// and policy lives with the caller.
//
// Not implemented: JWE (encrypted tokens), the "none" algorithm, HMAC algorithms, detached or
// unencoded payloads, and critical ("crit") header parameters.
//
// In docs/architecture.md's flow it is the local Entra ID's token format, on the Azure side of the
// credential arrow.
package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // registers SHA-384 and SHA-512 for VerifySignature
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// Header is the JOSE header fields the emulator looks at.
type Header struct {
	Alg     string   `json:"alg"`
	Typ     string   `json:"typ,omitempty"`
	Kid     string   `json:"kid,omitempty"`
	X5t     string   `json:"x5t,omitempty"`
	X5tS256 string   `json:"x5t#S256,omitempty"`
	X5c     []string `json:"x5c,omitempty"`
}

// JWT is a parsed, not yet verified, compact JWS.
type JWT struct {
	Header       Header
	Claims       map[string]any
	SigningInput string
	Signature    []byte
}

// MaxTokenSize bounds the tokens Parse accepts; real assertions are a few kilobytes.
const MaxTokenSize = 64 << 10

// Parse splits and decodes a compact JWS. It checks the form only, not the signature.
func Parse(token string) (*JWT, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("token is larger than %d bytes", MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("token has %d parts, want 3", len(parts))
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	rawClaims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode claims: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("decode signature: %w", err)
	}
	t := &JWT{SigningInput: parts[0] + "." + parts[1], Signature: sig}
	if err := json.Unmarshal(rawHeader, &t.Header); err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	if t.Header.Alg == "" {
		return nil, errors.New("header has no alg")
	}
	dec := json.NewDecoder(bytes.NewReader(rawClaims))
	dec.UseNumber()
	if err := dec.Decode(&t.Claims); err != nil || t.Claims == nil {
		return nil, fmt.Errorf("decode claims: the payload is not a JSON object")
	}
	return t, nil
}

// String returns a string claim, or "" when it is absent or not a string.
func (t *JWT) String(name string) string {
	s, _ := t.Claims[name].(string)
	return s
}

// Time returns a NumericDate claim. ok is false when the claim is absent or not a number.
func (t *JWT) Time(name string) (ts time.Time, ok bool) {
	n, isNumber := t.Claims[name].(json.Number)
	if !isNumber {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// Audiences returns the aud claim, which may be a string or an array of strings.
func (t *JWT) Audiences() []string {
	switch v := t.Claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ErrSignature reports a signature that does not verify with the key.
var ErrSignature = errors.New("signature does not match")

// ErrAlgorithm reports an algorithm this package does not verify, or a key of the wrong type for
// the algorithm.
var ErrAlgorithm = errors.New("unsupported signing algorithm for this key")

// Verify checks the token's signature with key, for the algorithm in its header.
func (t *JWT) Verify(key crypto.PublicKey) error {
	return VerifySignature(t.Header.Alg, key, t.SigningInput, t.Signature)
}

// VerifySignature checks sig over input with key for alg: RS256/384/512, PS256/384/512 or
// ES256/384/512.
func VerifySignature(alg string, key crypto.PublicKey, input string, sig []byte) error {
	hash, kind := hashFor(alg)
	if hash == 0 {
		return ErrAlgorithm
	}
	h := hash.New()
	h.Write([]byte(input))
	digest := h.Sum(nil)
	switch kind {
	case 'R', 'P':
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return ErrAlgorithm
		}
		var err error
		if kind == 'R' {
			err = rsa.VerifyPKCS1v15(pub, hash, digest, sig)
		} else {
			err = rsa.VerifyPSS(pub, hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		}
		if err != nil {
			return ErrSignature
		}
	case 'E':
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok {
			return ErrAlgorithm
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return ErrSignature
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pub, digest, r, s) {
			return ErrSignature
		}
	}
	return nil
}

func hashFor(alg string) (crypto.Hash, byte) {
	if len(alg) != 5 {
		return 0, 0
	}
	var h crypto.Hash
	switch alg[2:] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	case "512":
		h = crypto.SHA512
	default:
		return 0, 0
	}
	switch alg[:2] {
	case "RS":
		return h, 'R'
	case "PS":
		return h, 'P'
	case "ES":
		return h, 'E'
	}
	return 0, 0
}

// SignRS256 signs claims with an RSA key and returns the compact token. header may add fields
// such as kid and x5t; alg and typ are set here.
func SignRS256(key *rsa.PrivateKey, header map[string]any, claims any) (string, error) {
	h := map[string]any{"typ": "JWT"}
	for k, v := range header {
		h[k] = v
	}
	h["alg"] = "RS256"
	rawHeader, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	rawClaims, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(rawHeader) + "." + base64.RawURLEncoding.EncodeToString(rawClaims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
