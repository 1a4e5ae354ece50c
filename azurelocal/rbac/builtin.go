package rbac

// Built-in role definition IDs, the same in every Azure tenant.
const (
	AcrPullID                             = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	AcrPushID                             = "8311e382-0749-4cb8-b61a-304f252e45ec"
	StorageBlobDataReaderID               = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
	StorageBlobDataContributorID          = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	StorageBlobDataOwnerID                = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
	KeyVaultCryptoUserID                  = "12338af0-0e69-4776-bea7-57ae8d297424"
	KeyVaultCryptoServiceEncryptionUserID = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
	KeyVaultCryptoOfficerID               = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
	KeyVaultAdministratorID               = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
	EventHubsDataSenderID                 = "2b629674-e913-4c01-ae53-ef4638d8f975"
	EventHubsDataReceiverID               = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
	EventHubsDataOwnerID                  = "f526a384-b230-433a-b45c-95f59c4a2dec"
	ReaderID                              = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	ContributorID                         = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	OwnerID                               = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	UserAccessAdministratorID             = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	ManagedIdentityContributorID          = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
	AKSClusterUserRoleID                  = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"
	AKSClusterAdminRoleID                 = "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8"
)

// Operation strings the local service emulators check. They are the real Azure operations that
// the built-in roles above grant.
const (
	ActionRegistryPull          = "Microsoft.ContainerRegistry/registries/pull/read"
	ActionRegistryPush          = "Microsoft.ContainerRegistry/registries/push/write"
	ActionBlobServiceRead       = "Microsoft.Storage/storageAccounts/blobServices/read"
	ActionBlobServiceWrite      = "Microsoft.Storage/storageAccounts/blobServices/write"
	ActionBlobDelegationKey     = "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"
	ActionBlobContainerRead     = "Microsoft.Storage/storageAccounts/blobServices/containers/read"
	ActionBlobContainerWrite    = "Microsoft.Storage/storageAccounts/blobServices/containers/write"
	ActionBlobContainerDelete   = "Microsoft.Storage/storageAccounts/blobServices/containers/delete"
	DataActionBlobRead          = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	DataActionBlobWrite         = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
	DataActionBlobAdd           = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"
	DataActionBlobDelete        = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"
	DataActionBlobMove          = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action"
	DataActionBlobDeleteVersion = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/deleteBlobVersion/action"
	DataActionBlobTagsRead      = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/read"
	DataActionBlobTagsWrite     = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/write"
	DataActionBlobFilter        = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/filter/action"
	DataActionKeyRead           = "Microsoft.KeyVault/vaults/keys/read"
	DataActionKeyCreate         = "Microsoft.KeyVault/vaults/keys/create/action"
	DataActionKeyDecrypt        = "Microsoft.KeyVault/vaults/keys/decrypt/action"
	DataActionKeyEncrypt        = "Microsoft.KeyVault/vaults/keys/encrypt/action"
	DataActionKeyWrap           = "Microsoft.KeyVault/vaults/keys/wrap/action"
	DataActionKeyUnwrap         = "Microsoft.KeyVault/vaults/keys/unwrap/action"
	DataActionEventHubsSend     = "Microsoft.EventHub/namespaces/messages/send/action"
	DataActionEventHubsReceive  = "Microsoft.EventHub/namespaces/messages/receive/action"
	// Azure Resource Manager's operations on AKS clusters (azurelocal/arm).
	ActionManagedClusterRead            = "Microsoft.ContainerService/managedClusters/read"
	ActionManagedClusterUserCredential  = "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"
	ActionManagedClusterAdminCredential = "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"
)

