//go:build tools

// Package tools pins the flux CLI (v2.6.4) that the Makefile builds into bin/ for the tests that
// drive it against Azimuth.
package tools

import _ "github.com/fluxcd/flux2/v2/cmd/flux"
