// Package api is the root of Azimuth's Flux-compatible API types: one
// package per group and version (source/v1, image/v1) and the shared meta
// types. It holds no code; its tests guard the generated CRDs.
//
// In docs/architecture.md's flow it is where everything starts: the object spec a reconciler
// reads. It imports nothing of the engine.
package api
