package directory

import "github.com/azimuth-gitops/azimuth/azurelocal/rbac"

// Spec is the content of a directory file. Field names are the YAML keys.
type Spec struct {
	Tenants           []Tenant          `json:"tenants"`
	Subscriptions     []Subscription    `json:"subscriptions,omitempty"`
	ManagementGroups  []ManagementGroup `json:"managementGroups,omitempty"`
	Applications      []Application     `json:"applications,omitempty"`
	ManagedIdentities []ManagedIdentity `json:"managedIdentities,omitempty"`
	Users             []User            `json:"users,omitempty"`
	Node              Node              `json:"node,omitempty"`
	Resources         Resources         `json:"resources,omitempty"`
	RoleDefinitions   []RoleDefinition  `json:"roleDefinitions,omitempty"`
	RoleAssignments   []RoleAssignment  `json:"roleAssignments,omitempty"`
}

// Clouds a tenant can live in. The login host decides which tenants a request can reach.
const (
	CloudPublic       = "AzurePublic"
	CloudUSGovernment = "AzureUSGovernment"
	CloudChina        = "AzureChina"
)

// Tenant is an Entra ID tenant.
type Tenant struct {
	// ID is the tenant's GUID.
	ID string `json:"id"`
	// Name is the display name that Entra prints in errors, such as "Default Directory".
	Name string `json:"name,omitempty"`
	// Domains are names that work in place of the ID in URLs, such as contoso.onmicrosoft.com.
	Domains []string `json:"domains,omitempty"`
	// Cloud is AzurePublic (default), AzureUSGovernment or AzureChina.
	Cloud string `json:"cloud,omitempty"`
}

// Subscription belongs to a tenant. Default tenant: the only one, when there is exactly one.
type Subscription struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Tenant string `json:"tenant,omitempty"`
}

// ManagementGroup contains subscriptions and other management groups.
type ManagementGroup struct {
	// Name is the group's ID, the last segment of its ARM ID.
	Name          string   `json:"name"`
	Parent        string   `json:"parent,omitempty"`
	Subscriptions []string `json:"subscriptions,omitempty"`
}

// Application is an app registration with its service principal.
type Application struct {
	Name string `json:"name"`
	// Tenant is the home tenant. Default: the only tenant, when there is exactly one.
	Tenant   string `json:"tenant,omitempty"`
	ClientID string `json:"clientId"`
	// PrincipalID is the service principal's object ID: the oid claim of its tokens.
	PrincipalID   string         `json:"principalId"`
	ClientSecrets []ClientSecret `json:"clientSecrets,omitempty"`
	Certificates  []Certificate  `json:"certificates,omitempty"`
	// AllowSubjectNameIssuer enables subject name and issuer (SN+I) authentication: a certificate
	// that is not registered is accepted when the assertion carries it in x5c and its subject and
	// issuer equal those of a registered certificate. Default: false (thumbprint only).
	AllowSubjectNameIssuer bool                  `json:"allowSubjectNameIssuer,omitempty"`
	FederatedCredentials   []FederatedCredential `json:"federatedCredentials,omitempty"`
}

// ClientSecret is a password credential.
type ClientSecret struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}

// Certificate is a key credential: a certificate in PEM form, without its private key.
type Certificate struct {
	Name string `json:"name,omitempty"`
	PEM  string `json:"pem"`
}

