// Package arm is the local Azure Resource Manager on https://management.azure.com: the few
// control-plane calls that `azimuth setup plan --apply` and `azimuth doctor` make, and those Flux
// makes to reach an AKS cluster (kubeConfig.configMapRef with provider azure), over the
// directory, so that the real SDK clients (armauthorization, armmsi, armresources,
// armcontainerservice), the az CLI and Terraform's azurerm work against it unchanged. Writes go to the directory
// (AddRoleAssignment, PutFederatedCredential), so Entra ID and every data plane (ACR, Blob, Key
// Vault, Event Hubs) honour them with the next request.
//
// In docs/architecture.md's flow it stands where ARM stands, at the far end of the arrows that
// set Azure up: setup writes role assignments and federated credentials through it, and doctor
// reads them back.
//
// Endpoints (SCOPE is /providers/Microsoft.Management/managementGroups/M, /subscriptions/S,
// /subscriptions/S/resourceGroups/G or a resource below G, child resources too):
//
//	PUT|GET|DELETE SCOPE/providers/Microsoft.Authorization/roleAssignments/GUID
//	GET    SCOPE/providers/Microsoft.Authorization/roleAssignments   $filter atScope(),
//	                                                                 principalId eq 'ID', assignedTo('ID')
//	GET    SCOPE/providers/Microsoft.Authorization/roleDefinitions/GUID (SCOPE may be empty: the root)
//	GET    SCOPE/providers/Microsoft.Authorization/roleDefinitions   $filter roleName eq 'NAME'
//	GET    /subscriptions/S[/resourceGroups/G]/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/N]
//	PUT|GET|DELETE .../userAssignedIdentities/N/federatedIdentityCredentials/NAME, and GET the list
//	GET    /subscriptions/S[/resourceGroups/G]/resources             $filter resourceType eq 'T' [or ...], $top
//	GET    /subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/N
//	POST   .../managedClusters/N/listClusterUserCredential           [format=exec|azure] [server-fqdn=public]
//
// A managed cluster is a directory.ManagedCluster, answered as AKS answers it (its ID with
// "resourcegroups" and its type "Microsoft.ContainerService/ManagedClusters", as AKS spells them):
// Succeeded and Running, Kubernetes 1.34, RBAC on, its fqdn (directory.ManagedCluster.Host), and,
// unless it has local accounts only, an aadProfile {managed: true, enableAzureRBAC: false,
// tenantID: the subscription's} with local accounts disabled. Its user credentials are one
// kubeconfig, clusterUser (base64 in kubeconfigs[0].value): cluster NAME at https://FQDN:443 with
// the cluster's CA as certificate-authority-data (none until whoever runs the API server sets it,
// directory.SetManagedClusterEndpoint), context NAME, and user clusterUser_G_NAME: kubelogin
// (exec, the default: get-token for the AKS server application, entra.AKSServerAppID, as the
// AKS client application in the subscription's tenant) or the legacy azure auth provider (format
// azure); for a cluster of local accounts, a random token.
//
// api-versions: Microsoft.Authorization 2015-07-01 to 2022-05-01-preview (armauthorization/v2 sends
// 2022-04-01), Microsoft.ManagedIdentity 2018-11-30 to 2025-01-31-preview (armmsi v1.3.0 sends
// 2024-11-30), resources 2019-10-01 to 2025-04-01 (armresources v1.2.0 sends 2021-04-01),
// Microsoft.ContainerService AKS's stable versions 2017-08-31 to 2025-10-01 (armcontainerservice
// v6.6.0 sends 2025-02-01).
//
// Authentication and authorization, as ARM does them: a Bearer token checked with azurelocal/entra's
// Verifier, for ARM's audience (https://management.azure.com or https://management.core.windows.net,
// with or without the trailing slash) and, when the path names a subscription, of its tenant.
// Then the caller needs the operation at the scope, through a role assignment of the directory
// (azurelocal/rbac): roleAssignments/write or delete (Owner, User Access Administrator),
// roleAssignments/read, roleDefinitions/read, userAssignedIdentities/read and
// federatedIdentityCredentials/read, write or delete (Owner, Contributor, Managed Identity
// Contributor; Reader reads), managedClusters/read (Azure Kubernetes Service Cluster User or Admin
// Role; Reader, Contributor, Owner) and managedClusters/listClusterUserCredential/action (Azure
// Kubernetes Service Cluster User Role, Contributor, Owner; not Reader, whose */read does not
// reach an action). A list shows what the caller may read, and is refused only when the caller
// may read nothing there. The refusal of an action on a resource names the resource as its scope.
//
// Wire format of refusals ({"error":{"code":C,"message":M}}); a 401 carries ARM's
// WWW-Authenticate challenge:
//
//	no Authorization header, another scheme    401 AuthenticationFailed
//	unreadable token, bad signature            401 InvalidAuthenticationToken       The access token is invalid.
//	expired token                              401 ExpiredAuthenticationToken
//	another audience (a Key Vault token)       401 InvalidAuthenticationTokenAudience
//	a token of another tenant                  401 InvalidAuthenticationTokenTenant
//	no role grants the operation               403 AuthorizationFailed  The client 'OID' with object id 'OID' does not
//	                                               have authorization to perform action 'ACTION' over scope 'FULL ID'
//	                                               or the scope is invalid. ...
//	no api-version; one the provider lacks     400 MissingApiVersionParameter; InvalidApiVersionParameter
//	unknown subscription, group, resource      404 SubscriptionNotFound, ResourceGroupNotFound, ResourceNotFound
//	unknown management group                   404 ManagementGroupNotFound (the emulator's words)
//	unknown role assignment                    404 RoleAssignmentNotFound
//	unknown role definition                    404 (GET) or 400 (PUT) RoleDefinitionDoesNotExist
//	a format other than exec or azure          400 BadRequest  The value 'F' of the format parameter is invalid. ...
//	server-fqdn other than public              400 BadRequest (the emulator's words: its clusters are public)
//	malformed body, a missing property         400 InvalidRequestContent
//	name not a GUID                            400 InvalidRoleAssignmentId
//	principal not in the scope's tenant        400 PrincipalNotFound
//	principalType other than ServicePrincipal  400 UnmatchedPrincipalType
//	same principal, role and scope             409 RoleAssignmentExists
//	same name, another principal/role/scope    400 RoleAssignmentUpdateNotPermitted
//	federated credential rules                 400 BadRequest (issuer and subject taken, more than 20,
//	                                               the name, one audience; some in the emulator's words)
//	an API this emulator does not serve        501 NotImplemented (what it serves)
//
// A PUT of an existing role assignment with the same content answers 200 with it; a PUT of a new
// one 201. Role assignments from the directory file are named by a GUID derived from their
// principal, role and scope (or the file's name), and date from the server's start.
//
// Not emulated:
//   - every other resource provider and operation: creating or deleting resources, resource
//     groups, identities and clusters (they come from the directory file), tags, locks, policy,
//     deployments, long-running operations;
//   - every other operation of managed clusters: lists by subscription or group, admin and
//     monitoring credentials (listClusterAdminCredential, 501), access profiles, run command,
//     agent pools, upgrade profiles; a cluster's agent pools, network profile and identity are
//     not in its answer, and its Kubernetes version is fixed;
//   - local accounts: the token in a local accounts cluster's kubeconfig authenticates nowhere
//     (the local Azure runs no API server; whoever runs one serves it on the cluster's host and
//     sets its CA, and answers what tokens it likes);
//   - Azure RBAC for Kubernetes authorization (enableAzureRBAC is always false), admin groups,
//     private clusters and their private FQDN (server-fqdn=private);
//   - role definition writes, deny assignments, conditions (refused with 501), eligible and
//     PIM assignments, classic administrators, elevated access at the root scope;
//   - paging (every list fits one page), $skipToken, $expand, and api-version differences;
//   - the US Government and China clouds' ARM hosts;
//   - throttling (429), x-ms-ratelimit headers and ARM's caching of role assignments.
package arm
