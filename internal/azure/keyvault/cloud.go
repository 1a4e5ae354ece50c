package keyvault

import (
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// ServiceName is the name a cloud's environment file gives Key Vault (keyVaultDNSSuffix).
const ServiceName entra.ServiceName = "keyVault"

// dnsSuffixes are the vaults' domains in the well-known clouds, by cloud name.
var dnsSuffixes = map[string]string{
	entra.AzurePublic.Name:     "vault.azure.net",
	entra.AzureGovernment.Name: "vault.usgovcloudapi.net",
	entra.AzureChina.Name:      "vault.azure.cn",
}

// DNSSuffix is the domain vaults are named under in cloud c, such as vault.azure.net.
func DNSSuffix(c entra.Cloud) string {
	if s, ok := c.Service(ServiceName); ok && s.DNSSuffix != "" {
		return strings.Trim(s.DNSSuffix, ".")
	}
	if s, ok := dnsSuffixes[c.Name]; ok {
		return s
	}
	return dnsSuffixes[entra.AzurePublic.Name]
}

// ScopeFor is the scope of Key Vault tokens in cloud c: https://DNSSUFFIX/.default.
func ScopeFor(c entra.Cloud) string { return "https://" + DNSSuffix(c) + "/.default" }
