// Package eventhubs is the adapter for Azure Event Hubs: what Azimuth knows of the service in
// each cloud (the scope of its tokens). In DESIGN.md's flow it sits between the credential and
// the notification Provider of type azureeventhub; the AMQP sender arrives with the Event Hubs
// slice, on this knowledge.
package eventhubs

import "github.com/azimuth-gitops/azimuth/internal/entra"

// Scope is the scope of Event Hubs tokens, the same in every cloud. It has a double slash: the
// Event Hubs SDK asks for exactly this.
const Scope = "https://eventhubs.azure.net//.default"

// ScopeFor is the scope of Event Hubs tokens in cloud c.
func ScopeFor(entra.Cloud) string { return Scope }
