// Package identity decides who is asking when Azimuth calls Azure on behalf of an object.
//
// It is the first step of DESIGN.md's flow: from an object's namespace and auth fields
// (provider, serviceAccountName, a secretRef, decryption.serviceAccountName) and the controller's
// options (the ObjectLevelWorkloadIdentity feature gate, default service accounts) it resolves an
// Identity: object-level workload identity, an application with a certificate or a client
// secret, a managed identity chosen by client ID, the controller's environment, or the node's
// managed identity. It reads Kubernetes only: service accounts and secrets in the object's own
// namespace, and TokenRequest when a federated token is needed. Turning an Identity into Entra ID
// tokens is package entra's job.
//
// No secret value ever appears in an error or in an Identity's printed form.
package identity
