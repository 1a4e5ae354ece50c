// Package api is the root of Azimuth's Flux-compatible API types: one
// package per group and version (source/v1, image/v1) and the shared meta
// types. The older versions Flux still serves (source/v1beta2, image/v1beta2,
// image/v1beta1) are declared beside them for the API server only: v1 is
// stored, and the controllers use v1 alone. It holds no code; its tests guard
// the generated CRDs.
//
// In docs/architecture.md's flow it is where everything starts: the object spec a reconciler
// reads. It imports nothing of the engine.
package api
