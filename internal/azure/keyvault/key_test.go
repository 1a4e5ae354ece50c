package keyvault

import (
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

func TestValidate(t *testing.T) {
	custom := entra.AzurePublic
	custom.Name, custom.Services = "stack", map[entra.ServiceName]entra.Service{ServiceName: {DNSSuffix: "vault.stack.example"}}
	tests := []struct {
		name  string
		key   Key
		cloud entra.Cloud
		want  string // a part of the error; empty for valid
	}{
		{"public", Key{VaultURL: "https://myvault.vault.azure.net", Name: "sops", Version: "0123456789abcdef0123456789abcdef"}, entra.AzurePublic, ""},
		{"trailing slash, no version", Key{VaultURL: "https://myvault.vault.azure.net/", Name: "sops-key"}, entra.AzurePublic, ""},
		{"port 443, upper case", Key{VaultURL: "https://MyVault.Vault.Azure.Net:443", Name: "k"}, entra.AzurePublic, ""},
		{"china", Key{VaultURL: "https://kv1.vault.azure.cn", Name: "k"}, entra.AzureChina, ""},
		{"government", Key{VaultURL: "https://kv1.vault.usgovcloudapi.net", Name: "k"}, entra.AzureGovernment, ""},
		{"custom cloud", Key{VaultURL: "https://kv1.vault.stack.example", Name: "k"}, custom, ""},
		{"empty", Key{Name: "k"}, entra.AzurePublic, "the vault URL is empty"},
		{"http", Key{VaultURL: "http://myvault.vault.azure.net", Name: "k"}, entra.AzurePublic, "does not use https"},
		{"other host", Key{VaultURL: "https://myvault.example.com", Name: "k"}, entra.AzurePublic, `vault URL "https://myvault.example.com" is not a Key Vault of cloud AzurePublic: a vault URL of cloud AzurePublic is https://VAULT.vault.azure.net`},
		{"suffix inside another domain", Key{VaultURL: "https://myvault.vault.azure.net.evil.example", Name: "k"}, entra.AzurePublic, "is not a Key Vault"},
		{"nested label", Key{VaultURL: "https://a.b.vault.azure.net", Name: "k"}, entra.AzurePublic, "is not a Key Vault"},
		{"bare suffix", Key{VaultURL: "https://vault.azure.net", Name: "k"}, entra.AzurePublic, "is not a Key Vault"},
		{"public vault in China", Key{VaultURL: "https://myvault.vault.azure.net", Name: "k"}, entra.AzureChina, "is not a Key Vault of cloud AzureChina"},
		{"path", Key{VaultURL: "https://myvault.vault.azure.net/keys/k", Name: "k"}, entra.AzurePublic, "has a path"},
		{"query", Key{VaultURL: "https://myvault.vault.azure.net/?x=1", Name: "k"}, entra.AzurePublic, "has a path, query"},
		{"user", Key{VaultURL: "https://u:p@myvault.vault.azure.net", Name: "k"}, entra.AzurePublic, "user name or password"},
		{"port", Key{VaultURL: "https://myvault.vault.azure.net:8443", Name: "k"}, entra.AzurePublic, "port other than 443"},
		{"no name", Key{VaultURL: "https://myvault.vault.azure.net"}, entra.AzurePublic, "is not a Key Vault key name"},
		{"name with slash", Key{VaultURL: "https://myvault.vault.azure.net", Name: "a/b"}, entra.AzurePublic, "is not a Key Vault key name"},
		{"version with dots", Key{VaultURL: "https://myvault.vault.azure.net", Name: "k", Version: "../x"}, entra.AzurePublic, "is not a Key Vault key version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.key.Validate(tt.cloud)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestKeyNames(t *testing.T) {
	k := Key{VaultURL: "https://myvault.vault.azure.net/", Name: "sops", Version: "v1"}
	if got, want := k.String(), "https://myvault.vault.azure.net/keys/sops/v1"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := k.Vault(); got != "myvault" {
		t.Errorf("Vault = %q, want myvault", got)
	}
}

// FuzzValidate: whatever a document names, an accepted vault URL is an https URL whose host is
// one label under the cloud's suffix, so a token never goes elsewhere.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"https://myvault.vault.azure.net", "https://a.vault.azure.net:443/", "https://x.vault.azure.net.evil.example", "http://a.vault.azure.net", "https://a.vault.azure.net/keys", "https://[::1]/", "https://a.vault.azure.net%2f.evil"} {
		f.Add(s, "sops", "")
	}
	f.Fuzz(func(t *testing.T, vaultURL, name, version string) {
		k := Key{VaultURL: vaultURL, Name: name, Version: version}
		if k.Validate(entra.AzurePublic) != nil {
			return
		}
		host := strings.ToLower(k.Vault() + ".vault.azure.net")
		if !strings.HasPrefix(strings.ToLower(vaultURL), "https://"+host) {
			t.Errorf("accepted %q, whose host is not %s", vaultURL, host)
		}
		if strings.ContainsAny(name+version, "/?#%. ") {
			t.Errorf("accepted name %q version %q", name, version)
		}
	})
}
