//go:build tools

// Package tools pins the code generators, linters and client tools the Makefile builds into bin/.
// It is its own module so their dependencies never mix with Kubernetes' (../go.mod) or Azimuth's.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "honnef.co/go/tools/cmd/staticcheck"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
