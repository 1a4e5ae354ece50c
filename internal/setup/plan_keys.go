package setup

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// ParseSOPSKey reads a Key Vault key identifier, https://VAULT.vault.azure.net/keys/NAME[/VERSION],
// as the resource a decrypting Kustomization needs (the key), or a vault URL,
// https://VAULT.vault.azure.net, as the vault.
func ParseSOPSKey(raw string) (Resource, error) {
	if len(raw) > 2048 {
		return Resource{}, fmt.Errorf("--sops-key is %d bytes long: give a Key Vault key URL, https://VAULT.vault.azure.net/keys/NAME", len(raw))
	}
	fail := func(err error) (Resource, error) {
		return Resource{}, fmt.Errorf("--sops-key %q: %v: give a Key Vault key, https://VAULT.vault.azure.net/keys/NAME[/VERSION], or a vault, https://VAULT.vault.azure.net", raw, err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fail(err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fail(fmt.Errorf("it has a query, a fragment or a user"))
	}
	k := keyvault.Key{VaultURL: u.Scheme + "://" + u.Host, Name: "x"}
	path := strings.Trim(u.Path, "/")
	if path != "" {
		parts := strings.Split(path, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] != "keys" {
			return fail(fmt.Errorf("its path is not /keys/NAME[/VERSION]"))
		}
		k.Name = parts[1]
		if len(parts) == 3 {
			k.Version = parts[2]
		}
	}
	if err := k.Validate(entra.AzurePublic); err != nil {
		return fail(err)
	}
	r := Resource{Kind: Vault, Name: strings.ToLower(k.Vault())}
	if path != "" {
		r.Child = k.Name
	}
	return r, nil
}

func parseSOPSKeys(raws []string) ([]Resource, error) {
	var keys []Resource
	for _, raw := range raws {
		r, err := ParseSOPSKey(raw)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(keys, r) {
			keys = append(keys, r)
		}
	}
	return keys, nil
}
