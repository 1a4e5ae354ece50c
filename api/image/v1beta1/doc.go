// Package v1beta1 serves ImageRepository and ImagePolicy at image.toolkit.fluxcd.io/v1beta1,
// which Flux 2.6 still serves beside v1beta2 (and Flux 2.7 no longer does).
//
// Flux's v1beta1 has a subset of v1's fields, and Flux converts between the versions with
// the CRD conversion strategy None: a v1beta1 object is stored as v1 unchanged, and a v1
// object read at v1beta1 shows only the v1beta1 fields. The spec types here are that subset,
// built from v1's field types so that the bounds stay the same; status.latestImage, which
// Flux's v1beta1 ImagePolicy reports, Azimuth leaves out (read the policy at v1 or v1beta2
// for status.latestRef). The storage version is v1, and the controllers use only v1.
//
// +kubebuilder:object:generate=true
// +groupName=image.toolkit.fluxcd.io
package v1beta1
