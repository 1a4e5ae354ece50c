//go:build tools

// Package tools pins the sops CLI (v3.13.3, the version of the SOPS module the engine decrypts
// with) that the Makefile builds into bin/ for the tests that encrypt as a user does.
package tools

import _ "github.com/getsops/sops/v3/cmd/sops"
