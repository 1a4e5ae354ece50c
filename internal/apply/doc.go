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
//     that the manifests set is put back on the next reconcile. (Unless Apply can tell
//     without the dry-run that it would find the object unchanged: below.)
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
//   - An object is not dry-run when Apply can tell without one that applying it would change
//     nothing (see "When the dry-run is skipped"). Flux dry-runs every object on every
//     reconcile.
//
// # When the dry-run is skipped
//
// A dry-run is a request per object, and costs the API server what an apply costs it; a
// reconcile that changes nothing is most reconciles. Apply reads every object (a GET, made as
// the identity that applies), then skips its dry-run, taking it for "unchanged", when one of
// two checks says the dry-run would find it so:
//
//  1. The Cache, when the caller gives one: the live object's UID and resourceVersion are
//     those this process last applied or found in the desired state, for a manifest that
//     hashes the same. No write by anyone since, so the dry-run would answer as it did then.
//  2. Failing that (an empty cache after a restart, or a write since), the live object's
//     metadata.managedFields. The API server records there which fields each manager set;
//     Apply's entry (kustomize-controller, operation Apply) is the set of the manifest it last
//     applied, less the fields others have since changed or removed: an Update, a patch or a
//     kubectl edit that changes a field moves it to its own manager, one that deletes it
//     takes it out of every set. Apply computes the manifest's set the way the API server
//     does (the same structured-merge-diff library, with the kind's schema: client-go's and
//     apiextensions' compiled schemas, which the API server of the same minor version uses, or
//     the deduced schema for other kinds), and takes the object for unchanged only when the
//     two sets are equal, no other manager owns any of those fields, and merging the manifest
//     into the live object by the schema's rules changes no value. A server-side apply does two
//     things, from those same managedFields: it merges the manifest in (nothing to change:
//     every value it sets is there), and removes the fields its manager set last time and no
//     longer sets (none: the sets are equal). So it would leave the object as it is, which is
//     what the dry-run would have shown. Fields the API server defaults or allocates (a
//     Service's clusterIP, a Deployment's strategy, a defaulted key of an associative list
//     such as a port's protocol) are in no manager's set, and do not get in the way. Compared
//     as the API server stores them: a Secret's stringData (as data), and the null
//     creationTimestamps `kubectl create --dry-run=client -o yaml` writes (of the object, left
//     out; of a built-in kind's pod template, which its Go type stores as none). A manifest's
//     status is left out once a controller has written the object's status subresource (a
//     managedFields entry says so): the API server ignores the status of an apply then.
//
// Whenever the second check is in doubt, the object is dry-run as before: a field added to or
// removed from the manifest, a value that differs, a field another manager owns too (even with
// the same value), no or several entries of kustomize-controller (an object created by an
// Update, or last applied at another apiVersion), a managedFields entry that does not decode,
// a manifest or live object that does not parse with the schema (an unknown field, duplicate
// keys; a kind whose schema differs between client-go and the API server shows as different
// sets), a value the API server writes in another form than the manifest's (a quantity 1 that
// it stores as "1", "0.5" as "500m": the dry-run finds it unchanged, and the Cache remembers),
// a status in the manifest of an object whose status no controller has written, metadata the
// server writes set in the manifest (but for a null creationTimestamp), and, for a kind of no
// compiled schema (a custom resource), a list or an empty map anywhere in the manifest (the
// deduced schema takes lists for atomic and maps for granular, where the CRD may say
// otherwise). Measured on this package's tests: ConfigMaps, Secrets (data or stringData),
// Services (ClusterIP and headless), Deployments (kubectl-generated ones too),
// ServiceAccounts, Roles, RoleBindings, ClusterRoles, CustomResourceDefinitions, and custom
// resources without lists need no dry-run when unchanged; hack/bench/kustomize's no-change
// apply of 1,000 objects with an empty cache sends 1,000 GETs and no dry-run (1.8 s, where it
// sent 1,000 dry-runs in 4.0 s on the same loaded machine).
//
// What neither check can see is what only the API server knows and would show in a dry-run
// alone: a mutating webhook or a CRD default added since the object was last written (the
// next change of the object or its manifest brings it in), and an RBAC grant to patch
// withdrawn from the identity that applies (the GET still checks it may read). The schemas
// are loaded on the first check of a process (some 0.1 s of CPU and 4 MiB of heap, kept); a
// check costs 50 to 200 µs of CPU per object, where a dry-run is a round trip and an apply's
// work on the API server.
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
