// Package v1 holds the image.toolkit.fluxcd.io/v1 kinds that Azimuth
// implements: ImageRepository, which scans the tags of an image repository
// (Azure Container Registry or any OCI registry), and ImagePolicy, which
// picks the latest of those tags by a semver, alphabetical or numerical rule; and
// ImageUpdateAutomation, which commits the policies' latest images to a Git repository where
// setter markers ask for them, and pushes the commit.
//
// In DESIGN.md's flow ImageRepository's spec feeds identity.Resolve and the
// ACR client; ImagePolicy's spec feeds the pure tag selection in
// internal/tags. Only the fields Azimuth implements are declared, so the API
// server rejects the others instead of Azimuth silently ignoring them.
//
// +kubebuilder:object:generate=true
// +groupName=image.toolkit.fluxcd.io
package v1
