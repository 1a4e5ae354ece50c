package entra

// The scopes the tests ask for. Each service's adapter (internal/azure/<service>) owns its scope;
// this package knows none, so the tests spell them out.
const (
	ContainerRegistryScope = "https://containerregistry.azure.net/.default"
	StorageScope           = "https://storage.azure.com/.default"
	keyVaultScope          = "https://vault.azure.net/.default"
	EventHubsScope         = "https://eventhubs.azure.net//.default"
	DevOpsScope            = "499b84ac-1321-427f-aa17-267ca6975798/.default"
)
