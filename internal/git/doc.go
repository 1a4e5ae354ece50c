// Package git gives an object the means to reach its Git repository, and the Git work of a
// source: list the remote's refs (so an unchanged head costs no clone), choose the commit that
// spec.ref names, and clone it, shallow where the ref allows. GitRepository uses it.
//
// ImageUpdateAutomation uses Update: the commit to change is fetched into memory (no work tree,
// and no credentials on disk), the change is committed onto it by building the changed trees
// (signed with OpenPGP when asked), and pushed without force with the same credentials as the
// fetch; when the branch moved on the remote, the change is made again on its new head.
//
// In docs/architecture.md's flow it is the protocol step for Git: with provider azure it asks
// package access for the object's Entra credential and hands it to the Azure DevOps adapter
// (internal/azure/devops), which turns it into a bearer token sent over HTTPS only; with provider
// generic the credentials come from spec.secretRef (username and password, or bearerToken).
// Every request goes through the controller's transport (connect-to map, CA) with the object's
// CA (ca.crt) and proxy.
package git
