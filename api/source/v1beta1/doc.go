// Package v1beta1 serves GitRepository at source.toolkit.fluxcd.io/v1beta1, which Flux 2.6 still
// serves (deprecated; Flux 2.7 dropped it), so that the oldest manifests Flux 2.6 takes apply
// unchanged. It declares v1's spec and status, as v1beta2 does: with the conversion strategy
// None, a version that declared fewer fields would hide v1's from its readers.
//
// In docs/architecture.md's flow it is part of the object spec a reconciler reads; the
// controllers use v1 alone.
//
// +kubebuilder:object:generate=true
// +groupName=source.toolkit.fluxcd.io
package v1beta1
