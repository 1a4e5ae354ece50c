package keyvault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Algorithm is the one SOPS's azure_kv master keys use to encrypt the data key.
const Algorithm = azkeys.EncryptionAlgorithmRSAOAEP256

// ClientOptions configure a Client. The zero value is valid.
type ClientOptions struct {
	// Cloud decides which hosts are vaults (DNSSuffix). Default: the credential's Cloud() when it
	// has one (*entra.Credential), else entra.AzurePublic.
	Cloud *entra.Cloud
}

// Client encrypts and decrypts with the keys of any vault of its cloud, as one credential,
// through one transport. It keeps one azkeys client per vault, so the vault's authentication
// challenge is met once. It is safe for concurrent use; make one per credential, such as one per
// reconcile.
type Client struct {
	cred      azcore.TokenCredential
	transport policy.Transporter
	cloud     entra.Cloud

	mu     sync.Mutex
	vaults map[string]*azkeys.Client // by vault URL without a trailing "/"
}

// What *entra.Credential offers beyond azcore.TokenCredential; other credentials work without.
type (
	invalidator interface{ Invalidate(scopes ...string) }
	// described names the identity for messages (its String) and for role commands.
	described interface {
		String() string
		ClientID() string
	}
	clouded interface{ Cloud() entra.Cloud }
)

// NewClient returns a Client that acts as cred. transport carries every request to Key Vault:
// pass Azimuth's (internal/transport, with the connect-to map, CA and the object's proxy), such
// as &http.Client{Transport: conn.Transport}. nil means internal/transport's zero configuration,
// never azcore's default.
func NewClient(cred azcore.TokenCredential, transport policy.Transporter, opts *ClientOptions) *Client {
	cloud := entra.AzurePublic
	if c, ok := cred.(clouded); ok {
		cloud = c.Cloud()
	}
	if opts != nil && opts.Cloud != nil {
		cloud = *opts.Cloud
	}
	if transport == nil {
		transport = &http.Client{Transport: defaultTransport()}
	}
	return &Client{cred: cred, transport: transport, cloud: cloud, vaults: map[string]*azkeys.Client{}}
}

// defaultTransport is internal/transport's zero configuration, which cannot fail: only extra CAs
// that hold no certificate make transport.New fail.
func defaultTransport() http.RoundTripper {
	t, err := transport.New(nil)
	if err != nil {
		panic("internal/transport rejected its zero options: " + err.Error())
	}
	return t
}

// Decrypt decrypts ciphertext, as Key Vault's decrypt operation with RSA-OAEP-256 and key, with a
// Client made for this call alone. A caller with several keys to decrypt keeps a Client.
func Decrypt(ctx context.Context, cred azcore.TokenCredential, transport policy.Transporter, key Key, ciphertext []byte) ([]byte, error) {
	return NewClient(cred, transport, nil).Decrypt(ctx, key, ciphertext)
}

// Encrypt encrypts plaintext, as Key Vault's encrypt operation with RSA-OAEP-256 and key, with a
// Client made for this call alone.
func Encrypt(ctx context.Context, cred azcore.TokenCredential, transport policy.Transporter, key Key, plaintext []byte) ([]byte, error) {
	return NewClient(cred, transport, nil).Encrypt(ctx, key, plaintext)
}

// Decrypt asks the vault to decrypt ciphertext (raw bytes, not base64) with key and
// RSA-OAEP-256. A refusal comes back explained (Explain).
func (c *Client) Decrypt(ctx context.Context, key Key, ciphertext []byte) ([]byte, error) {
	return c.do(ctx, key, PermissionDecrypt, ciphertext)
}

// Encrypt asks the vault to encrypt plaintext with key and RSA-OAEP-256; the result is raw
// bytes, which SOPS stores in base64 (RawURLEncoding).
func (c *Client) Encrypt(ctx context.Context, key Key, plaintext []byte) ([]byte, error) {
	return c.do(ctx, key, PermissionEncrypt, plaintext)
}

func (c *Client) do(ctx context.Context, key Key, op Permission, value []byte) (out []byte, err error) {
	if err := key.Validate(c.cloud); err != nil {
		return nil, err
	}
	kc, err := c.vault(key.VaultURL)
	if err != nil {
		return nil, err
	}
	defer func() {
		// azkeys reads the vault's authentication challenge with index arithmetic that panics on
		// a malformed header: one bad answer must not stop the controller.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s with key %s: Key Vault's answer could not be read: %v", op, key, r)
		}
	}()
	params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(Algorithm), Value: value}
	var res azkeys.KeyOperationResult
	if op == PermissionEncrypt {
		var r azkeys.EncryptResponse
		r, err = kc.Encrypt(ctx, key.Name, key.Version, params, nil)
		res = r.KeyOperationResult
	} else {
		var r azkeys.DecryptResponse
		r, err = kc.Decrypt(ctx, key.Name, key.Version, params, nil)
		res = r.KeyOperationResult
	}
	if err != nil {
		if isStatus(err, http.StatusUnauthorized) {
			if inv, ok := c.cred.(invalidator); ok {
				inv.Invalidate(ScopeFor(c.cloud))
			}
		}
		return nil, Explain(err, c.cred, key, op)
	}
	if len(res.Result) == 0 {
		return nil, fmt.Errorf("%s with key %s: Key Vault answered without a result", op, key)
	}
	return res.Result, nil
}

// vault returns the azkeys client for vaultURL, making it on first use.
func (c *Client) vault(vaultURL string) (*azkeys.Client, error) {
	base := strings.TrimSuffix(vaultURL, "/")
	c.mu.Lock()
	defer c.mu.Unlock()
	if kc, ok := c.vaults[base]; ok {
		return kc, nil
	}
	kc, err := azkeys.NewClient(base, c.cred, &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: c.transport,
		Telemetry: policy.TelemetryOptions{ApplicationID: "azimuth"},
	}})
	if err != nil {
		return nil, fmt.Errorf("Key Vault client for %s: %w", base, err)
	}
	c.vaults[base] = kc
	return kc, nil
}

// isStatus reports whether err is a Key Vault answer with the HTTP status.
func isStatus(err error, status int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}
