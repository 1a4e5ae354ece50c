// Package acr authenticates to Azure Container Registry with Microsoft Entra ID, the way Flux
// and `az acr login` do, for go-containerregistry clients.
//
// In DESIGN.md's flow it sits between the credential and the reconcilers: a Keychain takes an
// azcore.TokenCredential (an *entra.Credential for the object's identity), gets an Entra token
// for https://containerregistry.azure.net/.default, exchanges it at the registry's
// /oauth2/exchange for an ACR refresh token, and hands go-containerregistry the Basic credentials
// 00000000-0000-0000-0000-000000000000 + refresh token, which go-containerregistry trades at
// /oauth2/token for access tokens as with any registry. Hosts that are not ACR get
// authn.Anonymous, so the Keychain composes with others (authn.NewMultiKeychain).
//
// Refresh tokens are cached per principal (the tenant and object ID of the Entra token) and
// registry until shortly before their exp claim, with one exchange in flight per key; a Cache
// shared by a controller's keychains lets objects with the same identity share them, and a
// keychain serves a cached refresh token only after its credential produced an Entra token for
// that principal. When a registry answers 401, Keychain.Invalidate drops the refresh token and the
// Entra token; Keychain.Retry wraps an operation with invalidate-and-retry-once. Explain turns a
// refusal that remains into an *entra.RoleError that names the identity, the role (AcrPull or
// AcrPush) and the `az role assignment create` command that grants it.
//
// Host recognition (ParseRegistry, IsRegistry) follows Flux: the expression Pattern, plus the
// registry suffixes of a custom cloud.
package acr
