package keyvault

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Encryption algorithms of RSA keys that the emulator serves.
const (
	algRSAOAEP    = "RSA-OAEP"     // OAEP with SHA-1 and MGF1 with SHA-1
	algRSAOAEP256 = "RSA-OAEP-256" // OAEP with SHA-256 and MGF1 with SHA-256
	algRSA15      = "RSA1_5"       // PKCS #1 v1.5: refused, see the package documentation
)

// otherAlgorithms are the rest of Key Vault's JsonWebKeyEncryptionAlgorithm: symmetric
// algorithms of Managed HSM's oct keys, which an RSA key cannot use.
var otherAlgorithms = []string{
	"A128GCM", "A192GCM", "A256GCM", "A128KW", "A192KW", "A256KW",
	"A128CBC", "A192CBC", "A256CBC", "A128CBCPAD", "A192CBCPAD", "A256CBCPAD",
	"CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD",
}

// operationRequest is the body of encrypt, decrypt, wrapkey and unwrapkey. iv, aad and tag are
// for symmetric algorithms and are ignored.
type operationRequest struct {
	Alg   *string `json:"alg"`
	Value *string `json:"value"`
}

// operationResult is their answer.
type operationResult struct {
	KID   string `json:"kid"`
	Value string `json:"value"`
}

// parseOperation reads the body of a key operation: the algorithm and the value, which Key
// Vault takes in base64url (without padding, as it writes it; padding is tolerated).
func parseOperation(body []byte) (alg string, value []byte, e *kvError) {
	var req operationRequest
	if e := decodeJSON(body, &req); e != nil {
		return "", nil, e
	}
	if req.Value == nil {
		return "", nil, badParameter("Property 'value' is required.\r\n")
	}
	value, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(*req.Value, "="))
	if err != nil {
		return "", nil, badParameter("Content of 'value' is not base64url.\r\nProperty 'value' is required.\r\n")
	}
	if req.Alg == nil || *req.Alg == "" {
		return "", nil, badParameter("Property 'alg' has invalid value\r\n")
	}
	return *req.Alg, value, nil
}

// oaepHash returns the hash of an OAEP algorithm, or Key Vault's refusal of the others.
func oaepHash(alg string) (crypto.Hash, *kvError) {
	switch alg {
	case algRSAOAEP:
		return crypto.SHA1, nil
	case algRSAOAEP256:
		return crypto.SHA256, nil
	case algRSA15:
		return 0, badParameter("The algorithm 'RSA1_5' is not emulated by the local Key Vault (PKCS #1 v1.5 encryption is unsafe); use RSA-OAEP-256 or RSA-OAEP.")
	}
	if slices.Contains(otherAlgorithms, alg) {
		return 0, badParameter(fmt.Sprintf("The algorithm '%s' is not supported for keys of type RSA; use RSA-OAEP-256 or RSA-OAEP.", alg))
	}
	return 0, badParameter("Property 'alg' has invalid value\r\n")
}

// keyOperation reads and checks what encrypt and decrypt (and wrap and unwrap) share: the key
// version, the body, the algorithm and the key's permitted operations.
func keyOperation(r *http.Request, st *store, rt route) (string, *keyVersion, crypto.Hash, []byte, *kvError) {
	name, kv, ok := st.version(rt.key, rt.version)
	if !ok {
		return "", nil, 0, nil, errKeyNotFound(strings.TrimSuffix(rt.key+"/"+rt.version, "/"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return "", nil, 0, nil, badParameter(fmt.Sprintf("The request body could not be read, or is larger than %d bytes.", maxBody))
	}
	alg, value, e := parseOperation(body)
	if e != nil {
		return "", nil, 0, nil, e
	}
	h, e := oaepHash(alg)
	if e != nil {
		return "", nil, 0, nil, e
	}
	if !slices.Contains(kv.Ops, rt.op.keyOp) {
		return "", nil, 0, nil, errKeyOperation(rt.op.keyOp)
	}
	return name, kv, h, value, nil
}

// encrypt serves encrypt and wrapkey, which RSA keys do alike.
func (s *Server) encrypt(r *http.Request, v vault, st *store, rt route) (any, *kvError) {
	name, kv, h, value, e := keyOperation(r, st, rt)
	if e != nil {
		return nil, e
	}
	out, err := rsa.EncryptOAEP(newHash(h), rand.Reader, &kv.key.PublicKey, value, nil)
	if errors.Is(err, rsa.ErrMessageTooLong) {
		return nil, badParameter(fmt.Sprintf("The value is %d bytes, too long for a %d-bit RSA key with %s: at most %d bytes.",
			len(value), kv.key.N.BitLen(), algName(h), kv.key.Size()-2*h.Size()-2))
	}
	if err != nil {
		return nil, errInternal(err)
	}
	return operationResult{KID: kid(v, name, kv.Version), Value: b64(out)}, nil
}

// decrypt serves decrypt and unwrapkey. Every failure has Key Vault's one message, which says
// nothing of why, as OAEP requires.
func (s *Server) decrypt(r *http.Request, v vault, st *store, rt route) (any, *kvError) {
	name, kv, h, value, e := keyOperation(r, st, rt)
	if e != nil {
		return nil, e
	}
	out, err := rsa.DecryptOAEP(newHash(h), nil, kv.key, value, nil)
	if err != nil {
		return nil, badParameter("Error occurred while decoding OAEP padding.")
	}
	return operationResult{KID: kid(v, name, kv.Version), Value: b64(out)}, nil
}

func newHash(h crypto.Hash) hash.Hash {
	if h == crypto.SHA1 {
		return sha1.New()
	}
	return sha256.New()
}

func algName(h crypto.Hash) string {
	if h == crypto.SHA1 {
		return algRSAOAEP
	}
	return algRSAOAEP256
}
