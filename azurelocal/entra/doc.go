// Package entra emulates Microsoft Entra ID's token service on login.microsoftonline.com (and
// the US Government and China login hosts) well enough that the real Azure SDK credentials work
// against it with their default settings: MSAL's instance discovery, the tenant's OpenID
// configuration and keys, and the OAuth 2.0 client credentials grant with a client secret, a
// certificate assertion or a federated (workload identity) assertion.
//
// Tokens are v1 access tokens (iss https://sts.windows.net/TENANT/) for the resources Azimuth
// reaches: ARM, Storage (and each account), Key Vault, Event Hubs, ACR, Azure DevOps, Microsoft Graph, and the AKS
// server application (AKSServerAppID: scope 6dae42f8-4368-4678-94ff-3960e28e3630/.default, aud
// the bare GUID), whose tokens an AKS cluster's API server accepts. Such an API server verifies
// them with the tenant's v1 OpenID configuration:
//
//	GET /{tenant}/.well-known/openid-configuration          issuer https://sts.windows.net/TENANT/ (sts.chinacloudapi.cn
//	                                                        in Azure China), jwks_uri /TENANT/discovery/keys
//	GET /{tenant}/v2.0/.well-known/openid-configuration     issuer https://HOST/TENANT/v2.0, jwks_uri /TENANT/discovery/v2.0/keys
//	GET /{tenant}/discovery/keys, /{tenant}/discovery/v2.0/keys   the tenant's signing key (every tenant's of the
//	                                                        host's cloud for common, organizations, consumers)
//
// A tenant given by domain name is answered with its ID; an unknown tenant, or one of another
// cloud, gets AADSTS90002.
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
//   - the v1 token endpoint (/oauth2/token with resource=) and the on-behalf-of grant; the v1
//     OpenID configuration names it and the authorize, device code and logout endpoints, which
//     are not served;
//   - the discovery document on sts.windows.net (a JWT authenticator needs its discovery URL set
//     to login.microsoftonline.com's);
//   - jti replay detection (MSAL.NET reuses signed assertions, so Entra cannot reject reuse);
//   - token encryption, app roles and the roles/scp claims, optional claims, CAE and PoP tokens;
//   - throttling, regional endpoints and the ESTS-R token service.
package entra
