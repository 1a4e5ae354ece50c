package keyvault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "0e1d2c3b-4a59-4687-8a96-b5c4d3e2f101"
	otherTID = "1f2e3d4c-5b6a-4798-9ba7-c6d5e4f30212"
	subID    = "2a3b4c5d-6e7f-4809-8a1b-2c3d4e5f6071"
	secret   = "keyvault-adapter-test-secret"

	rbacVault   = "azimuth-rbac"
	policyVault = "azimuth-policy"
	vaultScope  = "/subscriptions/" + subID + "/resourceGroups/kv/providers/Microsoft.KeyVault/vaults/" + rbacVault
)

type principal struct{ name, clientID, objectID, tenant string }

var (
	user     = principal{"sops-user", "3b4c5d6e-7f80-4912-8b2c-3d4e5f607182", "4c5d6e7f-8091-4a23-9c3d-4e5f60718293", tenantID}
	nobody   = principal{"nobody", "5d6e7f80-91a2-4b34-8d4e-5f60718293a4", "6e7f8091-a2b3-4c45-9e5f-60718293a4b5", tenantID}
	policyRO = principal{"policy-encrypter", "7f8091a2-b3c4-4d56-8f60-718293a4b5c6", "8091a2b3-c4d5-4e67-9071-8293a4b5c6d7", tenantID}
	outsider = principal{"outsider", "91a2b3c4-d5e6-4f78-8182-93a4b5c6d7e8", "a2b3c4d5-e6f7-4089-9293-a4b5c6d7e8f9", otherTID}
)