// FederatedCredential trusts tokens of an external issuer. Issuer, subject and audience are
// matched exactly and case-sensitively, as Entra does.
type FederatedCredential struct {
	Name    string `json:"name"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	// Audiences default to [api://AzureADTokenExchange].
	Audiences []string `json:"audiences,omitempty"`
}

// DefaultFederatedAudience is the audience Entra recommends for federated credentials.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// MaxFederatedCredentials is Azure's limit of federated credentials per identity.
const MaxFederatedCredentials = 20

// ManagedIdentity is a user-assigned managed identity.
type ManagedIdentity struct {
	Name                 string                `json:"name"`
	Subscription         string                `json:"subscription"`
	ResourceGroup        string                `json:"resourceGroup"`
	ClientID             string                `json:"clientId"`
	PrincipalID          string                `json:"principalId"`
	FederatedCredentials []FederatedCredential `json:"federatedCredentials,omitempty"`
}

// Node is the machine the local Azure pretends to run on, as an Azure VM or VMSS node would.
type Node struct {
	// Name of the virtual machine. Default: "local-node".
	Name          string `json:"name,omitempty"`
	Subscription  string `json:"subscription,omitempty"`
	ResourceGroup string `json:"resourceGroup,omitempty"`
	// SystemAssigned is the VM's system-assigned identity, if it has one.
	SystemAssigned *SystemIdentity `json:"systemAssigned,omitempty"`
	// Identities names the user-assigned managed identities assigned to the node.
	Identities []string `json:"identities,omitempty"`
}

// SystemIdentity is a system-assigned managed identity.
type SystemIdentity struct {
	ClientID    string `json:"clientId"`
	PrincipalID string `json:"principalId"`
}

// Resources are the Azure resources the local emulators serve.
type Resources struct {
	Registries          []Resource           `json:"registries,omitempty"`
	StorageAccounts     []StorageAccount     `json:"storageAccounts,omitempty"`
	KeyVaults           []KeyVault           `json:"keyVaults,omitempty"`
	EventHubsNamespaces []EventHubsNamespace `json:"eventHubsNamespaces,omitempty"`
	DevOpsOrganizations []DevOpsOrganization `json:"devopsOrganizations,omitempty"`
	ManagedClusters     []ManagedCluster     `json:"managedClusters,omitempty"`
}

// Resource is one Azure resource. Kind is set by the directory, not read from the file.
type Resource struct {
	Name          string `json:"name"`
	Subscription  string `json:"subscription"`
	ResourceGroup string `json:"resourceGroup"`
	Kind          Kind   `json:"-"`
}

// Kind is a resource type.
type Kind string

// Resource kinds, named after their ARM resource types.
const (
	KindRegistry           Kind = "Microsoft.ContainerRegistry/registries"
	KindStorageAccount     Kind = "Microsoft.Storage/storageAccounts"
	KindKeyVault           Kind = "Microsoft.KeyVault/vaults"
	KindEventHubsNamespace Kind = "Microsoft.EventHub/namespaces"
	KindDevOpsOrganization Kind = "Microsoft.VisualStudio/account"
	KindManagedCluster     Kind = "Microsoft.ContainerService/managedClusters"
	kindManagedIdentity    Kind = "Microsoft.ManagedIdentity/userAssignedIdentities"
	kindVirtualMachine     Kind = "Microsoft.Compute/virtualMachines"
)

// ID returns the resource's ARM ID.
func (r Resource) ID() string {
	return resourceID(r.Subscription, r.ResourceGroup, r.Kind, r.Name)
}

func resourceID(subscription, group string, kind Kind, name string) string {
	return "/subscriptions/" + subscription + "/resourceGroups/" + group + "/providers/" + string(kind) + "/" + name
}

// ResourceID returns the managed identity's ARM ID.
func (m ManagedIdentity) ResourceID() string {
	return resourceID(m.Subscription, m.ResourceGroup, kindManagedIdentity, m.Name)
}

// RoleDefinition is a custom role declared in the file.
type RoleDefinition struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Description      string   `json:"description,omitempty"`
	Actions          []string `json:"actions,omitempty"`
	NotActions       []string `json:"notActions,omitempty"`
	DataActions      []string `json:"dataActions,omitempty"`
	NotDataActions   []string `json:"notDataActions,omitempty"`
	AssignableScopes []string `json:"assignableScopes,omitempty"`
}

func (d RoleDefinition) role() rbac.Role {
	return rbac.Role{
		ID:          d.ID,
		Name:        d.Name,
		Description: d.Description,
		Permissions: []rbac.Permission{{
			Actions: d.Actions, NotActions: d.NotActions,
			DataActions: d.DataActions, NotDataActions: d.NotDataActions,
		}},
		AssignableScopes: d.AssignableScopes,
	}
}

// RoleAssignment grants a role to a principal at a scope.
type RoleAssignment struct {
	// Name is the assignment's GUID, the last segment of its ARM ID. Default: a GUID derived
	// from the principal, role and scope, the same on every load.
	Name string `json:"name,omitempty"`
	// Principal names an application or managed identity by name, principal (object) ID or
	// client ID; the node's system-assigned identity is named after the node.
	Principal string `json:"principal"`
	// Role is a role name ("AcrPull") or a role definition ID (GUID or full ARM ID).
	Role string `json:"role"`
	// Scope is an ARM ID.
	Scope string `json:"scope"`
}
