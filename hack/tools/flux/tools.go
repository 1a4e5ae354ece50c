//go:build tools

// Package tools pins the flux CLI (v2.9.5) that the Makefile builds into bin/ for the tests that
// drive it against Azimuth.
package tools

import _ "github.com/fluxcd/flux2/v2/cmd/flux"
