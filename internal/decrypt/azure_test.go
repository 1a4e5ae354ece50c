package decrypt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/azkv"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "3c4d5e6f-7081-4923-8a4b-5c6d7e8f9012"
	subID    = "4d5e6f70-8192-4a34-9b5c-6d7e8f901223"
	secret   = "decrypt-test-secret"
	vault    = "azimuth-sops"
	vaultURL = "https://" + vault + ".vault.azure.net"
)

type principal struct{ name, clientID, objectID string }

var (
	decrypter = principal{"sops-decrypter", "5e6f7081-92a3-4b45-8c6d-7e8f90122334", "6f708192-a3b4-4c56-9d7e-8f9012233445"}
	stranger  = principal{"stranger", "708192a3-b4c5-4d67-8e8f-901223344556", "8192a3b4-c5d6-4e78-9f90-122334455667"}
)

func directoryYAML() string {
	var apps strings.Builder
	for _, p := range []principal{decrypter, stranger} {
		fmt.Fprintf(&apps, "  - {name: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", p.name, p.clientID, p.objectID, secret)
	}
	return `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
applications:
` + apps.String() + `
resources:
  keyVaults:
    - {name: ` + vault + `, subscription: ` + subID + `, resourceGroup: sops, keys: [{name: sops}]}
roleAssignments:
  - {principal: ` + decrypter.name + `, role: Key Vault Crypto User, scope: /subscriptions/` + subID + `/resourceGroups/sops/providers/Microsoft.KeyVault/vaults/` + vault + `}
`
}

// localAzure is the local Azure (with its Key Vault emulator) that the Azure tests share.
type localAzure struct {
	rt       http.RoundTripper
	provider *entra.Provider
}

// shared starts on the first Azure test; its state (the vault's keys) lives in stateDir, which
// TestMain makes and removes.
var (
	shared   azuretest.Lazy[*localAzure]
	stateDir string
)

func TestMain(m *testing.M) {
	azuretest.Main(m, func(m *testing.M) (int, error) {
		var err error
		if stateDir, err = os.MkdirTemp("", "decrypt-test-"); err != nil {
			return 0, err
		}
		defer os.RemoveAll(stateDir)
		return m.Run(), nil
	})
}

func startAzure(t *testing.T) *localAzure {
	return shared.Get(t, func() (*localAzure, error) {
		a, err := azuretest.StartAzure(directoryYAML(), &azurelocal.Options{StateDir: stateDir})
		if err != nil {
			return nil, err
		}
		rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
		if err != nil {
			return nil, err
		}
		opts := transport.Options{ConnectTo: rules, RootCAs: a.CAPool()}
		rt, err := transport.New(&opts)
		if err != nil {
			return nil, err
		}
		return &localAzure{rt: rt, provider: entra.NewProvider(&entra.Options{Transport: &opts})}, nil
	})
}

// credential is p's Entra credential, from a client secret as a sops.azure-kv entry gives it.
func (l *localAzure) credential(t *testing.T, p principal) *entra.Credential {
	t.Helper()
	cred, err := l.provider.Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, Source: "secret apps/sops-keys", Namespace: "apps",
		TenantID: tenantID, ClientID: p.clientID, Secret: identity.Secret{ClientSecret: secret},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// azureKey is SOPS's own azure_kv master key, encrypting with the local Key Vault as p, as
// `sops encrypt --azure-kv` does.
func (l *localAzure) azureKey(t *testing.T, p principal, version string) *azkv.MasterKey {
	mk := azkv.NewMasterKey(vaultURL, "sops", version)
	azkv.NewTokenCredential(l.credential(t, p)).ApplyToMasterKey(mk)
	azkv.NewClientOptions(&azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: l.rt}}}).ApplyToMasterKey(mk)
	return mk
}

// decrypts counts Key Vault's decrypt operations.
type decrypts struct {
	rt http.RoundTripper
	n  atomic.Int32
}

func (c *decrypts) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/decrypt") && r.Header.Get("Authorization") != "" {
		c.n.Add(1)
	}
	return c.rt.RoundTrip(r)
}

func (l *localAzure) options(t *testing.T, p principal, count *decrypts) *Options {
	calls := 0
	return &Options{
		Azure: func(context.Context) (azcore.TokenCredential, error) {
			if calls++; calls > 1 {
				t.Error("the Azure credential was asked for twice")
			}
			return l.credential(t, p), nil
		},
		Transport: count,
	}
}

