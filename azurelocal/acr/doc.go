// Package acr is the local Azure Container Registry: a real OCI Distribution registry
// (go-containerregistry's pkg/registry, one in-memory store per registry) for every registry the
// directory declares, served on NAME.azurecr.io (and NAME.azurecr.us, NAME.azurecr.cn) behind
// ACR's token authentication.
//
// In DESIGN.md's flow it stands where ACR stands. A client (internal/azure/acr) trades an Entra
// ID token at POST /oauth2/exchange for an ACR refresh token; go-containerregistry, Docker or
// crane trade that refresh token at /oauth2/token for an access token scoped to repository
// actions; every /v2/ request is then checked against that scope. Entra tokens are verified with
// azurelocal/entra's Verifier (signature, issuer, audience, lifetime). What an access token
// grants is decided by the directory's role assignments (azurelocal/rbac) at the registry's ARM
// scope or any scope above it:
//
//	pull (GET, HEAD)            Microsoft.ContainerRegistry/registries/pull/read      AcrPull, AcrPush, Reader, Contributor, Owner
//	push (POST, PUT, PATCH)     Microsoft.ContainerRegistry/registries/push/write     AcrPush, Contributor, Owner
//	delete (DELETE)             Microsoft.ContainerRegistry/registries/artifacts/delete  Contributor, Owner, a custom AcrDelete role
//	registry:catalog:*          as pull
//
// A principal without a matching role still gets an access token, with an empty access list, as
// ACR does; the registry then answers 401 UNAUTHORIZED with ACR's message and the missing access
// in the error's detail.
//
// Wire format, as ACR speaks it:
//   - /v2/ requests without a valid token: 401 with
//     WWW-Authenticate: Bearer realm="https://REG/oauth2/token",service="REG"[,scope="repository:NAME:pull"]
//     (plus error="invalid_token" or error="insufficient_scope" when a token was sent) and the body
//     {"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information.","detail":[...]}]}.
//   - POST /oauth2/exchange, form grant_type=access_token, service, access_token (tenant optional):
//     {"refresh_token": JWT}, signed by this server's key, valid for three hours, naming the
//     principal (sub = object ID, tenant) and the registry (aud).
//   - /oauth2/token: POST with grant_type=refresh_token (refresh_token) or grant_type=password
//     (username, password), or GET with Basic credentials (username
//     00000000-0000-0000-0000-000000000000 and the refresh token as password, the admin user, or a
//     service principal's application ID and client secret); service and one or more scope
//     parameters: {"access_token": JWT}, valid for 75 minutes.
//   - service principal logins (`docker login REG -u APP_ID -p SECRET`, crane, containerd): the
//     registry asks Entra ID for a token with the client credentials grant in the registry's
//     tenant (WithEntra), so a wrong secret or unknown application gets 401
//     {"errors":[{"code":"UNAUTHORIZED","message":"Invalid clientid or client secret."}]}, and the
//     access token grants what the principal's roles allow, as for an exchanged token.
//   - tag lists and the catalog page with n and last and a Link header, as the distribution spec
//     says; the catalog answers 100 repositories per page when n is absent.
//
// Not emulated:
//   - repository-scoped tokens and scope maps, ABAC-enabled registries (the "Container Registry
//     Repository ..." roles), anonymous pull, customer-managed keys, content trust, quarantine;
//   - Basic credentials sent straight to /v2/ (only the token endpoint takes them);
//   - service principal logins with a certificate, and the "aad access token with sp failed"
//     messages ACR gives for a user name that is not a GUID (such a name is an unknown user here);
//   - the /acr/v1/ metadata API, webhooks, tasks, geo-replication, data endpoints
//     (REG.REGION.data.azurecr.io) and the ARM control plane of registries;
//   - firewalls and private endpoints (403 DENIED "client with IP ... is not allowed access");
//   - persistence: content lives in memory and is lost when the process ends; one upload request
//     (a layer pushed whole, or a chunk) holds at most 1 GiB (413 SIZE_INVALID), where ACR takes
//     layers of up to 200 GiB;
//   - cross-repository blob mounts (a mount request becomes a normal upload, as ACR does when the
//     source is not readable);
//   - refresh-token revocation when a role assignment is removed (roles are checked each time an
//     access token is issued, which is what a client notices);
//   - the registry's cloud is not checked against the host suffix: any declared registry answers on
//     every suffix the gateway serves.
package acr