func directoryYAML() string {
	var apps strings.Builder
	for _, p := range []principal{user, nobody, policyRO, outsider} {
		fmt.Fprintf(&apps, "  - {name: %s, tenant: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", p.name, p.tenant, p.clientID, p.objectID, secret)
	}
	return `
tenants: [{id: ` + tenantID + `}, {id: ` + otherTID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
applications:
` + apps.String() + `
resources:
  keyVaults:
    - {name: ` + rbacVault + `, subscription: ` + subID + `, resourceGroup: kv, keys: [{name: sops}]}
    - name: ` + policyVault + `
      subscription: ` + subID + `
      resourceGroup: kv
      authorization: accessPolicies
      accessPolicies: [{principal: ` + policyRO.name + `, keyPermissions: [encrypt]}]
      keys: [{name: sops}]
roleAssignments:
  - {principal: ` + user.name + `, role: Key Vault Crypto User, scope: ` + vaultScope + `}
`
}

// local is the local Azure the package's Key Vault tests share, started by the first of them.
type local struct {
	azure    *azuretest.Azure
	client   *http.Client
	provider *entra.Provider
}

// shared holds the local Azure; its state (the vaults' keys) lives in stateDir, which TestMain
// makes and removes.
var (
	shared   azuretest.Lazy[*local]
	stateDir string
)

func TestMain(m *testing.M) {
	azuretest.Main(m, func(m *testing.M) (int, error) {
		var err error
		if stateDir, err = os.MkdirTemp("", "keyvault-test-"); err != nil {
			return 0, err
		}
		defer os.RemoveAll(stateDir)
		return m.Run(), nil
	})
}

func start(t *testing.T) *local {
	return shared.Get(t, func() (*local, error) {
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
		return &local{azure: a, client: &http.Client{Transport: rt}, provider: entra.NewProvider(&entra.Options{Transport: &opts})}, nil
	})
}

// credential is p's Entra credential, from a client secret as a sops.azure-kv secret gives it.
func (l *local) credential(t *testing.T, p principal) *entra.Credential {
	t.Helper()
	cred, err := l.provider.Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, Source: "secret apps/" + p.name, Namespace: "apps",
		TenantID: p.tenant, ClientID: p.clientID, Secret: identity.Secret{ClientSecret: secret},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func vaultURL(name string) string { return "https://" + name + ".vault.azure.net" }

// TestRoundTrip: what the vault encrypts, the client decrypts, and what is encrypted with the
// key's public half outside the vault, too: RSA-OAEP-256 both ways, against the local Key Vault.
func TestRoundTrip(t *testing.T) {
	l := start(t)
	c := keyvault.NewClient(l.credential(t, user), l.client, nil)
	dataKey := []byte("0123456789abcdef0123456789abcdef")
	key := keyvault.Key{VaultURL: vaultURL(rbacVault), Name: "sops"}

	ct, err := c.Encrypt(t.Context(), key, dataKey)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if bytes.Contains(ct, dataKey) || len(ct) != 256 {
		t.Fatalf("Encrypt = %d bytes, want an RSA-2048 ciphertext", len(ct))
	}
	if pt, err := c.Decrypt(t.Context(), key, ct); err != nil || !bytes.Equal(pt, dataKey) {
		t.Fatalf("Decrypt = %q, %v", pt, err)
	}

	// The key's public half, read with azkeys as the same identity.
	kc, err := azkeys.NewClient(vaultURL(rbacVault), l.credential(t, user), &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: l.client}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := kc.GetKey(t.Context(), "sops", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(got.Key.N), E: int(new(big.Int).SetBytes(got.Key.E).Int64())}
	local, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, dataKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	versioned := keyvault.Key{VaultURL: vaultURL(rbacVault) + "/", Name: "sops", Version: got.Key.KID.Version()}
	if pt, err := keyvault.Decrypt(t.Context(), l.credential(t, user), l.client, versioned, local); err != nil || !bytes.Equal(pt, dataKey) {
		t.Fatalf("Decrypt of a local encryption = %q, %v", pt, err)
	}
}

// recordingCredential records Invalidate, as *entra.Credential offers it.
type recordingCredential struct {
	*entra.Credential
	mu          sync.Mutex
	invalidated []string
}

func (c *recordingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return c.Credential.GetToken(ctx, o)
}

func (c *recordingCredential) Invalidate(scopes ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidated = append(c.invalidated, scopes...)
}

func TestRefusals(t *testing.T) {
	l := start(t)
	key := keyvault.Key{VaultURL: vaultURL(rbacVault), Name: "sops"}
	ct, err := keyvault.Encrypt(t.Context(), l.credential(t, user), l.client, key, []byte("data key"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("no role", func(t *testing.T) {
		_, err := keyvault.Decrypt(t.Context(), l.credential(t, nobody), l.client, key, ct)
		var re *entra.RoleError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want an *entra.RoleError", err)
		}
		if re.Role != keyvault.RoleCryptoUser || re.ClientID != nobody.clientID || !strings.EqualFold(re.Scope, vaultScope) {
			t.Errorf("role error %+v", *re)
		}
		if !strings.Contains(err.Error(), "az role assignment create --assignee "+nobody.clientID+` --role "Key Vault Crypto User" --scope `) {
			t.Errorf("message lacks the command: %v", err)
		}
	})
	t.Run("access policy without decrypt", func(t *testing.T) {
		pkey := keyvault.Key{VaultURL: vaultURL(policyVault), Name: "sops"}
		c := keyvault.NewClient(l.credential(t, policyRO), l.client, nil)
		pct, err := c.Encrypt(t.Context(), pkey, []byte("data key"))
		if err != nil {
			t.Fatalf("Encrypt, which the policy grants: %v", err)
		}
		_, err = c.Decrypt(t.Context(), pkey, pct)
		var pe *keyvault.AccessPolicyError
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v, want an *AccessPolicyError", err)
		}
		want := "az keyvault set-policy --name " + policyVault + " --object-id " + policyRO.objectID + " --key-permissions decrypt"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := keyvault.Decrypt(t.Context(), l.credential(t, user), l.client, keyvault.Key{VaultURL: vaultURL(rbacVault), Name: "other"}, ct)
		if err == nil || !strings.Contains(err.Error(), `key "other" (version "") was not found in vault https://`+rbacVault+".vault.azure.net") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("another tenant's token is invalidated", func(t *testing.T) {
		cred := &recordingCredential{Credential: l.credential(t, outsider)}
		_, err := keyvault.NewClient(cred, l.client, nil).Decrypt(t.Context(), key, ct)
		if err == nil || !strings.Contains(err.Error(), "did not accept the token of client secret (client ID "+outsider.clientID) || !strings.Contains(err.Error(), "properties.tenantId") {
			t.Errorf("err = %v", err)
		}
		cred.mu.Lock()
		defer cred.mu.Unlock()
		if len(cred.invalidated) != 1 || cred.invalidated[0] != "https://vault.azure.net/.default" {
			t.Errorf("invalidated %v", cred.invalidated)
		}
	})
	t.Run("a host that is not a vault gets no request", func(t *testing.T) {
		for _, u := range []string{"https://" + rbacVault + ".example.com", "http://" + rbacVault + ".vault.azure.net", "https://" + rbacVault + ".vault.azure.cn"} {
			_, err := keyvault.Decrypt(t.Context(), failingCredential{t}, l.client, keyvault.Key{VaultURL: u, Name: "sops"}, ct)
			if err == nil || !strings.Contains(err.Error(), u) {
				t.Errorf("Decrypt with %s: err = %v", u, err)
			}
		}
	})
	t.Run("the credential's cloud decides", func(t *testing.T) {
		china := entra.AzureChina
		_, err := keyvault.NewClient(failingCredential{t}, l.client, &keyvault.ClientOptions{Cloud: &china}).Decrypt(t.Context(), key, ct)
		if err == nil || !strings.Contains(err.Error(), "is not a Key Vault of cloud AzureChina") {
			t.Errorf("err = %v", err)
		}
	})
}

// failingCredential fails the test when asked for a token.
type failingCredential struct{ t *testing.T }

func (c failingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.t.Error("a token was asked for")
	return azcore.AccessToken{}, errors.New("no token")
}
