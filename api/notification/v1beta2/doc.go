// Package v1beta2 serves notification.toolkit.fluxcd.io/v1beta2 Provider and Alert, deprecated in
// Flux and still served by Flux 2.6, so that manifests written for Flux 2.0 to 2.6 apply
// unchanged. Both kinds are v1beta3's spec served at v1beta2, the storage version staying
// v1beta3: with the conversion strategy None the API server only relabels an object, so the
// two versions must declare the same fields. The fields of Flux's own v1beta2 that v1beta3 does
// not declare here (spec.username, spec.proxy, spec.interval) and its status, which no one
// writes, are left out, and the API server refuses them with a message instead of Azimuth
// ignoring them.
//
// In docs/architecture.md's flow these are read by the event pipeline (internal/notify) at
// v1beta3; nothing in Azimuth reads this version.
//
// +kubebuilder:object:generate=true
// +groupName=notification.toolkit.fluxcd.io
package v1beta2
