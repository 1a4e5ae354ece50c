// Package directory is the local Azure's view of the world: the tenants, applications, managed
// identities, federated credentials, resources and role assignments that a real Azure tenant would
// hold, and the users, projects, repositories, group memberships, PATs and SSH keys of Azure
// DevOps organizations. It is read from a YAML file (see docs/local-azure.md) or from the built-in
// default, and it is the single source of truth for every local emulator: azurelocal/entra
// authenticates clients against it, azurelocal/imds hands out the node's identities, the service
// emulators ask it (through Authorize and Check, backed by azurelocal/rbac) whether a token's
// principal may act, azurelocal/devops asks it who belongs to an organization and to which
// project group (DevOpsMember, DevOpsGroup, DevOpsPAT, DevOpsKeyOwners), azurelocal/keyvault
// asks it for a vault's tenant, permission model and access policies (KeyVault,
// KeyVaultPermissions), azurelocal/blob for a storage account's keys, containers and tenant
// (StorageAccount, SubscriptionTenant), and azurelocal/arm for the AKS clusters whose API server
// and kubeconfig it describes (ManagedCluster).
//
// A Directory is safe for concurrent use. Tests and `azimuth dev up` add federated credentials,
// role assignments and DevOps repositories at run time (AddFederatedCredential,
// AddRoleAssignment, AddDevOpsRepository), and set the host and CA of the API server they run for
// an AKS cluster (SetManagedClusterEndpoint); every change is validated like the file and
// published atomically, so readers always see a consistent snapshot.
//
// Not emulated:
//   - user sign-in (users exist to own Azure DevOps PATs and SSH keys and to be members),
//     Entra groups, app roles, consent and Microsoft Graph;
//   - multi-tenant applications: an application exists in its home tenant only;
//   - secret and certificate expiry dates, and key credential start dates;
//   - flexible federated identity credentials (claims matching expressions);
//   - two AKS clusters of the same name in different resource groups (the directory finds a
//     cluster by its name), and a cluster's agent pools, node resource group and Kubernetes
//     version (the local Azure runs no API server; whoever runs one sets its endpoint).
//
// In docs/architecture.md's flow it is the local Azure's truth about identities and roles, which
// the emulators consult when a token or a request arrives.
package directory
