// Package blob is the local Azure Blob Storage: Azurite, Microsoft's own emulator (pinned in
// hack/azurite and installed by `make tools`), started as a child process on 127.0.0.1 and served
// behind the gateway on https://ACCOUNT.blob.core.windows.net for the storage accounts the
// directory declares (resources.storageAccounts), so that the real azblob SDK (and Flux's Bucket
// source on it) works against it unchanged. Azurite checks no roles: this package checks
// Bearer tokens and Azure RBAC itself, and hands Azurite only the requests Azure would let
// through.
//
// In docs/architecture.md's flow it stands where Azure Storage stands, at the far end of the
// arrow from internal/azure/blob: a Bucket's artifacts are listed and downloaded with an Entra
// token, an account key or a SAS.
//
// Azurite (StartAzurite) runs with --oauth basic, --skipApiVersionCheck (azblob v1.8.3 sends
// x-ms-version 2026-12-06, newer than Azurite 3.35 knows), --disableTelemetry, the gateway's
// certificate (--cert, --key: Azurite takes Bearer tokens over HTTPS only), AZURITE_ACCOUNTS built
// from the directory's accounts and keys (Azurite's devstoreaccount1 is not served), and
// --inMemoryPersistence, or --location STATE/blob to keep blobs across restarts. It listens on a
// free port, in a process group of its own that Stop ends (SIGTERM, SIGKILL after five seconds)
// and that dies with the process that started it. The directory's containers are created, private,
// once it listens.
//
// Requests are forwarded with their path and Host unchanged: Azurite reads the account from a Host
// that is not an IP address ("production-style URLs"), so a shared key signature, which covers
// /ACCOUNT/CONTAINER/BLOB built from the host-style URL, and a SAS, which covers
// /blob/ACCOUNT/CONTAINER/BLOB, verify in Azurite as they would in Azure. Rewriting to Azurite's
// path-style URL (https://127.0.0.1:PORT/ACCOUNT/CONTAINER/BLOB) would break every shared key
// signature: Azurite signs the path it receives, account segment and all.
//
// Authentication and authorization:
//   - Bearer: the token is checked here, as Azure Storage checks it: azurelocal/entra's Verifier
//     (signature of its tenant's key, issuer, lifetime with five minutes of skew), then the
//     audience (https://storage.azure.com, its application ID e406a681-f3d4-42a8-90b6-c2b029497af1,
//     or https://ACCOUNT.blob.core.windows.net of this account; a trailing slash is ignored), then
//     the tenant, which must be the account's subscription's. Then the token's oid must hold a
//     role assignment (azurelocal/rbac, through the directory) at the container, the account, its
//     resource group, subscription or management groups whose role grants the operation's
//     permission, as each Blob REST operation documents it: the data action
//     Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read for List Blobs, Get
//     Blob, Get Blob Properties; blobs/write for Put Blob, Put Block, Put Block List and the other
//     writes; blobs/delete; blobs/tags/read and tags/write; blobs/filter/action; and the actions
//     blobServices/containers/read (List Containers, Get Container Properties),
//     containers/write, containers/delete, blobServices/read and write (service properties),
//     blobServices/generateUserDelegationKey/action. An operation the table does not know needs
//     the nearest data action by its method: read (GET, HEAD), delete, or write. Storage Blob Data
//     Reader, Contributor and Owner grant what Azure's do; control-plane roles grant no data
//     action, though Reader's */read, like Contributor's and Owner's, grants
//     blobServices/containers/read, so they list containers but read no blob, as in Azure. The
//     token then goes on to Azurite as it came, which accepts it (v1 issuer
//     https://sts.windows.net/, the audiences above, a lifetime that covers the real clock).
//   - Shared key (SharedKey, SharedKeyLite) and SAS (service, account): passed to Azurite, which
//     checks the signature with the account's keys, the SAS's times, permissions and resource
//     types.
//   - Anonymous: passed to Azurite; the directory's containers are private.
//
// Wire format of the answers given here (Azure Storage's XML, <?xml version="1.0"
// encoding="utf-8"?><Error><Code>C</Code><Message>M\nRequestId:ID\nTime:T</Message>
// [<AuthenticationErrorDetail>D</AuthenticationErrorDetail>]</Error>, with x-ms-error-code C and
// x-ms-request-id ID; every 401 carries WWW-Authenticate: Bearer
// authorization_uri=https://LOGIN-HOST/TENANT/oauth2/authorize resource_id=https://storage.azure.com,
// TENANT the account's and LOGIN-HOST that of its cloud, which azblob follows once to the scope
// https://storage.azure.com/.default):
//
//	no account of that name                 404 ResourceNotFound  The specified resource does not exist. No storage account
//	                                                              'NAME' is declared ... (the emulator's words; in Azure the
//	                                                              name does not resolve, and a client fails to connect)
//	Bearer: not a JWT                       401 InvalidAuthenticationInfo  D: JWT is not well formed.
//	Bearer: a tenant the directory lacks    401 InvalidAuthenticationInfo  D: Signature validation failed. Unable to match key:
//	                                                              kid: 'KID'.
//	Bearer: issuer not the token's tenant's 401 InvalidAuthenticationInfo  D: Issuer validation failed. Issuer did not match.
//	Bearer: expired                         401 InvalidAuthenticationInfo  D: Lifetime validation failed. The token is expired.
//	Bearer: not valid yet                   401 InvalidAuthenticationInfo  D: Lifetime validation failed. The token is not yet valid.
//	Bearer: bad signature, missing claims   401 InvalidAuthenticationInfo  D: Signature validation failed. Signature is invalid.
//	Bearer: another audience (ARM, Key      401 InvalidAuthenticationInfo  D: Audience validation failed. Audience did not match.
//	Vault, another account)
//	Bearer: a tenant not the account's      401 InvalidAuthenticationInfo  D: Issuer validation failed. Issuer did not match.
//	Bearer: no role grants the permission   403 AuthorizationPermissionMismatch  This request is not authorized to perform this
//	                                                              operation using this permission.
//	shared key matching neither key         403 AuthenticationFailed  Server failed to authenticate the request. Make sure the value
//	                                                              of Authorization header is formed correctly including the
//	                                                              signature. D: The MAC signature found in the HTTP request is not
//	                                                              the same as any computed signature. (Azurite says 400
//	                                                              InvalidAuthenticationInfo; translated. Azure adds the signature
//	                                                              and the string to sign, which Azurite does not tell.)
//	SAS with a bad signature, or expired    403 AuthenticationFailed  the same message; D: Signature did not match, or the
//	or not yet valid                                              signature is not valid at this time. (Azurite says 403
//	                                                              AuthorizationFailure; translated. Azure's detail names which.)
//	Azurite unreachable                     502 InternalError     The local Blob service (Azurite) did not answer: ... (the
//	                                                              emulator's words)
//	Blob not started (azurelocal.Options    501 NotImplemented    Blob Storage is not running in this local Azure ... (the
//	without Blob)                                                 emulator's words)
//
// The messages and details are Azure Storage's as clients print them (the details are
// Microsoft.IdentityModel's words without their IDX numbers), except where marked. Every other
// answer, success or refusal (a SAS without the permission: 403 AuthorizationPermissionMismatch;
// ContainerNotFound, BlobNotFound, ContainerAlreadyExists, ...), is Azurite's.
//
// Not emulated:
//   - Azurite's own limits: see its documentation; notably the ServiceEndpoint of list answers
//     names https://ACCOUNT.blob.core.windows.net/ACCOUNT, and anonymous requests to a private
//     container get 403 AuthorizationFailure (Azure answers 404 ResourceNotFound, or 409
//     PublicAccessNotPermitted where the account forbids public access, the default for new
//     accounts);
//   - Get and Set Container ACL with a Bearer token: Azurite refuses them (403
//     AuthorizationFailure); user delegation SAS: the key is issued, but Azurite 3.35 does not
//     verify a SAS that azblob v1.8.3 signs with it;
//   - v2 tokens (issuer https://login.microsoftonline.com/TENANT/v2.0) pass the checks here but
//     not Azurite's, and Azurite judges lifetimes by the real clock without skew: a test that
//     moves the local Azure's clock by more than the five minutes Entra back-dates tokens gets
//     Azurite's 403 AuthenticationFailed;
//   - blob batch: the sub-requests are not checked one by one; the batch needs blobs/delete at its
//     URL's scope. Copy Blob's source is not authorized for the caller;
//   - role assignment conditions (ABAC on tags, paths), container scopes below a container,
//     deny assignments; roles are checked as Put Blob's write, not add/action for a new blob;
//   - the control plane (ARM's Microsoft.Storage/storageAccounts): accounts, keys and containers
//     come from the directory file; key rotation, shared key access disabled, public access
//     settings, firewalls, private endpoints, CORS rules set through ARM;
//   - secondary (ACCOUNT-secondary), DFS (*.dfs.core.windows.net), static website, queue, table
//     and file endpoints; the US Government and China clouds' blob suffixes (an account's tenant
//     may be of any cloud);
//   - $root (a blob path with one segment is read as a container), CAE, PoP tokens, throttling
//     (503 ServerBusy) and service limits.
package blob
