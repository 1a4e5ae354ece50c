// Package install puts Azimuth into a cluster, and takes it out, from the manifests the binary
// embeds (package config): what `azimuth install` and `azimuth uninstall` run.
//
// Render builds config/ with kustomize (krusty, over an in-memory copy of the embedded tree) in
// the chosen namespace, with the chosen components and image. Install applies the result with
// internal/apply, the server-side apply the Kustomization controller uses (CRDs and the
// namespace first, then the rest, each object written only when it differs), so that a second
// install changes nothing and a Kustomization that later applies the same manifests takes them
// over without a conflict; then, asked to, it waits for the CRDs and the Deployment. Uninstall
// stops the controller, strips Azimuth's finalizers from every object of its kinds (so that
// deleting them never prunes what they applied), and deletes what Install created, keeping the
// CRDs, the objects of Azimuth's kinds and the namespace unless told otherwise. Objects that
// Kustomizations applied are never touched.
//
// In docs/architecture.md's flow it is outside the flow: it installs the process that runs the
// flow.
package install
