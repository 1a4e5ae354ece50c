package decrypt

import (
	"bytes"
	"context"
	"testing"

	"github.com/getsops/sops/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFormatForPath(t *testing.T) {
	for path, want := range map[string]Format{
		"secret.yaml": YAML, "secret.yml": YAML, "a/b.json": JSON, ".dockerconfigjson": JSON,
		"app.env": Dotenv, "db.ini": INI, "tls.key": Binary, "README": Binary, "yaml": Binary,
		"secret.yaml.bak": Binary,
	} {
		if got := FormatForPath(path); got != want {
			t.Errorf("FormatForPath(%q) = %v, want %v", path, got, want)
		}
	}
	for path, want := range map[string]Format{"vars": Dotenv, "vars.txt": Dotenv, "app.env": Dotenv, "vars.yaml": YAML, "vars.ini": INI} {
		if got := FormatForEnvFile(path); got != want {
			t.Errorf("FormatForEnvFile(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestIsEncrypted(t *testing.T) {
	k := newTestKeys(t)
	for name, g := range generated {
		enc := sopsEncrypt(t, g.format, g.plain, sops.Metadata{}, sops.KeyGroup{k.ageKey(t)})
		if !IsEncrypted(enc, g.format) {
			t.Errorf("IsEncrypted(%s, %v) = false", name, g.format)
		}
		if IsEncrypted([]byte(g.plain), g.format) {
			t.Errorf("IsEncrypted of the plain %s = true", name)
		}
	}
	yml := sopsEncrypt(t, YAML, "a: b\n", sops.Metadata{}, sops.KeyGroup{k.ageKey(t)})
	if IsEncrypted(yml, JSON) || IsEncrypted(yml, Dotenv) || IsEncrypted(yml, Format(0)) {
		t.Error("a YAML document is reported encrypted in another format")
	}
	for name, tt := range map[string]struct {
		obj  map[string]any
		want bool
	}{
		"mac":        {map[string]any{"kind": "Secret", "sops": map[string]any{"mac": "ENC[AES256_GCM,data:x]"}}, true},
		"empty mac":  {map[string]any{"kind": "Secret", "sops": map[string]any{"mac": ""}}, false},
		"no mac":     {map[string]any{"kind": "Secret", "sops": map[string]any{"version": "3.13.3"}}, false},
		"sops value": {map[string]any{"kind": "Secret", "sops": "yes"}, false},
		"no sops":    {map[string]any{"kind": "Secret"}, false},
	} {
		if got := IsEncryptedObject(&unstructured.Unstructured{Object: tt.obj}); got != tt.want {
			t.Errorf("IsEncryptedObject(%s) = %v, want %v", name, got, tt.want)
		}
	}
}

// FuzzDetectFormat: DetectFormat agrees with IsEncrypted, and decrypting whatever it detects
// fails or succeeds without panicking.
func FuzzDetectFormat(f *testing.F) {
	f.Add([]byte(`{"data": "x", "sops": {"mac": "ENC[AES256_GCM,data:abc]", "version": "3.13.3"}}`))
	f.Add([]byte("a: ENC[AES256_GCM,data:abc]\nsops:\n    mac: ENC[AES256_GCM,data:x]\n    lastmodified: \"2026-01-01T00:00:00Z\"\n"))
	f.Add([]byte("A=ENC[x]\nsops_mac=ENC[x]\nsops_version=3.13.3\n"))
	f.Add([]byte("[db]\na = ENC[x]\n[sops]\nmac = ENC[x]\n"))
	f.Add([]byte("plain"))
	d := New(Keys{}, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		format, ok := DetectFormat(data)
		if ok != (IsEncrypted(data, format) && format != 0) {
			t.Errorf("DetectFormat = %v, %v but IsEncrypted(%v) = %v", format, ok, format, IsEncrypted(data, format))
		}
		if !ok {
			for _, f := range []Format{YAML, JSON, Dotenv, INI, Binary} {
				if IsEncrypted(data, f) {
					t.Errorf("DetectFormat found nothing, IsEncrypted(%v) = true", f)
				}
			}
			return
		}
		out, err := d.DecryptFile(context.Background(), "fuzz", data, format)
		if err == nil && !bytes.Equal(out, data) {
			// Without keys nothing decrypts; a document with no master key has none to find.
			t.Errorf("DecryptFile without keys succeeded on %q", data)
		}
	})
}
