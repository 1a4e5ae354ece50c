// Package v1 holds kustomize.toolkit.fluxcd.io/v1 Kustomization: a source's artifact built with
// kustomize and applied to the cluster, pruned and health-checked, as Flux's kustomize-controller
// does it.
//
// In docs/architecture.md's flow the spec is the input of the Kustomization reconciler (which
// source, which path, as whom, decrypted how); the status is its output (inventory, revisions,
// conditions). Only the fields Azimuth implements are declared, so the API server rejects the
// others (spec.kubeConfig.configMapRef) instead of Azimuth silently
// ignoring them.
//
// +kubebuilder:object:generate=true
// +groupName=kustomize.toolkit.fluxcd.io
package v1
