// Package apply puts a Kustomization's built objects into the cluster the way Flux's
// kustomize-controller does (with fluxcd/pkg/ssa): server-side apply, an inventory of what was
// applied, pruning of what left it, and health checks by kstatus.
//
// It sits in the Kustomization reconciler's steps after the build: the reconciler gets the
// source's artifact, builds it with kustomize, then calls Manager.Apply with the objects,
// records the inventory (InventoryOf) in status.inventory, calls Manager.Prune with the old and
// new inventories when spec.prune is set, and Manager.Wait for spec.wait or spec.healthChecks.
// The Manager reaches the API server through the client the reconciler gives it, impersonating
// the Kustomization's service account when it names one.
//
// # Flux's behaviour matched
//
//   - Field manager kustomize-controller, ownership forced; the labels
//     kustomize.toolkit.fluxcd.io/name and /namespace on every object.
//   - Stages: CustomResourceDefinitions and Namespaces, then kinds named *Class, then the rest,
//     each in kustomize's kind order; a wait after the first stage until the CRDs are
//     Established.
//   - Drift detection by dry-run: each object is dry-run applied and the answer compared with
//     the live object, without status and the metadata the server writes (managedFields,
//     resourceVersion, generation, creationTimestamp, uid). Equal: "unchanged", nothing
//     written. So a reconcile that changes nothing writes nothing, and a field edited by hand
//     that the manifests set is put back on the next reconcile.
//   - kustomize.toolkit.fluxcd.io/ssa: Ignore (on the manifest or on the live object) and
//     reconcile: disabled skip the object; ssa: IfNotPresent only creates it.
//   - Immutable changes: with spec.force (Options.Force) or force: Enabled the object is
//     deleted (background propagation), waited for until gone, and created ("created", as
//     Flux's ssa package reports it); without, an error naming the object and its fields and
//     saying what to set.
//   - Inventory IDs in cli-utils' format, "<namespace>_<name>_<group>_<kind>", with the colons
//     of RBAC names as "__"; versions in "v".
//   - Prune: old inventory minus new (by group, kind, namespace and name), both owner labels
//     required, prune: disabled respected, background propagation, reverse apply order.
//   - Wait: kstatus on the live objects, failing early on Failed.
//   - Reads of a stage (GETs and dry-runs) run Options.Concurrency at a time, as
//     kustomize-controller's --concurrent-ssa (default 4) has them; writes one at a time.
//   - Event text: one "Kind/namespace/name action" line per object created, configured or
//     deleted (ChangeSet.String).
//
// # Where it differs, and why
//
//   - A stage is dry-run whole before it writes: one failing object fails the stage with
//     every failing object named, and nothing of that stage is written (Flux deletes the
//     objects it recreates during its dry-runs, before it knows whether the stage will fail).
//   - Only an immutability error triggers a recreate; Flux takes any Invalid answer for one,
//     and with force deletes an object whose manifest is merely invalid.
//   - The ChangeSet of a failed Apply holds what was done, for the inventory; Flux returns
//     none.
//   - The comparison covers all metadata but what the server writes, where Flux's looks only
//     at labels and annotations: ownerReferences or finalizers a manifest sets are kept too.
//   - Prune leaves objects already gone out of the ChangeSet (Flux reports them "deleted"),
//     and refuses to prune when it cannot read the new inventory.
//   - After the first stage Apply also waits until each CRD's kind is served by discovery,
//     which can trail its Established condition.
//   - An error lists every failing object, up to 20, then how many more.
//   - An optional Cache skips the dry-run of objects unchanged since this process last found
//     them in the desired state (see Cache for what it cannot notice).
//
// # Not supported
//
//   - Removing the field managers and the last-applied annotation that kubectl's client-side
//     apply left (Flux's migration of objects first applied by kubectl), and with it the
//     difference between ssa: Override and ssa: Merge, which both apply.
//   - spec.healthCheckExprs (CEL health checks) and custom kstatus readers.
//   - Inventories in ConfigMaps (cli-utils' inventory objects); the inventory is returned to
//     the caller, which stores it in status.
//   - Decryption (SOPS), variable substitution and the build itself: the caller's steps.
package apply
