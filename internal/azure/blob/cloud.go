// Package blob is the adapter for Azure Blob Storage: what Azimuth knows of the service in each
// cloud (the scope of its tokens). In DESIGN.md's flow it sits between the credential and the
// Bucket reconciler; the client that lists and downloads blobs arrives with the Blob slice, on
// this knowledge.
package blob

import "github.com/azimuth-gitops/azimuth/internal/entra"

// Scope is the scope of Storage tokens, the same in every cloud.
const Scope = "https://storage.azure.com/.default"

// ScopeFor is the scope of Storage tokens in cloud c.
func ScopeFor(entra.Cloud) string { return Scope }
