// Package directory is the local Azure's view of the world: the tenants, applications, managed
// identities, federated credentials, resources and role assignments that a real Azure tenant would
// hold. It is read from a YAML file (see docs/local-azure.md) or from the built-in default, and it
// is the single source of truth for every local emulator: azurelocal/entra authenticates clients
// against it, azurelocal/imds hands out the node's identities, and the service emulators ask it
// (through Authorize and Check, backed by azurelocal/rbac) whether a token's principal may act.
//
// A Directory is safe for concurrent use. Tests and `azimuth dev up` add federated credentials
// and role assignments at run time (AddFederatedCredential, AddRoleAssignment); every change is
// validated like the file and published atomically, so readers always see a consistent snapshot.
//
// Not emulated:
//   - users, groups, app roles, consent and Microsoft Graph;
//   - multi-tenant applications: an application exists in its home tenant only;
//   - secret and certificate expiry dates, and key credential start dates;
//   - flexible federated identity credentials (claims matching expressions).
//
// In docs/architecture.md's flow it is the local Azure's truth about identities and roles, which
// the emulators consult when a token or a request arrives.
package directory
