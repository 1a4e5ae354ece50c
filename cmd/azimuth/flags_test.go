package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/azimuth-gitops/azimuth/internal/transport"
)

func TestParseFeatureGates(t *testing.T) {
	tests := []struct {
		value   string
		want    map[string]bool
		wantErr string
	}{
		{"ObjectLevelWorkloadIdentity=true", map[string]bool{"ObjectLevelWorkloadIdentity": true}, ""},
		{"ObjectLevelWorkloadIdentity=false", map[string]bool{"ObjectLevelWorkloadIdentity": false}, ""},
		{" ObjectLevelWorkloadIdentity = TRUE ,", map[string]bool{"ObjectLevelWorkloadIdentity": true}, ""},
		{"ObjectLevelWorkloadIdentity=1", map[string]bool{"ObjectLevelWorkloadIdentity": true}, ""},
		{"ObjectLevelWorkloadIdentity=true,ObjectLevelWorkloadIdentity=false", map[string]bool{"ObjectLevelWorkloadIdentity": false}, ""},
		{"", map[string]bool{}, ""},
		{"Foo=true", nil, `unknown feature gate "Foo"; Azimuth knows ObjectLevelWorkloadIdentity`},
		{"ObjectLevelWorkloadIdentity=true,CacheSecretsAndConfigMaps=true", nil, `unknown feature gate "CacheSecretsAndConfigMaps"`},
		{"objectlevelworkloadidentity=true", nil, "did you mean ObjectLevelWorkloadIdentity?"},
		{"ObjectLevelWorkloadIdentity", nil, `"ObjectLevelWorkloadIdentity" must have the form Name=true or Name=false`},
		{"=true", nil, "must have the form Name=true"},
		{"ObjectLevelWorkloadIdentity=yes", nil, `feature gate ObjectLevelWorkloadIdentity must be true or false, not "yes"`},
		{"ObjectLevelWorkloadIdentity=", nil, "must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseFeatureGates(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// parseFlags binds identityFlags to a fresh flag set and parses args, as a command does.
func parseFlags(t *testing.T, args ...string) (*identityFlags, error) {
	t.Helper()
	var f identityFlags
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	f.bind(fs)
	return &f, fs.Parse(args)
}

func TestIdentityFlagsDefaults(t *testing.T) {
	t.Setenv(connectToEnv, "")
	f, err := parseFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	id := f.identityOptions()
	if id.ObjectLevelWorkloadIdentity || id.DefaultServiceAccount != "" || id.DefaultDecryptionServiceAccount != "" {
		t.Errorf("identity options %+v, want everything off", id)
	}
	e, err := f.entraOptions()
	if err != nil {
		t.Fatal(err)
	}
	if e.CacheMaxSize != 100 || e.DisableCache || e.CacheMaxDuration != time.Hour || e.Transport == nil ||
		len(e.Transport.ConnectTo) != 0 || e.Transport.ExtraCAs != nil {
		t.Errorf("entra options %+v, want a 100-token cache for 1h and a plain transport", e)
	}
}

func TestIdentityFlags(t *testing.T) {
	dir := t.TempDir()
	caFile, notPEM := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "not.pem")
	caPEM := selfSignedPEM(t)
	writeTestFile(t, caFile, caPEM)
	writeTestFile(t, notPEM, "hello")

	tests := []struct {
		name    string
		args    []string
		env     string // AZIMUTH_CONNECT_TO
		check   func(t *testing.T, f *identityFlags)
		wantErr string
	}{
		{name: "lockdown", args: []string{"--feature-gates=ObjectLevelWorkloadIdentity=true", "--default-service-account=tenant", "--default-decryption-service-account=sops"},
			check: func(t *testing.T, f *identityFlags) {
				id := f.identityOptions()
				if !id.ObjectLevelWorkloadIdentity || id.DefaultServiceAccount != "tenant" || id.DefaultDecryptionServiceAccount != "sops" {
					t.Errorf("identity options %+v", id)
				}
			}},
		{name: "the last value of a repeated gate wins", args: []string{"--feature-gates=ObjectLevelWorkloadIdentity=true", "--feature-gates=ObjectLevelWorkloadIdentity=false"},
			check: func(t *testing.T, f *identityFlags) {
				if f.identityOptions().ObjectLevelWorkloadIdentity {
					t.Error("the gate is on")
				}
			}},
		{name: "unknown gate", args: []string{"--feature-gates=Nope=true"}, wantErr: `unknown feature gate "Nope"`},
		{name: "cache off", args: []string{"--token-cache-max-size=0", "--token-cache-max-duration=5m"},
			check: func(t *testing.T, f *identityFlags) {
				e, err := f.entraOptions()
				if err != nil || !e.DisableCache || e.CacheMaxDuration != 5*time.Minute {
					t.Errorf("entra options %+v, %v", e, err)
				}
			}},
		{name: "negative cache size", args: []string{"--token-cache-max-size=-1"},
			check: wantEntraError("--token-cache-max-size must be 0 (no cache) or more")},
		{name: "zero cache duration", args: []string{"--token-cache-max-duration=0s"},
			check: wantEntraError("--token-cache-max-duration must be positive")},
		{name: "connect-to from flags, then the environment", env: "*.azurecr.io:443:127.0.0.1:9443, login.microsoftonline.com:443:127.0.0.1:7443",
			args: []string{"--connect-to", "login.microsoftonline.com:443:127.0.0.1:8443", "--connect-to", "169.254.169.254:80:127.0.0.1:8080"},
			check: func(t *testing.T, f *identityFlags) {
				o, err := f.transportOptions()
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"login.microsoftonline.com:443:127.0.0.1:8443", "169.254.169.254:80:127.0.0.1:8080",
					"*.azurecr.io:443:127.0.0.1:9443", "login.microsoftonline.com:443:127.0.0.1:7443"}
				if got := rulesOf(o.ConnectTo); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("rules %v, want %v", got, want)
				}
				if got := o.ConnectTo.Resolve("login.microsoftonline.com:443"); got != "127.0.0.1:8443" {
					t.Errorf("the flag must win over the environment: login resolves to %s", got)
				}
			}},
		{name: "bad connect-to flag", args: []string{"--connect-to", "login.microsoftonline.com:https:127.0.0.1:8443"},
			check: wantEntraError("--connect-to: invalid connect-to rule")},
		{name: "bad connect-to environment", env: "nonsense",
			check: wantEntraError("environment variable AZIMUTH_CONNECT_TO: invalid connect-to rule")},
		{name: "CA file", args: []string{"--ca-file", caFile},
			check: func(t *testing.T, f *identityFlags) {
				o, err := f.transportOptions()
				if err != nil || string(o.ExtraCAs) != caPEM {
					t.Errorf("extra CAs %q, %v", o.ExtraCAs, err)
				}
			}},
		{name: "missing CA file", args: []string{"--ca-file", filepath.Join(dir, "absent.pem")}, check: wantEntraError("--ca-file: open")},
		{name: "CA file without PEM", args: []string{"--ca-file", notPEM}, check: wantEntraError("holds no PEM certificate")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(connectToEnv, tt.env)
			f, err := parseFlags(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
		})
	}
}

func wantEntraError(text string) func(*testing.T, *identityFlags) {
	return func(t *testing.T, f *identityFlags) {
		t.Helper()
		if _, err := f.entraOptions(); err == nil || !strings.Contains(err.Error(), text) {
			t.Errorf("err = %v, want %q", err, text)
		}
	}
}

func rulesOf(c transport.ConnectTo) []string {
	var out []string
	for _, r := range c {
		out = append(out, r.String())
	}
	return out
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFeatureGatesFlagPrintsItsValue(t *testing.T) {
	f, err := parseFlags(t, "--feature-gates=ObjectLevelWorkloadIdentity=true")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.featureGates.String(); got != "ObjectLevelWorkloadIdentity=true" {
		t.Errorf("String() = %q", got)
	}
}

// selfSignedPEM returns a CA certificate in PEM form.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
