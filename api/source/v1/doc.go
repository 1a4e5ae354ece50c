// Package v1 holds the source.toolkit.fluxcd.io/v1 kinds that Azimuth
// implements: OCIRepository, which pulls an OCI artifact (from Azure
// Container Registry or any OCI registry) and stores it as a tarball artifact.
//
// In DESIGN.md's flow the spec is the input of identity.Resolve (provider,
// serviceAccountName, secretRef) and of the OCIRepository reconciler; the
// status is its output (artifact, conditions). Only the fields Azimuth
// implements are declared, so the API server rejects the others (for example
// spec.verify) instead of Azimuth silently ignoring them.
//
// +kubebuilder:object:generate=true
// +groupName=source.toolkit.fluxcd.io
package v1
