package doctor

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// parseKey reads a Key Vault key identifier, https://VAULT.vault.azure.net/keys/NAME[/VERSION].
func parseKey(raw string) (keyvault.Key, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return keyvault.Key{}, fmt.Errorf("--key %q is not a Key Vault key URL, such as https://VAULT.vault.azure.net/keys/NAME", raw)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "keys" || parts[1] == "" {
		return keyvault.Key{}, fmt.Errorf("--key %q is not a Key Vault key URL, such as https://VAULT.vault.azure.net/keys/NAME", raw)
	}
	k := keyvault.Key{VaultURL: u.Scheme + "://" + u.Host, Name: parts[1]}
	if len(parts) == 3 {
		k.Version = parts[2]
	}
	return k, nil
}

// keyVaultLink reads the key, which the role Key Vault Crypto User allows.
func (o Options) keyVaultLink(ctx context.Context, cred *entra.Credential, t target) (l Link) {
	if t.url == "" {
		return Link{Name: "role", Skipped: true, OK: true, Detail: "the doctor does not read the SOPS files, so it does not know their key: give --key https://VAULT.vault.azure.net/keys/NAME to ask Key Vault"}
	}
	key, err := parseKey(t.url)
	if err == nil {
		err = key.Validate(cred.Cloud())
	}
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "give --key the key's URL, as the SOPS file's azure_kv names it"}
	}
	hc, err := o.httpClient()
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	kc, err := azkeys.NewClient(strings.TrimSuffix(key.VaultURL, "/"), cred, &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: hc, Telemetry: policy.TelemetryOptions{ApplicationID: "azimuth-doctor"},
		Retry: policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	defer func() {
		// azkeys panics on a malformed authentication challenge.
		if p := recover(); p != nil {
			l = Link{Name: "role", Detail: fmt.Sprintf("Key Vault's answer could not be read: %v", p)}
		}
	}()
	if _, err = kc.GetKey(ctx, key.Name, key.Version, nil); err == nil {
		return Link{Name: "role", OK: true, Detail: fmt.Sprintf("Key Vault %s lets it read the key %s", key.Vault(), key.Name)}
	}
	return roleLink(keyvault.Explain(err, cred, key, keyvault.Permission("get")), "keyvault")
}
