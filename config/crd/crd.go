// Package crd embeds the CustomResourceDefinitions controller-gen writes to bases/, so that the
// azimuth binary (`azimuth dev up`) and tests install exactly what `make generate` produced.
//
// In docs/architecture.md's flow it carries the API types' schemas to the API server.
package crd

import "embed"

// Bases holds bases/*.yaml, one file per kind.
//
//go:embed bases/*.yaml
var Bases embed.FS
