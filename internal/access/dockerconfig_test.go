package access

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func resolve(t *testing.T, kc authn.Keychain, image string) *authn.AuthConfig {
	t.Helper()
	ref, err := name.ParseReference(image)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(ref.Context())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

func TestParseDockerConfig(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte("bob:hunter2"))
	kc, err := ParseDockerConfig("pull", map[string][]byte{".dockerconfigjson": []byte(`{"auths":{
		"https://myreg.azurecr.io/v1/": {"auth": "` + auth + `"},
		"ghcr.io": {"username": "alice", "password": "p"},
		"https://index.docker.io/v1/": {"identitytoken": "refresh"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if c := resolve(t, kc, "myreg.azurecr.io/app:1"); c.Username != "bob" || c.Password != "hunter2" {
		t.Errorf("myreg: %+v", c)
	}
	if c := resolve(t, kc, "ghcr.io/org/app"); c.Username != "alice" {
		t.Errorf("ghcr: %+v", c)
	}
	if c := resolve(t, kc, "library/nginx"); c.IdentityToken != "refresh" {
		t.Errorf("docker hub: %+v", c)
	}
	if c := resolve(t, kc, "quay.io/x/y"); *c != (authn.AuthConfig{}) {
		t.Errorf("an unknown registry got credentials: %+v", c)
	}

	legacy, err := ParseDockerConfig("old", map[string][]byte{".dockercfg": []byte(`{"quay.io":{"auth":"` + auth + `"}}`)})
	if err != nil || resolve(t, legacy, "quay.io/x/y").Username != "bob" {
		t.Fatalf(".dockercfg: %v", err)
	}
}

func TestParseDockerConfigErrors(t *testing.T) {
	for name, data := range map[string]map[string][]byte{
		"no key":       {"token": []byte("x")},
		"not JSON":     {".dockerconfigjson": []byte("hunter2 {")},
		"bad auth":     {".dockerconfigjson": []byte(`{"auths":{"r.io":{"auth":"hunter2"}}}`)},
		"auth no user": {".dockerconfigjson": []byte(`{"auths":{"r.io":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("hunter2")) + `"}}}`)},
	} {
		_, err := ParseDockerConfig("pull", data)
		if err == nil || !strings.Contains(err.Error(), "'pull'") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: err = %v, want one naming the secret and not its content", name, err)
		}
	}
}

func FuzzParseDockerConfig(f *testing.F) {
	f.Add([]byte(`{"auths":{"r.io":{"auth":"dTpw"}}}`))
	f.Add([]byte(`{"auths":{"":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kc, err := ParseDockerConfig("s", map[string][]byte{".dockerconfigjson": data})
		if err == nil {
			_, _ = kc.Resolve(name.MustParseReference("r.io/x").Context())
		}
	})
}
