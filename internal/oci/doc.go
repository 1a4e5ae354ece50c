// Package oci gives an object the means to reach its OCI registry: a keychain and an HTTP
// transport built from the object's auth fields (provider, serviceAccountName, secretRef,
// certSecretRef, proxySecretRef, insecure). OCIRepository and ImageRepository share it.
//
// With provider azure the keychain comes from the object's identity (package identity), its
// Entra ID credential (package entra) and the ACR exchange; with provider generic it comes from
// the docker config of a pull secret, or of the service account's image pull secrets.
package oci
