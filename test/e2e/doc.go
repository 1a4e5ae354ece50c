// Package e2e runs the whole system as a user does: a real Kubernetes, the local Azure and
// Azimuth's controllers (devenv), then applies Flux objects and watches them settle.
// Production code reaches the local Azure only through the connect-to map and the local CA.
//
// In docs/architecture.md it is the outermost test: the whole flow as a user runs it.
package e2e
