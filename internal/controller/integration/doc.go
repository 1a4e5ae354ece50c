// Package integration proves that the OCIRepository, ImageRepository and ImagePolicy reconcilers
// behave like Flux's. Its tests run the reconcilers as `azimuth controller` does, in the manager
// of package manager, against a real kube-apiserver and etcd (package testenv) and a real OCI
// registry: go-containerregistry's pkg/registry served over plain HTTP, over TLS, and behind
// Basic authentication. They check what a user sees: status conditions and reasons, the
// artifact served over HTTP, Kubernetes events, finalizers.
//
// The package holds only tests. Registry access for provider generic is covered here; the Azure
// path (Entra ID, the ACR token exchange) is proved end to end in test/e2e.
//
// In docs/architecture.md's flow it drives the reconcilers through every step, against a real API
// server, the local Azure and a real registry.
package integration
