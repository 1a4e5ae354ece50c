// Package remote reaches the remote cluster a Kustomization's spec.kubeConfig.configMapRef
// names, as Flux reads such a ConfigMap: provider azure, an AKS cluster with Microsoft Entra ID
// integration whose API server accepts the Entra token of the identity the ConfigMap names
// (serviceAccountName, else --default-kubeconfig-service-account, else the controller's own).
// No kubeconfig, and no static credential, is stored anywhere.
//
// In docs/architecture.md's flow it is the protocol package of remote clusters: it takes the
// object's ConfigMap, asks internal/access for the connection and the credential, and
// internal/azure/aks for the API server's address and CA when the ConfigMap does not give both.
// It returns a REST config whose requests carry a fresh token each (the token cache makes that
// a map lookup), so that a remote client outlives any one token.
package remote
