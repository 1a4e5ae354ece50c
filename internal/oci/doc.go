// Package oci gives an object the means to reach its OCI registry: a keychain and an HTTP
// transport built from the object's auth fields (provider, serviceAccountName, secretRef,
// certSecretRef, proxySecretRef). OCIRepository, ImageRepository and ImagePolicy share it.
//
// In DESIGN.md's flow it is the protocol step for registries: with provider azure it asks package
// access for the object's Entra credential and hands it to the ACR adapter (internal/azure/acr),
// whose keychain exchanges it for registry tokens; with provider generic the keychain comes from
// the docker config of a pull secret, or of the service account's image pull secrets (read by
// package access, the home of static credentials). Access.Retry and Access.Refusal give every
// registry operation the same 401 retry and the same explained refusal.
package oci
