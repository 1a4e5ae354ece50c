// Package access is the one step from an object to what reaching a service takes: it reads the
// object's auth fields (serviceAccountName, secretRef, certSecretRef, proxySecretRef) in the
// object's own namespace, and turns them into a connection (an HTTP transport with the object's
// CA and proxy, shared among objects with the same ones) and either an Entra ID credential or a
// static credential the user already has.
//
// In DESIGN.md's flow it is the step from the object spec through identity.Resolve and
// entra.Credential to an azcore.TokenCredential: the feature gate, the lockdown's default service
// account and the proxy are applied here, once, for every protocol. Protocol packages (oci, and
// git, blob, keyvault and eventhubs clients as they arrive) call Resolver and hand its credential
// to their internal/azure/<service> adapter; controllers never see an identity.
//
// It is also the one home of the static service credentials: registry pull secrets (docker
// config), storage account keys and SAS tokens, notification Providers' secrets (webhook
// addresses, Azure DevOps PATs, HMAC keys, headers) today; Event Hubs SAS connection strings
// with their slice. Their parsers name the secret and the key in errors,
// never a value.
package access
