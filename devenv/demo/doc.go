// Package demo runs `azimuth dev up`: the whole system on one machine (devenv) with
// sample tenants that show each way an object reaches Azure, and a table of how they fared.
//
// Four tenants, one namespace each, cover the identities of DESIGN.md:
//
//   - team-apps: object-level workload identity. Its service account "source" is federated with
//     the managed identity team-apps, which is granted AcrPull on the registry.
//   - team-platform: controller-level workload identity. Its objects name no service account, so
//     the controller's own environment is used: AZURE_FEDERATED_TOKEN_FILE holds a token of the
//     service account flux-system/azimuth-controller, federated with flux-controller.
//   - team-node: the node's managed identity (IMDS), in a second manager whose environment is
//     empty; the two managers shard the namespaces, as controllers with different identities
//     would in a cluster.
//   - team-denied: object-level workload identity with an identity that holds no role; its
//     OCIRepository must fail with AuthenticationFailed and the command that grants the role,
//     and its GitRepository with the Azure DevOps group it needs.
//   - team-secrets: GitRepositories that authenticate with a secret: the developer's personal
//     access token, an SSH key the demo registers for the developer, and the certificate of
//     flux-certificate-app (provider azure).
//
// team-apps, team-platform and team-node also fetch the directory's Azure DevOps repository
// (their identities are in its project's Readers or Contributors; the demo adds team-apps and
// flux-certificate-app to the Readers). Samples are pushed to the local ACR
// as the client-secret application flux-secret-app (AcrPush): an OCI artifact of Kubernetes
// manifests and semver tags of an image; the same manifests are committed to the Azure DevOps
// repository with git. The manifests hold an application (podinfo/) and a Secret (secrets/)
// that the demo encrypts at each start with the SOPS module, its data key wrapped by the local
// Key Vault's key "sops" as flux-secret-app (Key Vault Crypto User).
//
// Every tenant with a source that becomes Ready has two Kustomizations: "podinfo" applies the
// application (its ConfigMap health-checked, not the Deployment: nothing runs pods), and
// "secrets" applies the Secret, decrypted with Key Vault as the tenant's identity: team-apps'
// service account (spec.decryption.serviceAccountName), the controller's or the node's identity
// (no decryption identity named), or in team-secrets flux-secret-app's client secret
// (spec.decryption.secretRef with sops.azure-kv). team-denied's "secrets" decrypts team-apps'
// artifact as team-denied/source, which holds no role on the vault: DecryptionFailed.
//
// team-platform also has an ImageUpdateAutomation: it keeps image-automation/podinfo.yaml in the
// Azure DevOps repository at the latest samples/podinfo tag its ImagePolicy picks, pushing to
// main as the controller's identity (flux-controller, a Contributor); a tag pushed to the local
// ACR while the demo runs is committed within a minute.
//
// The manifests are also uploaded to the container "manifests" of the directory's storage account
// (Blob Storage, Azurite behind the local Azure) as flux-secret-app, and every tenant has a Bucket
// of it as its identity; team-secrets reads it with the account key and with flux-secret-app's
// client secret, and team-denied's Bucket fails with BucketOperationFailed, naming Storage Blob
// Data Reader. team-apps sends its events to a Teams webhook of the local Azure (Provider msteams),
// and team-platform sets Azure DevOps commit statuses as flux-controller (Provider azuredevops);
// Providers and Alerts have no status, so their rows say what the endpoints received, read back
// from them. Later integrations add their tenants and objects here.
//
// The package sets up what production code would meet in a real cluster and Azure; the engine
// (api/, internal/) is used as it is, reaching the local Azure only through devenv's connect-to
// map and CA.
//
// In docs/architecture.md it sits on devenv: samples for every identity kind, one table row per
// object.
package demo
