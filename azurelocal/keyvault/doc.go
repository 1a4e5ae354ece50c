// Package keyvault is the local Azure Key Vault, keys only: the RSA keys of the vaults the
// directory declares (resources.keyVaults), served on https://NAME.vault.azure.net with Key
// Vault's REST API, challenge authentication and permission models, so that the real azkeys SDK
// (and sops' azkv key source on it) works against it unchanged.
//
// In docs/architecture.md's flow it stands where Key Vault stands, at the far end of the arrow
// from internal/azure/keyvault: the Kustomization's SOPS decryption sends a vault's key the data
// key to decrypt (or unwrap), with an Entra token the SDK got for the resource the 401 challenge
// named.
//
// Endpoints (api-version 2016-10-01, 7.0 to 7.6, or 2025-07-01, which azkeys v1.5.0 sends):
//
//	GET  /keys                                    list keys, Key Vault's pages of 25 and nextLink
//	GET  /keys/{name}/versions                    list a key's versions, paged alike
//	GET  /keys/{name}[/{version}]                 get a key (its public part)
//	POST /keys/{name}/create                      create a key, or a new version of it: kty RSA,
//	                                              key_size 2048 (default), 3072 or 4096, key_ops,
//	                                              attributes (enabled, nbf, exp) and tags
//	POST /keys/{name}[/{version}]/encrypt         encrypt, decrypt, wrapkey, unwrapkey with
//	POST /keys/{name}[/{version}]/decrypt         RSA-OAEP (SHA-1) or RSA-OAEP-256; values are
//	POST /keys/{name}[/{version}]/wrapkey         base64url without padding (padding is
//	POST /keys/{name}[/{version}]/unwrapkey       tolerated), as Key Vault writes them
//
// Key IDs read https://VAULT.vault.azure.net/keys/NAME/VERSION, the version 32 hexadecimal
// digits. Key names ignore case, as in Key Vault.
//
// Authentication, as Key Vault does it: a request without a Bearer token is refused with 401 and
// the challenge WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/TENANT",
// resource="https://vault.azure.net", where TENANT is the vault's (the login host follows the
// tenant's cloud). azkeys' challenge policy sends its first request without a token or a body,
// reads the tenant and resource, gets a token for https://vault.azure.net/.default in that tenant
// and sends the request again. A token is checked with azurelocal/entra's Verifier (signature of
// its tenant's key, issuer, lifetime with five minutes of skew), then for Key Vault's audience
// exactly (https://vault.azure.net, or its application ID cfa8b339-82a2-471a-a3c9-0fc0be7a4093;
// a trailing slash is refused, as Key Vault refuses it), then for the vault's tenant.
//
// Authorization follows the vault's permission model (the directory's authorization field):
//   - rbac: a role assignment (azurelocal/rbac, through the directory) at the key, the vault, its
//     resource group, subscription or management groups, whose role grants the data action:
//     Microsoft.KeyVault/vaults/keys/read (get, list, versions), keys/create/action,
//     keys/encrypt/action, keys/decrypt/action, keys/wrap/action, keys/unwrap/action. Key Vault
//     Crypto User grants them all but create; Key Vault Crypto Service Encryption User read, wrap
//     and unwrap; Key Vault Crypto Officer and Key Vault Administrator everything. Control-plane
//     roles (Owner, Contributor) grant none.
//   - accessPolicies: the key permission in the vault's access policies for the token's oid: get,
//     list (list and versions), create, encrypt, decrypt, wrapKey, unwrapKey. Role assignments
//     are not consulted.
//
// A key also refuses the operations its key_ops leave out.
//
// Wire format of refusals ({"error":{"code":C,"message":M[,"innererror":{"code":I}]}}); every
// 401 carries the challenge above:
//
//	no vault of that name                    404 VaultNotFound (the emulator's; in Azure the name does not resolve)
//	no Bearer token (none, or another        401 Unauthorized  AKV10000: Request is missing a Bearer or PoP token.
//	scheme)
//	unreadable token, bad signature          401 Unauthorized  [BearerReadAccessTokenFailed] Error validating token: 'S2S12005'.
//	token of a tenant the directory lacks    401 Unauthorized  AKV10046: Unable to resolve the key used for signature
//	                                                           validation. EncodedJwtHeader: 'HEADER'.
//	expired token                            401 Unauthorized  [TokenExpired] Error validating token: 'S2S12086'.
//	token not valid yet                      401 Unauthorized  Token not yet valid.
//	another audience (an ARM token)          401 Unauthorized  AKV10022: Invalid audience. Expected https://vault.azure.net
//	                                                           or cfa8b339-..., found: AUD.
//	token of another tenant                  401 Unauthorized  AKV10032: Invalid issuer. Expected one of
//	                                                           https://sts.windows.net/TENANT/, ..., found ISS.
//	unknown api-version                      400 BadParameter  The specified version (V) is not recognized. Consider using
//	                                                           the latest supported version (2025-07-01).
//	no api-version                           400 BadParameter  The api-version query parameter is missing. ... (the emulator's words)
//	invalid key name                         400 BadParameter  The request URI contains an invalid name: NAME
//	rbac: no role grants the data action     403 Forbidden     Caller is not authorized to perform action on resource.\r\n...
//	                                             (ForbiddenByRbac) Caller: appid=..;oid=..;iss=..\r\nAction: 'ACTION'\r\nResource:
//	                                                           '/subscriptions/../resourcegroups/../providers/microsoft.keyvault/
//	                                                           vaults/VAULT[/keys/KEY]'\r\nAssignment: (not found)\r\n
//	                                                           DenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC'
//	                                                           \r\nVault: VAULT;location=LOCATION\r\n
//	access policies: no permission           403 Forbidden     The user, group or application 'appid=..;oid=..;iss=..' does not
//	                                             (AccessDenied) have keys PERMISSION permission on key vault
//	                                                           'VAULT;location=LOCATION'. For help resolving this issue, please
//	                                                           see https://go.microsoft.com/fwlink/?linkid=2125287
//	operation not in the key's key_ops       403 Forbidden     Operation OP is not permitted on this key.
//	                                             (KeyOperationForbidden)
//	unknown key or version                   404 KeyNotFound   A key with (name/id) NAME[/VERSION] was not found in this key
//	                                                           vault. If you recently deleted this key ...
//	no value, value not base64url            400 BadParameter  Property 'value' is required.\r\n / Content of 'value' is not
//	                                                           base64url.\r\nProperty 'value' is required.\r\n
//	no or unknown alg, mistyped property     400 BadParameter  Property 'alg' has invalid value\r\n
//	a symmetric alg, RSA1_5                  400 BadParameter  The algorithm 'ALG' is not ... (the emulator's words)
//	decryption failure (wrong key, wrong     400 BadParameter  Error occurred while decoding OAEP padding.
//	size, tampered ciphertext)
//	plaintext too long for the key           400 BadParameter  The value is N bytes, too long ... (the emulator's words)
//	kty other than RSA                       400 BadParameter  Invalid kty value: KTY (...)  (KeyTypeNotSupported)
//	key_size, public_exponent, key_ops       400 BadParameter  Invalid key_size value: N. ... (the emulator's words)
//	an API this emulator does not serve      501 NotImplemented (the emulator's words: what it serves)
//
// The messages are Key Vault's as published in its documentation and in issues where clients
// print its answers, except where marked as the emulator's words; Key Vault publishes no text for
// those.
//
// Keys live in STATE/keyvault/VAULT.json, one file per vault, written atomically with mode 0600
// because it holds the private keys; nothing else (no log, no Record, no answer) carries key
// material. The keys the directory declares for a vault are made when the vault is first used
// and kept from then on, like the keys clients create: restarts of `azimuth dev up` keep them. A
// declared key that exists already is not made again, even if its declared size changed.
//
// Not emulated:
//   - secrets, certificates, Managed HSM (*.managedhsm.azure.net), storage account keys, the
//     /rng endpoint and key attestation;
//   - EC and oct keys, RSA-HSM keys (premium vaults), import, export, backup and restore, update
//     (PATCH), delete, soft-delete, recovery and purge, rotation and rotation policies, release
//     policies, sign and verify;
//   - RSA1_5: refused, because PKCS #1 v1.5 decryption is unsafe (Go deprecates it); Key Vault
//     still supports it;
//   - the enabled, nbf and exp attributes are stored and returned but not enforced, and tags are
//     not limited;
//   - PoP tokens, CAE claims challenges, network ACLs, private endpoints and firewalls;
//   - the control plane (ARM's Microsoft.KeyVault/vaults): vaults, their permission model and
//     access policies come from the directory file only;
//   - vaults of the US Government and China clouds (*.vault.usgovcloudapi.net, *.vault.azure.cn):
//     only the public cloud's suffix is served, though a vault's tenant may be of any cloud;
//   - throttling (429) and service limits.
package keyvault
