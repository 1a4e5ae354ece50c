package decrypt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/gcpkms"
	"github.com/getsops/sops/v3/hcvault"
	"github.com/getsops/sops/v3/kms"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const secretManifest = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
  labels:
    app: db
type: Opaque
stringData:
  password: hunter2-plaintext
data:
  token: c2VjcmV0LXRva2Vu
`

// TestSecretYAML: a Secret encrypted with `sops encrypt --encrypted-regex '^(data|stringData)$'`
// decrypts whole, after kustomize changed it as builds do.
func TestSecretYAML(t *testing.T) {
	k := newTestKeys(t)
	enc := sopsEncrypt(t, YAML, secretManifest, secretRegex, sops.KeyGroup{k.ageKey(t)})
	if bytes.Contains(enc, []byte("hunter2")) || !IsEncrypted(enc, YAML) {
		t.Fatalf("the test document is not encrypted:\n%s", enc)
	}
	obj := object(t, enc)
	if !IsEncryptedObject(obj) {
		t.Fatal("IsEncryptedObject = false")
	}
	// What kustomize does after encryption: a namespace, a label, a name suffix.
	obj.SetNamespace("prod")
	obj.SetLabels(map[string]string{"app": "db", "team": "payments"})
	obj.SetName("db-7g2h9")

	decrypted, err := k.decryptor(t, nil).DecryptObject(t.Context(), obj)
	if err != nil || !decrypted {
		t.Fatalf("DecryptObject = %v, %v", decrypted, err)
	}
	if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "password"); got != "hunter2-plaintext" {
		t.Errorf("stringData.password = %q", got)
	}
	if got := dataValue(t, obj, "token"); got != "secret-token" {
		t.Errorf("data.token = %q", got)
	}
	if _, found := obj.Object["sops"]; found {
		t.Error("the sops field is still there")
	}
	if obj.GetNamespace() != "prod" || obj.GetName() != "db-7g2h9" || obj.GetLabels()["team"] != "payments" || obj.GetKind() != "Secret" {
		t.Errorf("metadata changed: %v", obj.Object["metadata"])
	}
}

// TestJSONObjectPGP: an object of any kind, encrypted as JSON for an OpenPGP key, decrypts with
// the key of an .asc entry, without gpg.
func TestJSONObjectPGP(t *testing.T) {
	k := newTestKeys(t)
	manifest := `{"apiVersion": "example.com/v1", "kind": "Database", "metadata": {"name": "orders"}, "data": {"dsn": "postgres://orders:pa55@db/orders", "port": 5432}}`
	enc := sopsEncrypt(t, JSON, manifest, sops.Metadata{EncryptedRegex: "^data$"}, sops.KeyGroup{k.pgpKey()})
	if bytes.Contains(enc, []byte("pa55")) || !IsEncrypted(enc, JSON) {
		t.Fatalf("the test document is not encrypted:\n%s", enc)
	}
	obj := object(t, enc)
	if _, err := k.decryptor(t, nil).DecryptObject(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(obj.Object, "data", "dsn"); got != "postgres://orders:pa55@db/orders" {
		t.Errorf("data.dsn = %q", got)
	}
	if got, _, _ := unstructured.NestedInt64(obj.Object, "data", "port"); got != 5432 {
		t.Errorf("data.port = %v (%T)", obj.Object["data"].(map[string]any)["port"], obj.Object["data"].(map[string]any)["port"])
	}
}

// generated are files of every format, as secretGenerator sources.
var generated = map[string]struct {
	format Format
	plain  string
}{
	"app.env":     {Dotenv, "USER=admin\nPASSWORD=s3cret-env\nMODE_unencrypted=prod\n"},
	"app.ini":     {INI, "[db]\nuser = admin\npassword = s3cret-ini\n"},
	"tls.key":     {Binary, "-----BEGIN PRIVATE KEY-----\ns3cret-binary\n-----END PRIVATE KEY-----\n"},
	"config.yaml": {YAML, "db:\n  password: s3cret-yaml\n"},
	"config.json": {JSON, `{"db": {"password": "s3cret-json"}}`},
}

func TestFilesAndDataValues(t *testing.T) {
	k := newTestKeys(t)
	files := map[string][]byte{"plain.txt": []byte("not a SOPS document")}
	for name, g := range generated {
		files[name] = sopsEncrypt(t, g.format, g.plain, sops.Metadata{}, sops.KeyGroup{k.ageKey(t), k.pgpKey()})
		if bytes.Contains(files[name], []byte("s3cret")) {
			t.Fatalf("%s is not encrypted:\n%s", name, files[name])
		}
		if f, ok := DetectFormat(files[name]); !ok || (f != g.format && !(g.format == Binary && f == JSON)) {
			t.Errorf("DetectFormat(%s) = %v, %v", name, f, ok)
		}
	}
	check := func(t *testing.T, name, got string) {
		t.Helper()
		want := generated[name].plain
		switch generated[name].format {
		case YAML, INI:
			if !strings.Contains(got, "s3cret-") || !strings.Contains(got, "password") {
				t.Errorf("%s decrypted to\n%s", name, got)
			}
		case JSON:
			var v struct{ DB struct{ Password string } }
			if err := json.Unmarshal([]byte(got), &v); err != nil || v.DB.Password != "s3cret-json" {
				t.Errorf("%s decrypted to %s (%v)", name, got, err)
			}
		default:
			if got != want {
				t.Errorf("%s decrypted to %q, want %q", name, got, want)
			}
		}
	}

	t.Run("DecryptFile", func(t *testing.T) {
		d := k.decryptor(t, nil)
		for name, g := range generated {
			out, err := d.DecryptFile(t.Context(), name, files[name], g.format)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			check(t, name, string(out))
		}
		out, err := d.DecryptFile(t.Context(), "plain.txt", files["plain.txt"], Binary)
		if err != nil || string(out) != "not a SOPS document" {
			t.Errorf("a plain file: %q, %v", out, err)
		}
	})
	t.Run("DecryptObject of a generated Secret", func(t *testing.T) {
		obj := secretWith(files)
		decrypted, err := k.decryptor(t, nil).DecryptObject(t.Context(), obj)
		if err != nil || !decrypted {
			t.Fatalf("DecryptObject = %v, %v", decrypted, err)
		}
		for name := range generated {
			check(t, name, dataValue(t, obj, name))
		}
		if got := dataValue(t, obj, "plain.txt"); got != "not a SOPS document" {
			t.Errorf("plain.txt = %q", got)
		}
	})
	t.Run("with the PGP key alone", func(t *testing.T) {
		d := New(Keys{Secret: "apps/pgp-only", PGP: k.decryptor(t, nil).keys.PGP}, nil)
		out, err := d.DecryptFile(t.Context(), "app.env", files["app.env"], Dotenv)
		if err != nil || string(out) != generated["app.env"].plain {
			t.Errorf("DecryptFile = %q, %v", out, err)
		}
	})
}

// TestModified: a file changed after encryption fails, and never shows its plaintext.
func TestModified(t *testing.T) {
	k := newTestKeys(t)
	d := k.decryptor(t, nil)
	env := string(sopsEncrypt(t, Dotenv, generated["app.env"].plain, sops.Metadata{}, sops.KeyGroup{k.ageKey(t)}))
	yml := string(sopsEncrypt(t, YAML, "password: s3cret-yaml\nuser_unencrypted: admin\n", sops.Metadata{}, sops.KeyGroup{k.ageKey(t)}))

	flip := func(s, after string) string {
		i := strings.Index(s, after) + len(after)
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct {
		name, file string
		format     Format
		want       string
	}{
		{"unencrypted value changed", strings.Replace(env, "MODE_unencrypted=prod", "MODE_unencrypted=dev", 1), Dotenv, "MAC mismatch: the file was modified after encryption"},
		{"value removed", removeLine(env, "PASSWORD="), Dotenv, "MAC mismatch: the file was modified after encryption"},
		{"value added", env + "EXTRA_unencrypted=1\n", Dotenv, "MAC mismatch: the file was modified after encryption"},
		{"ciphertext changed", flip(yml, "password: ENC[AES256_GCM,data:"), YAML, "a value does not decrypt with the document's data key"},
		{"plaintext in place of a ciphertext", replaceValue(yml, "password: ", "hunter2-inserted"), YAML, "Input string <redacted> does not match sops' data format"},
		{"MAC changed", flip(yml, "mac: ENC[AES256_GCM,data:"), YAML, "MAC mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.DecryptFile(t.Context(), "secrets/app", []byte(tt.file), tt.format)
			if !errors.Is(err, ErrModified) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "file secrets/app") {
				t.Errorf("err = %v, want ErrModified with %q", err, tt.want)
			}
			noPlaintext(t, err, "s3cret", "hunter2", "admin")
		})
	}
	t.Run("in a Secret's data", func(t *testing.T) {
		obj := secretWith(map[string][]byte{"app.env": []byte(strings.Replace(env, "MODE_unencrypted=prod", "MODE_unencrypted=dev", 1))})
		before := dataValue(t, obj, "app.env")
		_, err := d.DecryptObject(t.Context(), obj)
		if !errors.Is(err, ErrModified) || !strings.Contains(err.Error(), "Secret apps/generated-5k8t7, data key 'app.env'") {
			t.Errorf("err = %v", err)
		}
		if dataValue(t, obj, "app.env") != before {
			t.Error("the object changed on error")
		}
	})
	t.Run("an object's encrypted value", func(t *testing.T) {
		enc := string(sopsEncrypt(t, YAML, secretManifest, secretRegex, sops.KeyGroup{k.ageKey(t)}))
		_, err := d.DecryptObject(t.Context(), object(t, []byte(flip(enc, "password: ENC[AES256_GCM,data:"))))
		if !errors.Is(err, ErrModified) {
			t.Errorf("err = %v", err)
		}
		noPlaintext(t, err, "hunter2")
	})
}

func removeLine(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// replaceValue replaces the rest of the line after key.
func replaceValue(s, key, value string) string {
	i := strings.Index(s, key) + len(key)
	j := strings.IndexByte(s[i:], '\n') + i
	return s[:i] + value + s[j:]
}

func TestNoKey(t *testing.T) {
	k, other := newTestKeys(t), newTestKeys(t)
	enc := sopsEncrypt(t, Dotenv, "PASSWORD=s3cret\n", sops.Metadata{}, sops.KeyGroup{k.ageKey(t), k.pgpKey()})

	t.Run("wrong keys", func(t *testing.T) {
		_, err := other.decryptor(t, nil).DecryptFile(t.Context(), "app.env", enc, Dotenv)
		var nk *NoKeyError
		if !errors.As(err, &nk) || !errors.Is(err, ErrNoKey) || len(nk.Attempts) != 2 {
			t.Fatalf("err = %v", err)
		}
		for _, want := range []string{
			"cannot decrypt file app.env: none of its master keys could decrypt the data key; tried ",
			"age recipient " + k.age.Recipient().String() + ": no key for it: none of the 1 age identities of the decryption secret 'apps/sops-keys' is this recipient's",
			"OpenPGP key " + fmt.Sprintf("%X", k.pgp.PrimaryKey.Fingerprint) + ": no key for it",
			"none of the 1 OpenPGP private keys of the decryption secret 'apps/sops-keys' decrypts it",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q:\n%v", want, err)
			}
		}
		if nk.Attempts[0].Key != "age recipient "+k.age.Recipient().String() {
			t.Errorf("age is not tried first: %v", nk.Attempts)
		}
		noPlaintext(t, err, "s3cret")
	})
	t.Run("no decryption secret", func(t *testing.T) {
		_, err := New(Keys{}, nil).DecryptFile(t.Context(), "app.env", enc, Dotenv)
		for _, want := range []string{
			"the Kustomization's decryption (no spec.decryption.secretRef) has no age identity (an entry named *.agekey)",
			"has no OpenPGP private key (an entry named *.asc)",
		} {
			if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		}
	})
	t.Run("Azure key without a credential", func(t *testing.T) {
		err := keyErr(t, &Options{}, sops.KeyGroup{azureKeyWithCiphertext()})
		if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "Azure Key Vault key https://myvault.vault.azure.net/keys/sops/: no key for it: this Decryptor was given no Azure credential") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestUnsupportedKeys(t *testing.T) {
	k := newTestKeys(t)
	now := time.Now().UTC()
	awsKey := &kms.MasterKey{Arn: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", EncryptedKey: "AQICAHh", CreationDate: now}
	gcpKey := &gcpkms.MasterKey{ResourceID: "projects/p/locations/global/keyRings/r/cryptoKeys/sops", EncryptedKey: "CiQA", CreationDate: now}
	vaultKey := &hcvault.MasterKey{VaultAddress: "https://vault.example.com:8200", EnginePath: "sops", KeyName: "k", EncryptedKey: "vault:v1:abc", CreationDate: now}
	for name, tt := range map[string]struct {
		key  sops.KeyGroup
		want string
	}{
		"AWS KMS":        {sops.KeyGroup{awsKey}, "AWS KMS key arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab: not supported by Azimuth: re-encrypt"},
		"GCP KMS":        {sops.KeyGroup{gcpKey}, "GCP KMS key projects/p/locations/global/keyRings/r/cryptoKeys/sops: not supported by Azimuth"},
		"Vault transit":  {sops.KeyGroup{vaultKey}, "HashiCorp Vault transit key https://vault.example.com:8200/v1/sops/keys/k: not supported by Azimuth"},
		"KMS and no age": {sops.KeyGroup{awsKey, gcpKey}, "tried AWS KMS key"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := k.decryptor(t, nil).DecryptFile(t.Context(), "app.env", sopsEncrypt(t, Dotenv, "A=s3cret\n", sops.Metadata{}, tt.key), Dotenv)
			if !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("an age key beside a KMS key", func(t *testing.T) {
		enc := sopsEncrypt(t, Dotenv, "A=s3cret\n", sops.Metadata{}, sops.KeyGroup{awsKey, k.ageKey(t)})
		out, err := k.decryptor(t, nil).DecryptFile(t.Context(), "app.env", enc, Dotenv)
		if err != nil || string(out) != "A=s3cret\n" {
			t.Errorf("DecryptFile = %q, %v", out, err)
		}
	})
}

// keyErr is the error of decrypting a document for group with a Decryptor made with opts and no
// keys.
func keyErr(t *testing.T, opts *Options, group sops.KeyGroup) error {
	t.Helper()
	_, err := New(Keys{}, opts).DecryptFile(t.Context(), "app.env", sopsEncrypt(t, Dotenv, "A=s3cret\n", sops.Metadata{}, group), Dotenv)
	return err
}

func TestShamir(t *testing.T) {
	k := newTestKeys(t)
	enc := sopsEncrypt(t, YAML, "password: s3cret\n", sops.Metadata{}, sops.KeyGroup{k.ageKey(t)}, sops.KeyGroup{k.pgpKey()})
	if out, err := k.decryptor(t, nil).DecryptFile(t.Context(), "s.yaml", enc, YAML); err != nil || string(out) != "password: s3cret\n" {
		t.Errorf("with both keys: %q, %v", out, err)
	}
	ageOnly := New(Keys{Secret: "apps/age-only", Age: k.decryptor(t, nil).keys.Age}, nil)
	_, err := ageOnly.DecryptFile(t.Context(), "s.yaml", enc, YAML)
	if !strings.Contains(err.Error(), "fewer than 2 of its 2 key groups gave their part of the data key") {
		t.Errorf("with the age key alone: %v", err)
	}
}

func TestDecryptObjectSkips(t *testing.T) {
	k := newTestKeys(t)
	d := k.decryptor(t, nil)
	enc := sopsEncrypt(t, YAML, secretManifest, secretRegex, sops.KeyGroup{k.ageKey(t)})

	disabled := object(t, enc)
	disabled.SetAnnotations(map[string]string{DisableAnnotation: "Disabled"})
	if decrypted, err := d.DecryptObject(t.Context(), disabled); decrypted || err != nil || !IsEncryptedObject(disabled) {
		t.Errorf("an object with %s: disabled was decrypted (%v, %v)", DisableAnnotation, decrypted, err)
	}
	plain := object(t, []byte(secretManifest))
	if decrypted, err := d.DecryptObject(t.Context(), plain); decrypted || err != nil {
		t.Errorf("a plain Secret: %v, %v", decrypted, err)
	}
	notSecret := secretWith(map[string][]byte{"app.env": enc})
	notSecret.SetKind("ConfigMap")
	if decrypted, err := d.DecryptObject(t.Context(), notSecret); decrypted || err != nil {
		t.Errorf("a ConfigMap's data: %v, %v", decrypted, err)
	}
	if decrypted, err := d.DecryptObject(t.Context(), nil); decrypted || err != nil {
		t.Errorf("nil: %v, %v", decrypted, err)
	}
}

func TestFileLimits(t *testing.T) {
	d := New(Keys{}, &Options{MaxFileSize: 64})
	_, err := d.DecryptFile(t.Context(), "big.env", bytes.Repeat([]byte("A=1\n"), 17), Dotenv)
	if err == nil || !strings.Contains(err.Error(), "file big.env: 68 bytes is more than the 64") {
		t.Errorf("err = %v", err)
	}
	_, err = d.DecryptFile(t.Context(), "bad.yaml", []byte("mac: ENC[\n  - : :"), YAML)
	if err == nil || !strings.Contains(err.Error(), "file bad.yaml is not a readable SOPS YAML document") {
		t.Errorf("err = %v", err)
	}
}
