// Package entra emulates Microsoft Entra ID's token service on login.microsoftonline.com (and
// the US Government and China login hosts) well enough that the real Azure SDK credentials work
// against it with their default settings: MSAL's instance discovery, the tenant's OpenID
// configuration and keys, and the OAuth 2.0 client credentials grant with a client secret, a
// certificate assertion or a federated (workload identity) assertion.
//
// In DESIGN.md's flow it is the far end of entra.Credential: every azcore.TokenCredential the
// engine builds gets its tokens here in tests and in `azimuth dev`. The service emulators verify
// the access tokens it issues with a Verifier, then authorize them with azurelocal/directory.
//
// It is strict on purpose. Client secrets, registered certificates (thumbprint or subject name
// and issuer), assertion audience, lifetime and jti, and federated credentials (issuer, subject and
// audience matched exactly, the external token's signature checked against the issuer's published
// keys) are all enforced, and failures come back as Entra's JSON errors with the real AADSTS codes.
//
// Not emulated:
//   - user sign-in flows (authorization code, device code, ROPC), refresh tokens, ID tokens;
//   - the v1 token endpoint (/oauth2/token with resource=) and the on-behalf-of grant;
//   - jti replay detection (MSAL.NET reuses signed assertions, so Entra cannot reject reuse);
//   - token encryption, app roles and the roles/scp claims, optional claims, CAE and PoP tokens;
//   - throttling, regional endpoints and the ESTS-R token service.
package entra
