package decrypt

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/azkv"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/shamir"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// testKeys are an age identity and an OpenPGP key made for one test, and the decryption secret
// that holds them.
type testKeys struct {
	age     *age.X25519Identity
	pgp     *openpgp.Entity
	pubring string // a keyring file with the OpenPGP public key, for SOPS's encryption
	secret  map[string][]byte
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	entity, err := openpgp.NewEntity("sops test", "", "sops@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var private bytes.Buffer
	w, err := armor.Encode(&private, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := entity.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// SOPS encrypts for an OpenPGP key it finds in a public keyring file (pgp.PubRing); only the
	// public key is written.
	var public bytes.Buffer
	if err := entity.Serialize(&public); err != nil {
		t.Fatal(err)
	}
	pubring := filepath.Join(t.TempDir(), "pubring.gpg")
	if err := os.WriteFile(pubring, public.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return testKeys{age: id, pgp: entity, pubring: pubring, secret: map[string][]byte{
		"identity.agekey": []byte("# created by the test\n" + id.String() + "\n"),
		"sops.asc":        private.Bytes(),
		"sops.azure-kv":   []byte("clientId: 0b0b0b0b-0000-4000-8000-00000000000a\n"),
	}}
}

// decryptor is a Decryptor with all of k's keys.
func (k testKeys) decryptor(t *testing.T, opts *Options) *Decryptor {
	t.Helper()
	keys, err := ParseKeys("apps/sops-keys", k.secret)
	if err != nil {
		t.Fatal(err)
	}
	return New(keys, opts)
}

// ageKey is SOPS's age master key for k's identity.
func (k testKeys) ageKey(t *testing.T) keys.MasterKey {
	t.Helper()
	mk, err := sopsage.MasterKeyFromRecipient(k.age.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// pgpKey is SOPS's OpenPGP master key for k's key, encrypting with go-crypto as SOPS does when it
// finds the key in its public keyring: no gpg binary.
func (k testKeys) pgpKey() keys.MasterKey {
	mk := pgp.NewMasterKeyFromFingerprint(fmt.Sprintf("%X", k.pgp.PrimaryKey.Fingerprint))
	pgp.PubRing(k.pubring).ApplyToMasterKey(mk)
	return mk
}

// secretRegex is what `sops encrypt --encrypted-regex '^(data|stringData)$'` sets, as Flux's
// documentation has it for Secrets.
var secretRegex = sops.Metadata{EncryptedRegex: "^(data|stringData)$"}

// sopsEncrypt writes plain, of format f, as a SOPS document for the key groups (Shamir with
// threshold len(groups) when there are several), as `sops encrypt` does: a fresh data key
// encrypted by each master key's own Encrypt, the tree encrypted, and the MAC encrypted with the
// data key and lastmodified. meta gives the encryption rules; the default encrypts every value
// but those whose key ends in _unencrypted, as the sops CLI.
func sopsEncrypt(t *testing.T, f Format, plain string, meta sops.Metadata, groups ...sops.KeyGroup) []byte {
	t.Helper()
	st := store(f)
	branches, err := st.LoadPlainFile([]byte(plain))
	if err != nil {
		t.Fatalf("LoadPlainFile: %v", err)
	}
	if meta.EncryptedRegex == "" && meta.UnencryptedSuffix == "" {
		meta.UnencryptedSuffix = "_unencrypted"
	}
	meta.KeyGroups, meta.Version = groups, "3.13.3"
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{dataKey}
	if len(groups) > 1 {
		meta.ShamirThreshold = len(groups)
		if parts, err = shamir.Split(dataKey, len(groups), len(groups)); err != nil {
			t.Fatal(err)
		}
	}
	for i, group := range groups {
		for _, mk := range group {
			if err := mk.EncryptIfNeeded(parts[i]); err != nil {
				t.Fatalf("encrypting the data key with %s: %v", mk.ToString(), err)
			}
		}
	}
	tree := sops.Tree{Branches: branches, Metadata: meta}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		t.Fatal(err)
	}
	tree.Metadata.LastModified = time.Now().UTC()
	if tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	out, err := st.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// object reads a YAML or JSON manifest as the build hands objects over.
func object(t *testing.T, manifest []byte) *unstructured.Unstructured {
	t.Helper()
	js, err := yaml.YAMLToJSON(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// secretWith is a Secret whose data values are files, as a secretGenerator makes it.
func secretWith(files map[string][]byte) *unstructured.Unstructured {
	data := map[string]any{}
	for k, v := range files {
		data[k] = base64.StdEncoding.EncodeToString(v)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "generated-5k8t7", "namespace": "apps"},
		"data":     data,
	}}
}

// dataValue is a Secret's data value, decoded.
func dataValue(t *testing.T, obj *unstructured.Unstructured, key string) string {
	t.Helper()
	s, _, _ := unstructured.NestedString(obj.Object, "data", key)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("data %s: %v", key, err)
	}
	return string(b)
}

// noPlaintext fails t when err quotes any of the secrets.
func noPlaintext(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("the error quotes the plaintext %q: %v", s, err)
		}
	}
}

// azureKeyWithCiphertext is an azure_kv master key whose encrypted data key is made up: enough
// for a Decryptor that never reaches Key Vault.
func azureKeyWithCiphertext() keys.MasterKey {
	return &azkv.MasterKey{VaultURL: "https://myvault.vault.azure.net", Name: "sops", EncryptedKey: "bm90LWEtcmVhbC1rZXk", CreationDate: time.Now().UTC()}
}
