// Package v1beta1 serves Provider and Alert at notification.toolkit.fluxcd.io/v1beta1, which
// Flux 2.6 still serves beside v1beta2 (and Flux 2.7 no longer does).
//
// Flux's v1beta1 has a subset of v1beta3's fields, and the API server converts between the
// versions with the CRD conversion strategy None: a v1beta1 object is stored as v1beta3
// unchanged, and a v1beta3 object read at v1beta1 shows only the v1beta1 fields. The spec types
// here are that subset with v1beta3's bounds; Flux's v1beta1 spec.username and spec.proxy and
// its status are left out, so the API server refuses them instead of Azimuth ignoring them.
// The event pipeline reads v1beta3 only.
//
// +kubebuilder:object:generate=true
// +groupName=notification.toolkit.fluxcd.io
package v1beta1
