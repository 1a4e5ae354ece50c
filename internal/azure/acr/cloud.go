package acr

import (
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// ServiceName is the name a cloud's environment file gives Azure Container Registry
// (containerRegistryDNSSuffix).
const ServiceName entra.ServiceName = "containerRegistry"

// Scope is the scope of the Entra token a registry exchanges, the same in every well-known cloud.
const Scope = "https://containerregistry.azure.net/.default"

// ScopeFor returns the scope of the Entra token for registries of cloud c. A cloud read from an
// environment file has no registry audience of its own: its registries accept Resource Manager
// tokens, as Flux assumes too.
func ScopeFor(c entra.Cloud) string {
	if c.EnvironmentFile != "" {
		if rm, ok := c.Service(entra.ResourceManager); ok && rm.Endpoint != "" {
			return strings.TrimSuffix(rm.Endpoint, "/") + "/.default"
		}
	}
	return Scope
}

// customSuffix is the registry DNS suffix a custom cloud names, with a leading dot; empty when it
// names none (the well-known clouds' suffixes are those of Pattern).
func customSuffix(c entra.Cloud) string {
	s, ok := c.Service(ServiceName)
	if !ok || strings.Trim(s.DNSSuffix, ".") == "" {
		return ""
	}
	return "." + strings.Trim(strings.ToLower(s.DNSSuffix), ".")
}
