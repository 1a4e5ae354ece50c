package keyvault

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Key names one key of a vault, as a SOPS azure_kv master key does with its vaultUrl, key and
// version.
type Key struct {
	// VaultURL is the vault's address, such as https://myvault.vault.azure.net.
	VaultURL string
	// Name is the key's name in the vault.
	Name string
	// Version is the key's version; empty means the key's current version.
	Version string
}

// String is the key's identifier, VAULTURL/keys/NAME/VERSION, as SOPS prints it.
func (k Key) String() string {
	return fmt.Sprintf("%s/keys/%s/%s", strings.TrimSuffix(k.VaultURL, "/"), k.Name, k.Version)
}

// Vault is the vault's name, the first label of its host; empty when VaultURL is not a URL.
func (k Key) Vault() string {
	u, err := url.Parse(k.VaultURL)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(u.Hostname(), ".")
	return name
}

var (
	// vaultLabel is a vault's name as it appears in its host. Key Vault names are 3-24
	// characters; the check is looser so that it never refuses a real vault.
	vaultLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	// objectName is a key's name: Key Vault allows 1-127 letters, digits and hyphens.
	objectName = regexp.MustCompile(`^[A-Za-z0-9-]{1,127}$`)
	// objectVersion is a key's version: 32 hexadecimal digits in practice.
	objectVersion = regexp.MustCompile(`^[A-Za-z0-9]{0,64}$`)
)

// Validate checks that k names a key of a vault of cloud c: VaultURL is https://VAULT.SUFFIX
// (with SUFFIX the cloud's DNSSuffix, an optional port 443 and an optional trailing "/"), and the
// name and version are ones Key Vault can hold. A token for Key Vault is sent only to such a
// host. The error names the URL, the key and what is expected.
func (k Key) Validate(c entra.Cloud) error {
	if err := validateVaultURL(k.VaultURL, c); err != nil {
		return err
	}
	if !objectName.MatchString(k.Name) {
		return fmt.Errorf("key name %q of vault %s is not a Key Vault key name (1-127 letters, digits and hyphens)", clip.String(k.Name, 200), k.VaultURL)
	}
	if !objectVersion.MatchString(k.Version) {
		return fmt.Errorf("key version %q of key %s in vault %s is not a Key Vault key version (letters and digits, such as 32 hexadecimal digits, or empty for the current version)", clip.String(k.Version, 200), k.Name, k.VaultURL)
	}
	return nil
}

func validateVaultURL(vaultURL string, c entra.Cloud) error {
	suffix := DNSSuffix(c)
	want := fmt.Sprintf("a vault URL of cloud %s is https://VAULT.%s", c.Name, suffix)
	fail := func(reason string) error {
		return fmt.Errorf("vault URL %q %s: %s", clip.String(vaultURL, 200), reason, want)
	}
	u, err := url.Parse(vaultURL)
	switch {
	case vaultURL == "":
		return fmt.Errorf("the vault URL is empty: %s", want)
	case err != nil:
		return fail("is not a URL")
	case u.Scheme != "https":
		return fail("does not use https")
	case u.User != nil:
		return fail("holds a user name or password")
	case u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || (u.Path != "" && u.Path != "/"):
		return fail("has a path, query or fragment")
	case u.Port() != "" && u.Port() != "443":
		return fail("names a port other than 443")
	}
	label, rest, _ := strings.Cut(strings.ToLower(u.Hostname()), ".")
	if rest != strings.ToLower(suffix) || !vaultLabel.MatchString(label) {
		return fail("is not a Key Vault of cloud " + c.Name)
	}
	return nil
}
