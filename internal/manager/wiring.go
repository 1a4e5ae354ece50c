package manager

import (
	"net/http"

	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/oci"
)

// AzureWiring connects the reconcilers to the Azure service adapters. One refresh-token cache
// serves every object, so objects that share an identity share one ACR exchange.
func AzureWiring() Wiring {
	cache := acr.NewCache(nil)
	return Wiring{
		AzureKeychain: func(c *entra.Credential, rt http.RoundTripper) oci.RegistryKeychain {
			return acr.NewKeychain(c, &acr.KeychainOptions{Transport: rt, Cache: cache})
		},
		ExplainDenied: func(c *entra.Credential, registry string, err error) error {
			return acr.Explain(err, c, registry, acr.Pull)
		},
	}
}
