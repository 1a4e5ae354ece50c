// Package config embeds Azimuth's installation manifests, the kustomize tree of this directory
// (CRDs, RBAC, the manager's Deployment, network policies and components), so that `azimuth
// install` renders and applies them from the binary, without a checkout.
//
// In docs/architecture.md's flow it is outside the flow: what puts the controllers, and the
// schemas of the kinds they reconcile, into a cluster.
package config

import "embed"

// Manifests is the kustomize tree rooted here: kustomization.yaml, namespace.yaml, crd/, rbac/,
// manager/, network-policy/ and components/<name>/.
//
//go:embed kustomization.yaml namespace.yaml crd/kustomization.yaml crd/bases/*.yaml rbac/*.yaml manager/*.yaml network-policy/*.yaml components/*/kustomization.yaml
var Manifests embed.FS