// BuiltinRoles returns the built-in role definitions the integrations need, with the actions and
// data actions Azure publishes for them. Each call returns a fresh copy.
func BuiltinRoles() []Role {
	return []Role{
		builtin(AcrPullID, "AcrPull", "acr pull", Permission{
			Actions: []string{ActionRegistryPull},
		}),
		builtin(AcrPushID, "AcrPush", "acr push", Permission{
			Actions: []string{ActionRegistryPull, ActionRegistryPush},
		}),
		builtin(StorageBlobDataReaderID, "Storage Blob Data Reader",
			"Allows for read access to Azure Storage blob containers and data", Permission{
				Actions:     []string{ActionBlobContainerRead, ActionBlobDelegationKey},
				DataActions: []string{DataActionBlobRead},
			}),
		builtin(StorageBlobDataContributorID, "Storage Blob Data Contributor",
			"Allows for read, write and delete access to Azure Storage blob containers and data", Permission{
				Actions: []string{
					ActionBlobContainerDelete,
					ActionBlobContainerRead,
					ActionBlobContainerWrite,
					ActionBlobDelegationKey,
				},
				DataActions: []string{
					DataActionBlobDelete,
					DataActionBlobRead,
					DataActionBlobWrite,
					DataActionBlobMove,
					DataActionBlobAdd,
				},
			}),
		builtin(StorageBlobDataOwnerID, "Storage Blob Data Owner",
			"Allows for full access to Azure Storage blob containers and data, including assigning POSIX access control.", Permission{
				Actions: []string{
					"Microsoft.Storage/storageAccounts/blobServices/containers/*",
					ActionBlobDelegationKey,
				},
				DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"},
			}),
		builtin(KeyVaultCryptoUserID, "Key Vault Crypto User",
			"Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{DataActions: []string{
				DataActionKeyRead,
				"Microsoft.KeyVault/vaults/keys/update/action",
				"Microsoft.KeyVault/vaults/keys/backup/action",
				DataActionKeyEncrypt,
				DataActionKeyDecrypt,
				DataActionKeyWrap,
				DataActionKeyUnwrap,
				"Microsoft.KeyVault/vaults/keys/sign/action",
				"Microsoft.KeyVault/vaults/keys/verify/action",
			}}),
		builtin(KeyVaultCryptoServiceEncryptionUserID, "Key Vault Crypto Service Encryption User",
			"Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{
				Actions: []string{
					"Microsoft.EventGrid/eventSubscriptions/write",
					"Microsoft.EventGrid/eventSubscriptions/read",
					"Microsoft.EventGrid/eventSubscriptions/delete",
				},
				DataActions: []string{DataActionKeyRead, DataActionKeyWrap, DataActionKeyUnwrap},
			}),
		builtin(KeyVaultCryptoOfficerID, "Key Vault Crypto Officer",
			"Perform any action on the keys of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{
				Actions:     keyVaultDataRoleActions(),
				DataActions: []string{"Microsoft.KeyVault/vaults/keys/*", "Microsoft.KeyVault/vaults/keyrotationpolicies/*"},
			}),
		builtin(KeyVaultAdministratorID, "Key Vault Administrator",
			"Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
			Permission{
				Actions:     keyVaultDataRoleActions(),
				DataActions: []string{"Microsoft.KeyVault/vaults/*"},
			}),
		builtin(EventHubsDataSenderID, "Azure Event Hubs Data Sender",
			"Allows send access to Azure Event Hubs resources.", Permission{
				Actions:     []string{"Microsoft.EventHub/*/eventhubs/read"},
				DataActions: []string{"Microsoft.EventHub/*/send/action"},
			}),
		builtin(EventHubsDataReceiverID, "Azure Event Hubs Data Receiver",
			"Allows receive access to Azure Event Hubs resources.", Permission{
				Actions:     []string{"Microsoft.EventHub/*/eventhubs/consumergroups/read"},
				DataActions: []string{"Microsoft.EventHub/*/receive/action"},
			}),
		builtin(EventHubsDataOwnerID, "Azure Event Hubs Data Owner",
			"Allows for full access to Azure Event Hubs resources.", Permission{
				Actions:     []string{"Microsoft.EventHub/*"},
				DataActions: []string{"Microsoft.EventHub/*"},
			}),
		builtin(AKSClusterUserRoleID, "Azure Kubernetes Service Cluster User Role",
			"List cluster user credential action.", Permission{
				Actions: []string{ActionManagedClusterUserCredential, ActionManagedClusterRead},
			}),
		builtin(AKSClusterAdminRoleID, "Azure Kubernetes Service Cluster Admin Role",
			"List cluster admin credential action.", Permission{
				Actions: []string{
					ActionManagedClusterAdminCredential,
					"Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action",
					ActionManagedClusterRead,
					"Microsoft.ContainerService/managedClusters/runcommand/action",
				},
			}),
		builtin(ReaderID, "Reader", "View all resources, but does not allow you to make any changes.", Permission{
			Actions: []string{"*/read"},
		}),
		builtin(ContributorID, "Contributor",
			"Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
			Permission{
				Actions: []string{"*"},
				NotActions: []string{
					"Microsoft.Authorization/*/Delete",
					"Microsoft.Authorization/*/Write",
					"Microsoft.Authorization/elevateAccess/Action",
					"Microsoft.Blueprint/blueprintAssignments/write",
					"Microsoft.Blueprint/blueprintAssignments/delete",
					"Microsoft.Compute/galleries/share/action",
					"Microsoft.Purview/consents/write",
					"Microsoft.Purview/consents/delete",
					"Microsoft.Resources/deploymentStacks/manageDenySetting/action",
					"Microsoft.Subscription/cancel/action",
					"Microsoft.Subscription/enable/action",
				},
			}),
		builtin(OwnerID, "Owner",
			"Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
			Permission{Actions: []string{"*"}}),
		builtin(UserAccessAdministratorID, "User Access Administrator",
			"Lets you manage user access to Azure resources.", Permission{
				Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"},
			}),
		builtin(ManagedIdentityContributorID, "Managed Identity Contributor",
			"Create, Read, Update, and Delete User Assigned Identity", Permission{
				Actions: []string{
					"Microsoft.ManagedIdentity/userAssignedIdentities/read",
					"Microsoft.ManagedIdentity/userAssignedIdentities/write",
					"Microsoft.ManagedIdentity/userAssignedIdentities/delete",
					"Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
					"Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
					"Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
					"Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action",
					"Microsoft.Authorization/*/read",
					"Microsoft.Insights/alertRules/*",
					"Microsoft.Resources/subscriptions/resourceGroups/read",
					"Microsoft.Resources/deployments/*",
					"Microsoft.Support/*",
				},
			}),
	}
}

// keyVaultDataRoleActions are the control-plane actions of the Key Vault data roles (Crypto
// Officer, Administrator): reading the vault and its deployments, not managing it.
func keyVaultDataRoleActions() []string {
	return []string{
		"Microsoft.Authorization/*/read",
		"Microsoft.Insights/alertRules/*",
		"Microsoft.Resources/deployments/*",
		"Microsoft.Resources/subscriptions/resourceGroups/read",
		"Microsoft.Support/*",
		"Microsoft.KeyVault/checkNameAvailability/read",
		"Microsoft.KeyVault/deletedVaults/read",
		"Microsoft.KeyVault/locations/*/read",
		"Microsoft.KeyVault/vaults/*/read",
		"Microsoft.KeyVault/operations/read",
	}
}

func builtin(id, name, description string, perm Permission) Role {
	return Role{
		ID:               id,
		Name:             name,
		Description:      description,
		Permissions:      []Permission{perm},
		AssignableScopes: []string{"/"},
		BuiltIn:          true,
	}
}
