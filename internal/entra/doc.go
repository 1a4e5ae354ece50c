// Package entra turns an identity.Identity into Entra ID tokens: the second step of DESIGN.md's
// flow, and the one seam between "who" and "what". Every Azure client Azimuth builds takes the
// azcore.TokenCredential this package returns and nothing else.
//
// A Credential is built on azidentity's credentials, chosen explicitly from the identity's kind
// (never an implicit chain), for the cloud its authority host names. Tokens are kept in a cache
// shared by all credentials: one entry per identity, scopes, cloud and proxy, living 80% of the
// token's lifetime; one fetch in flight per key, fetches for different keys in parallel, failures
// never cached. Entra ID's errors become *AuthError, which says which identity failed and what
// would fix it.
package entra
