// Package devops is the adapter for Azure DevOps: the scope of its tokens, its repository
// addresses, git credentials built from an azcore.TokenCredential, and the explanation of its
// refusals, and the commit statuses REST API (statuses.go) that notifications write. In
// docs/architecture.md's flow it sits between the credential and the git protocol (GitRepository
// now; ImageUpdateAutomation next) and internal/notify: it takes a credential, never an identity.
package devops

import "github.com/azimuth-gitops/azimuth/internal/entra"

// Scope is Azure DevOps' resource application ID with /.default: tokens for ADO are asked for by
// the application, the same in every cloud.
const Scope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// ScopeFor is the scope of Azure DevOps tokens in cloud c.
func ScopeFor(entra.Cloud) string { return Scope }
