// Package v1beta2 serves kustomize.toolkit.fluxcd.io/v1beta2 Kustomization, deprecated in Flux
// and still served by Flux 2.6, so that manifests written for Flux 2.0 to 2.5 apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=kustomize.toolkit.fluxcd.io
package v1beta2
