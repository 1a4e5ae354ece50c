// Package blob is the adapter for Azure Blob Storage: what Azimuth knows of the service in each
// cloud (the scope of its tokens, its host suffixes), a Container that lists and downloads the
// blobs of one container, and Explain, which turns the service's refusals into what to change.
//
// In docs/architecture.md's flow it sits between the credential and the Bucket reconciler's
// protocol package (internal/bucket): a Container takes an azcore.TokenCredential (an
// *entra.Credential for the Bucket's identity), a storage account's shared key, or a shared
// access signature, and Azimuth's HTTP transport; never an identity, and never a credential or a
// setting from the environment (no DefaultAzureCredential).
//
// An endpoint is accepted only as https://ACCOUNT.<suffix> of a well-known cloud
// (blob.core.windows.net, blob.core.usgovcloudapi.net, blob.core.chinacloudapi.cn, and the
// public cloud's DNS zone endpoints under blob.storage.azure.net), with no path beyond "/", so
// that a token for Storage never travels to another host; plain http only when the caller allows
// it, and never with a token.
//
// Explain knows the service's refusals: 403 AuthorizationPermissionMismatch (the role Storage
// Blob Data Reader is missing: an *entra.RoleError with the `az role assignment create`
// command; for a SAS, the permissions it lacks), 404 ContainerNotFound, 403 AuthenticationFailed
// (an expired SAS, a wrong key or signature), 403 KeyBasedAuthenticationNotPermitted, 403
// AuthorizationFailure (the account's firewall) and 401 (a token the account does not accept).
// No message holds a token, a key or a SAS signature.
package blob
