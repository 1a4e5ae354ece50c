// Package eventhubs is the adapter for Azure Event Hubs: what Azimuth knows of the service in
// each cloud (the scope of its tokens, the host suffix of its namespaces), the AMQP sender of
// the azureeventhub notification Provider (producer.go) and the explanation of its refusals
// (explain.go). In docs/architecture.md's flow it sits between the credential and
// internal/notify: it takes a credential (or a SAS connection string), never an identity.
package eventhubs

import (
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Scope is the scope of Event Hubs tokens, the same in every cloud. It has a double slash: the
// Event Hubs SDK asks for exactly this.
const Scope = "https://eventhubs.azure.net//.default"

// ScopeFor is the scope of Event Hubs tokens in cloud c.
func ScopeFor(entra.Cloud) string { return Scope }

// ServiceName is Event Hubs in a custom cloud's description (its serviceBusEndpointSuffix).
const ServiceName entra.ServiceName = "serviceBus"

var dnsSuffixes = map[string]string{
	entra.AzurePublic.Name:     "servicebus.windows.net",
	entra.AzureGovernment.Name: "servicebus.usgovcloudapi.net",
	entra.AzureChina.Name:      "servicebus.chinacloudapi.cn",
}

// DNSSuffix is the domain namespaces are named under in cloud c, such as servicebus.windows.net.
func DNSSuffix(c entra.Cloud) string {
	if s, ok := c.Service(ServiceName); ok && s.DNSSuffix != "" {
		return strings.Trim(s.DNSSuffix, ".")
	}
	if s, ok := dnsSuffixes[c.Name]; ok {
		return s
	}
	return dnsSuffixes[entra.AzurePublic.Name]
}

// NamespaceHost is Flux's rule for a Provider's channel: the namespace's host name. A channel
// that holds ".servicebus." is a host name already and is kept as it is; a namespace name gets
// the suffix of cloud c.
func NamespaceHost(channel string, c entra.Cloud) string {
	channel = strings.TrimSpace(channel)
	if strings.Contains(channel, ".servicebus.") {
		return channel
	}
	return channel + "." + DNSSuffix(c)
}
