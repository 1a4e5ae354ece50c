// Package rbac decides whether a principal may perform an Azure action on a resource, the way
// Azure role-based access control does: a role assigned at a scope grants its permissions on that
// scope and everything below it (resource → resource group → subscription → management group).
//
// In DESIGN.md's flow it sits behind every local service emulator (azurelocal/acr, blob,
// keyvault, eventhubs): after a request's bearer token is verified, the emulator asks a Policy
// whether the token's principal holds the action the request needs. The directory package builds
// the Policy from the directory file; this package is pure and holds no state of its own.
//
// Control-plane actions and data actions are separate, as in Azure: a role's Actions never grant
// a data action, so Owner (Actions "*") cannot read a blob, while Storage Blob Data Reader can.
//
// Not emulated:
//   - deny assignments, conditions (ABAC) and role assignment conditions;
//   - classic administrators, and Key Vault access policies (azurelocal/keyvault checks those,
//     through the directory);
//   - group membership (principals are applications and managed identities only);
//   - assignableScopes of role definitions are recorded but not enforced at assignment time.
package rbac
