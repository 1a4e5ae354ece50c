package blob

import (
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Scope is the scope of Storage tokens, the same in every cloud.
const Scope = "https://storage.azure.com/.default"

// ScopeFor is the scope of Storage tokens in cloud c.
func ScopeFor(entra.Cloud) string { return Scope }

// dnsSuffixes are the blob services' domains in the well-known clouds, by cloud name.
var dnsSuffixes = map[string]string{
	entra.AzurePublic.Name:     "blob.core.windows.net",
	entra.AzureGovernment.Name: "blob.core.usgovcloudapi.net",
	entra.AzureChina.Name:      "blob.core.chinacloudapi.cn",
}

// zoneSuffix is the domain of the public cloud's Azure DNS zone endpoints
// (ACCOUNT.zNN.blob.storage.azure.net).
const zoneSuffix = "blob.storage.azure.net"

// DNSSuffix is the domain storage accounts' blob services are named under in cloud c, such as
// blob.core.windows.net; the public cloud's for a cloud Azimuth does not know.
func DNSSuffix(c entra.Cloud) string {
	if s, ok := dnsSuffixes[c.Name]; ok {
		return s
	}
	return dnsSuffixes[entra.AzurePublic.Name]
}

// cloudOf returns the name of the well-known cloud whose blob domain host is under, and false
// for a host under none.
func cloudOf(host string) (string, bool) {
	host = strings.ToLower(host)
	for name, suffix := range dnsSuffixes {
		if strings.HasSuffix(host, "."+suffix) {
			return name, true
		}
	}
	if strings.HasSuffix(host, "."+zoneSuffix) {
		return entra.AzurePublic.Name, true
	}
	return "", false
}
