// Package devops is the local Azure Repos: the Git repositories of the Azure DevOps
// organizations the directory declares, served by git itself (git http-backend through
// net/http/cgi, git upload-pack and receive-pack over SSH) behind Azure DevOps' authentication
// and permissions.
//
// In docs/architecture.md's flow it stands where dev.azure.com stands, at the far end of the
// arrow from internal/azure/devops: a client sends an Entra token it got for Azure DevOps'
// resource (scope 499b84ac-1321-427f-aa17-267ca6975798/.default), a PAT, or an SSH key, and the
// emulator decides as Azure DevOps does. The gateway routes dev.azure.com, vsaex.dev.azure.com
// and vssps.dev.azure.com (Hosts) here; ssh.dev.azure.com
// has a listener of its own (ServeSSH), which the connect-to map names for port 22. Clients
// without a connect-to setting reach both through the local proxy (HTTPS_PROXY for git over
// HTTPS; a CONNECT tunnel or ssh -p for SSH).
//
// Endpoints:
//   - https://dev.azure.com/{org}/{project}/_git/{repo} (and /{org}/_git/{repo} for the
//     repository named like its project): GET info/refs?service=git-upload-pack or
//     git-receive-pack, POST git-upload-pack and git-receive-pack. The URL's user name
//     (https://{org}@dev.azure.com/...) is ignored, as Azure DevOps ignores it. Anything else
//     is 404: the dumb protocol is not served.
//   - git@ssh.dev.azure.com:v3/{org}/{project}/{repo}: exec of git-upload-pack or
//     git-receive-pack with that path, quoted as git quotes it.
//   - https://dev.azure.com/{org}/{project}/_apis/git/repositories/{repo}/commits/{sha}/statuses
//     (rest.go): GET lists a commit's statuses, the newest first (Readers); POST adds one
//     (Contributors, with a PAT that writes). The api-version comes in the query or the Accept
//     header, as azure-devops-go-api sends it; none is 400 as in Azure DevOps.
//   - OPTIONS https://dev.azure.com/{org}/_apis (authenticated): the resource locations
//     azure-devops-go-api discovers before its first call (the statuses route, location
//     428dd4fb-fda5-4722-af02-9313b80305da, and ResourceAreas); GET
//     https://dev.azure.com/{org}/_apis/ResourceAreas[/{areaId}] (anonymous): git's resource area,
//     at the organization's URL. REST refusals are Azure DevOps' JSON error wrapper ($id, message,
//     typeName, typeKey) with the messages and statuses below.
//   - Organization members and groups (graph.go), as azimuth setup plan --apply, az devops and
//     the Terraform provider call them, each with an api-version and an Entra token or PAT of a
//     member of the organization:
//     POST https://vsaex.dev.azure.com/{org}/_apis/serviceprincipalentitlements adds a service
//     principal or managed identity of the organization's tenant by its object ID
//     (servicePrincipal.originId, origin aad) and returns its entitlement with its subject
//     descriptor; adding a member again returns the same. A refused principal (unknown, a user,
//     another tenant) is 200 with isSuccess false and the reason in operationResult.errors.
//     GET https://dev.azure.com/{org}/_apis/projects/{project name or ID}: the project and its ID.
//     GET https://vssps.dev.azure.com/{org}/_apis/graph/descriptors/{project ID}: its scope
//     descriptor. GET .../_apis/graph/groups[?scopeDescriptor=...]: Readers, Contributors and
//     Project Administrators of the project (of every project without a scope), with their
//     descriptors. PUT, GET and HEAD .../_apis/graph/memberships/{subject}/{group}: add (201,
//     also when present) and check (200 or 404) a member of Readers or Contributors. Writes
//     (the entitlement, PUT) need a Project Collection Administrator (the organization's
//     administrators in the directory); they change the directory, and info/refs, pushes and
//     statuses honour them at once.
//
// Authentication:
//   - Authorization: Bearer with an Entra access token, verified with azurelocal/entra's
//     Verifier: the signature of the issuing tenant's key, its v1 or v2 issuer, the audience
//     499b84ac-1321-427f-aa17-267ca6975798 exactly (Entra issues no other audience for this
//     resource, so api:// or any other form is refused), and the lifetime. The token's tenant
//     must be the organization's (its subscription's tenant) and its oid a member.
//   - Basic credentials (any user name) whose password is a PAT of the organization, or an Entra
//     token as azure-devops-go-api sends one; a PAT as the user name with no password works too.
//     A PAT stands for its user, limited by its scopes (vso.code reads; vso.code_write,
//     vso.code_manage, vso.code_full and app_token also push) and its expiry.
//   - SSH: an RSA key that a user registered in the organization (the directory's sshKeys).
//
// Authorization: the caller must be a member of the organization (listed in members, or in a
// project group, which makes them one) and in a group of the repository's project: Readers
// clone and fetch, Contributors also push.
//
// Wire format of refusals, as Azure Repos answers git (text/plain, so that git prints the message
// after "remote: "):
//
//	no credentials, another scheme          401 TF400813: Resource not available for anonymous access. Client authentication required.
//	bad, expired or wrong-audience token,   401 TF400813: The user '' is not authorized to access this resource.
//	unknown or expired PAT                      (X-TFS-ServiceError says why: the verifier's reason, or
//	                                            "Access Denied: The Personal Access Token used has expired.")
//	not a member of the organization        401 TF400813: The user 'OID or UPN' is not authorized to access this resource.
//	unknown organization, project or        404 TF401019: The Git repository with name or identifier REPO does not exist or
//	repository, or no project group             you do not have permissions for the operation you are attempting.
//	a Reader (or a read-only PAT) pushing   403 TF401027: You need the Git 'GenericContribute' permission to perform this
//	                                            action. Details: identity 'NAME', scope 'repository'. (after the start of a
//	                                            receive-pack advertisement, as Azure Repos sends it)
//	upload-pack request without multi_ack   400 TF401041: The Git protocol sent is not as expected (Clients must support multi-ack.).
//
// The graph and entitlement APIs refuse in the JSON error wrapper: a non-administrator's write is
// 403 "TF50309: The following account does not have sufficient permissions to complete the
// operation: NAME. The following permissions are needed to perform this operation: ..."; an
// unknown project 404 TF200016 (ProjectDoesNotExistWithNameException); an unknown organization
// 404 TF400898; an unknown storage key, scope, group, subject or membership 404 with the
// emulator's VS8600xx message (the codes Azure DevOps uses there are not documented).
//
// Every 401 carries WWW-Authenticate: Bearer authorization_uri=https://login.microsoftonline.com/TENANT,
// Basic realm="https://dev.azure.com/" and TFS-Federated, and X-VSS-ResourceTenant, so that git
// and Git Credential Manager retry with credentials; nothing redirects. Over SSH the same
// messages go to stderr after "remote: " and the command exits with status 1; a key that is not
// registered fails authentication ("Permission denied (publickey)").
//
// Protocol: version 0 only. The Git-Protocol header and the GIT_PROTOCOL environment request
// are dropped, as Azure Repos does not speak protocol v2; git falls back to v0 by itself. A
// git-upload-pack request whose first want lacks multi_ack and multi_ack_detailed is refused,
// as Azure Repos refuses go-git unless it removes both from transport.UnsupportedCapabilities.
//
// Repositories are bare repositories under STATE/devops/repos, made (empty, HEAD on main) for
// every repository of the directory when the server starts and by Create; they are kept across
// restarts. The SSH host key is STATE/devops/ssh_host_rsa_key, made once per state directory;
// KnownHostsLine gives the line a client trusts it with.
//
// Not emulated:
//   - the REST API (_apis/...) beyond commit statuses, their route discovery and the graph and
//     entitlement calls above: pull requests,
//     pull request statuses, branch policies, the web UI; status IDs per commit only, targetUrl
//     not checked, and statuses kept in memory (lost when the emulator stops);
//   - the PAT scope vso.code_status (a PAT creates statuses with a write scope);
//   - the graph beyond those calls: no user entitlements, no group creation, no removal of
//     members; descriptors are the emulator's own (subject type, a dot, base64url of the object
//     ID or project ID), project IDs are derived from the names, and membership of Project
//     Administrators is refused (400);
//   - permissions other than the Readers and Contributors groups and Project Collection
//     Administrators' right to add members: no Project Administrators, no
//     per-repository or per-branch permissions, no deny, no access levels (Stakeholder, Basic);
//   - PATs for all accessible organizations, PAT revocation, and scopes that give no Git access;
//   - OAuth apps, Azure DevOps' own session tokens (System.AccessToken) and build identities;
//   - Conditional Access and IP policies, and the "TF400813" refusals they cause;
//   - the legacy hosts {org}.visualstudio.com and vs-ssh.visualstudio.com, DefaultCollection
//     paths, repository GUIDs in URLs, and a ".git" suffix on repository names;
//   - SSH keys other than RSA (as Azure DevOps), SSH on port 443, and the user name of SSH
//     logins, which is not checked;
//   - partial clone filters and protocol v2; large pushes are limited only by git;
//   - forks, LFS, and repository size limits.
package devops
