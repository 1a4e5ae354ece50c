// Package bucket gives a Bucket the means to read its container, and the bucket work of a
// source: list the container's blobs under spec.prefix, leave out what the container's root
// .sourceignore and spec.ignore match, index what remains as Flux does (each blob's name and
// ETag, whose digest is the artifact's revision), and download into a directory only the blobs
// whose ETags changed since the index of the stored artifact.
//
// In docs/architecture.md's flow it is the protocol step for Azure Blob Storage: it asks package
// access for the object's connection (its CA and proxy) and credential, in Flux's order for a
// Bucket's secretRef (an application's secret or certificate, a managed identity's clientId, the
// account's accountKey, a sasKey; without a secret the service account, the lockdown's default,
// or the controller's own identity), and hands it to the Blob adapter (internal/azure/blob).
// The Bucket reconciler sees neither the identity nor the Azure client.
package bucket
