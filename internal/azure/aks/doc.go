// Package aks is the adapter for Azure Kubernetes Service clusters with Microsoft Entra ID
// integration, the remote clusters a Kustomization's spec.kubeConfig.configMapRef names with
// provider azure: the scope of the tokens their API servers accept (ServerScope), the cluster's
// resource ID (ParseClusterID), and Describe, which reads a cluster's API server addresses and CA
// from Azure Resource Manager (the cluster, then its user kubeconfigs) when the ConfigMap does not
// give them, and turns ARM's refusals into what to change.
//
// In docs/architecture.md's flow it sits between the credential and the remote-cluster protocol
// package (internal/remote): Describe takes an azcore.TokenCredential (an *entra.Credential for
// the identity the ConfigMap names), the cloud whose Resource Manager to ask, and Azimuth's HTTP
// transport; never an identity, and never a credential from the environment.
//
// The refusals it explains: 403 AuthorizationFailed (the role Azure Kubernetes Service Cluster
// User Role is missing on the cluster: an *entra.RoleError with the command that grants it), 404
// ResourceNotFound and ResourceGroupNotFound (the cluster ID is wrong), a cluster without
// properties.aadProfile (no Entra integration, so no Entra token is accepted), and an address that
// none of the cluster's kubeconfigs has (the candidates are listed). No message holds a token or a
// kubeconfig's credentials.
package aks
