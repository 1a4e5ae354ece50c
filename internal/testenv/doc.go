// Package testenv runs a real Kubernetes control plane, etcd and kube-apiserver built by
// `make tools`, for tests and for `azimuth dev up`.
//
// The API server issues service-account tokens as a cluster would, and serves its OIDC discovery
// document and JWKS to anonymous clients, so the local Entra ID can verify a federated token the
// way Microsoft Entra ID verifies an AKS cluster's. A test package starts one control plane and
// shares it among its tests (Get, Main); it is stopped when the package's tests end, and its
// processes die with the test binary even when that binary is killed.
//
// The engine (api/, internal/) never imports this package.
//
// In docs/architecture.md it is the Kubernetes side of the tests: a real counterpart, never
// imported by the engine.
package testenv
