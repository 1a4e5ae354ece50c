// Package devops is the adapter for Azure DevOps: what Azimuth knows of the service (the scope
// of its tokens). In DESIGN.md's flow it sits between the credential and the GitRepository,
// ImageUpdateAutomation and commit-status code; the git transport arrives with the ADO slice, on
// this knowledge.
package devops

import "github.com/azimuth-gitops/azimuth/internal/entra"

// Scope is Azure DevOps' resource application ID with /.default: tokens for ADO are asked for by
// the application, the same in every cloud.
const Scope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// ScopeFor is the scope of Azure DevOps tokens in cloud c.
func ScopeFor(entra.Cloud) string { return Scope }
