package decrypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	agearmor "filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/getsops/sops/v3/keyservice"
	"google.golang.org/grpc"

	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
)

// maxDataKey bounds what a master key may decrypt to: a data key is 32 bytes (a Shamir part a
// few more), so a larger result is refused before it is all read.
const maxDataKey = 4 << 10

// session answers SOPS's requests for the data key of one document. SOPS calls key services
// with context.Background(), so a session carries the caller's context for the one call it
// serves; it also records every master key that failed, for the error.
type session struct {
	ctx      context.Context
	d        *Decryptor
	attempts []Attempt
}

var _ keyservice.KeyServiceClient = (*session)(nil)

// Encrypt is refused: a Decryptor only decrypts.
func (s *session) Encrypt(context.Context, *keyservice.EncryptRequest, ...grpc.CallOption) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("azimuth's SOPS key service only decrypts")
}

// Decrypt decrypts a master key's copy of the data key, from the Decryptor's cache when it
// decrypted the same one before.
func (s *session) Decrypt(_ context.Context, req *keyservice.DecryptRequest, _ ...grpc.CallOption) (*keyservice.DecryptResponse, error) {
	name, cacheKey := describe(req.GetKey()), ""
	if name != "" {
		cacheKey = name + "\x00" + string(req.GetCiphertext())
		if dataKey, ok := s.d.cached(cacheKey); ok {
			return &keyservice.DecryptResponse{Plaintext: dataKey}, nil
		}
	}
	dataKey, err := s.decrypt(req.GetKey(), req.GetCiphertext())
	if err != nil {
		s.attempts = append(s.attempts, Attempt{Key: firstOf(name, "a key of an unknown type"), Err: err})
		return nil, err
	}
	s.d.remember(cacheKey, dataKey)
	return &keyservice.DecryptResponse{Plaintext: dataKey}, nil
}

func (s *session) decrypt(key *keyservice.Key, ciphertext []byte) ([]byte, error) {
	switch k := key.GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		return s.d.decryptAge(ciphertext)
	case *keyservice.Key_PgpKey:
		return s.d.decryptPGP(k.PgpKey.GetFingerprint(), ciphertext)
	case *keyservice.Key_AzureKeyvaultKey:
		kv := k.AzureKeyvaultKey
		return s.d.decryptAzure(s.ctx, keyvault.Key{VaultURL: kv.GetVaultUrl(), Name: kv.GetName(), Version: kv.GetVersion()}, ciphertext)
	case *keyservice.Key_KmsKey, *keyservice.Key_GcpKmsKey, *keyservice.Key_VaultKey, *keyservice.Key_HckmsKey:
		return nil, fmt.Errorf("%w: re-encrypt the document for an age, OpenPGP or Azure Key Vault key (sops updatekeys, or sops rotate with --add-azure-kv, --add-age or --add-pgp)", ErrUnsupportedKey)
	}
	return nil, fmt.Errorf("%w: SOPS named a key of a type Azimuth does not know", ErrUnsupportedKey)
}

// describe names a master key for messages and the cache: its type and public name.
func describe(key *keyservice.Key) string {
	switch k := key.GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		return "age recipient " + k.AgeKey.GetRecipient()
	case *keyservice.Key_PgpKey:
		return "OpenPGP key " + k.PgpKey.GetFingerprint()
	case *keyservice.Key_AzureKeyvaultKey:
		kv := k.AzureKeyvaultKey
		return "Azure Key Vault key " + keyvault.Key{VaultURL: kv.GetVaultUrl(), Name: kv.GetName(), Version: kv.GetVersion()}.String()
	case *keyservice.Key_KmsKey:
		return "AWS KMS key " + k.KmsKey.GetArn()
	case *keyservice.Key_GcpKmsKey:
		return "GCP KMS key " + k.GcpKmsKey.GetResourceId()
	case *keyservice.Key_VaultKey:
		v := k.VaultKey
		return fmt.Sprintf("HashiCorp Vault transit key %s/v1/%s/keys/%s", strings.TrimSuffix(v.GetVaultAddress(), "/"), v.GetEnginePath(), v.GetKeyName())
	case *keyservice.Key_HckmsKey:
		return "HuaweiCloud KMS key " + k.HckmsKey.GetKeyId()
	}
	return ""
}

func (d *Decryptor) decryptAge(ciphertext []byte) ([]byte, error) {
	if len(d.keys.Age) == 0 {
		return nil, fmt.Errorf("%w: %s has no age identity (an entry named *%s)", ErrNoKey, d.secret(), AgeExt)
	}
	r, err := age.Decrypt(agearmor.NewReader(bytes.NewReader(ciphertext)), d.keys.Age...)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return nil, fmt.Errorf("%w: none of the %d age identities of %s is this recipient's", ErrNoKey, len(d.keys.Age), d.secret())
	case err != nil:
		return nil, fmt.Errorf("the age-encrypted data key cannot be read: %w", err)
	}
	return readDataKey(r)
}

func (d *Decryptor) decryptPGP(fingerprint string, ciphertext []byte) ([]byte, error) {
	if len(d.keys.PGP) == 0 {
		return nil, fmt.Errorf("%w: %s has no OpenPGP private key (an entry named *%s)", ErrNoKey, d.secret(), PGPExt)
	}
	block, err := pgparmor.Decode(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("the OpenPGP-encrypted data key is not ASCII-armored: %w", err)
	}
	md, err := openpgp.ReadMessage(block.Body, d.keys.PGP, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: none of the %d OpenPGP private keys of %s decrypts it (%v)", ErrNoKey, len(d.keys.PGP), d.secret(), err)
	}
	// Reading to the end checks the message's integrity (its MDC or AEAD tag).
	return readDataKey(md.UnverifiedBody)
}

func (d *Decryptor) decryptAzure(ctx context.Context, key keyvault.Key, ciphertext []byte) ([]byte, error) {
	// SOPS stores what Key Vault returns in base64url without padding (azkv/keysource.go).
	raw, err := base64.RawURLEncoding.DecodeString(string(ciphertext))
	if err != nil {
		return nil, errors.New("its encrypted data key is not base64url without padding, as SOPS writes it")
	}
	client, err := d.vault(ctx)
	if err != nil {
		return nil, err
	}
	return client.Decrypt(ctx, key, raw)
}

// readDataKey reads a decrypted data key to its end, refusing more than maxDataKey bytes.
func readDataKey(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDataKey+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("the encrypted data key does not decrypt whole: %w", err)
	case len(b) > maxDataKey:
		return nil, fmt.Errorf("the encrypted data key decrypts to more than %d bytes: it is not a SOPS data key", maxDataKey)
	case len(b) == 0:
		return nil, errors.New("the encrypted data key decrypts to nothing")
	}
	return b, nil
}

func (d *Decryptor) secret() string {
	if d.keys.Secret == "" {
		return "the Kustomization's decryption (no spec.decryption.secretRef)"
	}
	return fmt.Sprintf("the decryption secret '%s'", d.keys.Secret)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
