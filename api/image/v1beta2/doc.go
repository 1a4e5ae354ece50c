// Package v1beta2 serves ImageRepository, ImagePolicy and ImageUpdateAutomation at
// image.toolkit.fluxcd.io/v1beta2, the version that manifests written for Flux 2.6 and earlier
// use and that Flux 2.7 and 2.8 still serve (deprecated).
//
// Flux's v1beta2 and v1 image kinds have the same fields (Flux converts between them with the
// CRD conversion strategy None; v1beta2's deprecated status.latestImage and
// status.observedPreviousImage, which Azimuth leaves out, are absent here), so
// this package declares the v1beta2 kinds around v1's spec and status types: the schemas
// cannot drift apart, and the API server converts by relabelling the object. The storage
// version is v1, and the controllers use only v1.
//
// +kubebuilder:object:generate=true
// +groupName=image.toolkit.fluxcd.io
package v1beta2
