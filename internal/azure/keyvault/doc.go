// Package keyvault is the adapter for Azure Key Vault keys: what Azimuth knows of the service in
// each cloud (its DNS suffix and the scope of its tokens), a Client that encrypts and decrypts
// with a vault's keys as an Entra credential, and Explain, which turns the vault's refusals into
// what to change.
//
// In DESIGN.md's flow it sits between the credential and the Kustomization's SOPS decryption
// (internal/decrypt): a Client takes an azcore.TokenCredential (an *entra.Credential for the
// Kustomization's decryption identity) and Azimuth's HTTP transport, never an identity, and never
// a credential or a setting from the environment. Its operations are the ones SOPS's azure_kv
// master keys use: Encrypt and Decrypt with RSA-OAEP-256 on the raw data key (not wrapKey or
// unwrapKey). The scope of its tokens comes from the vault's 401 challenge, as azkeys does; in
// the well-known clouds it is ScopeFor's.
//
// A vault URL is accepted only with https, no path beyond "/", and a host <vault>.<DNSSuffix> of
// the credential's cloud, so that a token for Key Vault never travels to another host.
//
// Explain knows Key Vault's refusals: 403 ForbiddenByRbac (the role Key Vault Crypto User is
// missing: an *entra.RoleError with the `az role assignment create` command), 403 AccessDenied
// (a vault with access policies: an *AccessPolicyError with `az keyvault set-policy`), 403
// ForbiddenByFirewall, 404 KeyNotFound and 401 (a token from the wrong tenant or for the wrong
// audience). Errors never hold a token or key material.
package keyvault