func TestAzureKeyVault(t *testing.T) {
	l := startAzure(t)
	k := newTestKeys(t)
	enc := sopsEncrypt(t, YAML, secretManifest, secretRegex, sops.KeyGroup{l.azureKey(t, decrypter, "")})
	if !strings.Contains(string(enc), "vault_url: "+vaultURL) {
		t.Fatalf("not an azure_kv document:\n%s", enc)
	}

	t.Run("decrypts, and caches the data key for the Decryptor's life", func(t *testing.T) {
		count := &decrypts{rt: l.rt}
		d := New(Keys{}, l.options(t, decrypter, count))
		for range 2 {
			obj := object(t, enc)
			if _, err := d.DecryptObject(t.Context(), obj); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "password"); got != "hunter2-plaintext" {
				t.Fatalf("stringData.password = %q", got)
			}
		}
		if n := count.n.Load(); n != 1 {
			t.Errorf("%d decrypt operations for one document twice, want 1", n)
		}
		if _, err := New(Keys{}, l.options(t, decrypter, count)).DecryptObject(t.Context(), object(t, enc)); err != nil {
			t.Fatal(err)
		}
		if n := count.n.Load(); n != 2 {
			t.Errorf("a new Decryptor did not ask Key Vault again (%d operations)", n)
		}
	})
	t.Run("a versioned key", func(t *testing.T) {
		mk := l.azureKey(t, decrypter, currentVersion(t, l))
		out, err := New(Keys{}, l.options(t, decrypter, &decrypts{rt: l.rt})).DecryptFile(t.Context(), "v.env", sopsEncrypt(t, Dotenv, "A=s3cret\n", sops.Metadata{}, sops.KeyGroup{mk}), Dotenv)
		if err != nil || string(out) != "A=s3cret\n" {
			t.Errorf("DecryptFile = %q, %v", out, err)
		}
	})
	t.Run("no role", func(t *testing.T) {
		_, err := New(Keys{}, l.options(t, stranger, &decrypts{rt: l.rt})).DecryptObject(t.Context(), object(t, enc))
		var re *entra.RoleError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want an *entra.RoleError inside", err)
		}
		for _, want := range []string{
			"cannot decrypt Secret apps/db: none of its master keys could decrypt the data key; tried Azure Key Vault key " + vaultURL + "/keys/sops/: ",
			`needs the role "Key Vault Crypto User" on the vault ` + vault,
			"az role assignment create --assignee " + stranger.clientID + ` --role "Key Vault Crypto User" --scope /subscriptions/` + subID,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q:\n%v", want, err)
			}
		}
		noPlaintext(t, err, "hunter2")
	})
	t.Run("the credential is not resolved for age documents", func(t *testing.T) {
		opts := &Options{Azure: func(context.Context) (azcore.TokenCredential, error) {
			t.Error("the Azure credential was asked for")
			return nil, errors.New("no")
		}}
		keys, _ := ParseKeys("apps/sops-keys", k.secret)
		// age is tried before azure_kv, as SOPS orders them.
		mixed := sopsEncrypt(t, Dotenv, "A=s3cret\n", sops.Metadata{}, sops.KeyGroup{l.azureKey(t, decrypter, ""), k.ageKey(t)})
		if out, err := New(keys, opts).DecryptFile(t.Context(), "m.env", mixed, Dotenv); err != nil || string(out) != "A=s3cret\n" {
			t.Errorf("DecryptFile = %q, %v", out, err)
		}
	})
	t.Run("Key Vault after a missing age identity", func(t *testing.T) {
		mixed := sopsEncrypt(t, Dotenv, "A=s3cret\n", sops.Metadata{}, sops.KeyGroup{l.azureKey(t, decrypter, ""), k.ageKey(t)})
		out, err := New(Keys{Secret: "apps/azure-only"}, l.options(t, decrypter, &decrypts{rt: l.rt})).DecryptFile(t.Context(), "m.env", mixed, Dotenv)
		if err != nil || string(out) != "A=s3cret\n" {
			t.Errorf("DecryptFile = %q, %v", out, err)
		}
	})
	t.Run("the credential fails", func(t *testing.T) {
		opts := &Options{Azure: func(context.Context) (azcore.TokenCredential, error) {
			return nil, errors.New("service account apps/sops has no azure.workload.identity/client-id annotation")
		}}
		_, err := New(Keys{}, opts).DecryptObject(t.Context(), object(t, enc))
		if err == nil || !strings.Contains(err.Error(), "Azure Key Vault key "+vaultURL+"/keys/sops/: service account apps/sops has no azure.workload.identity/client-id annotation") {
			t.Errorf("err = %v", err)
		}
	})
}

// currentVersion is the version of the vault's key sops now.
func currentVersion(t *testing.T, l *localAzure) string {
	t.Helper()
	c, err := azkeys.NewClient(vaultURL, l.credential(t, decrypter), &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: l.rt}}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.GetKey(t.Context(), "sops", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key.KID.Version()
}
