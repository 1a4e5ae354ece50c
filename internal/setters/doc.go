// Package setters rewrites the image references that setter markers designate in YAML files, as
// Flux's image-automation-controller does with its "Setters" update strategy: a line comment
// `# {"$imagepolicy": "NAMESPACE:NAME"}` on a scalar value sets it to the ImagePolicy's latest
// image (NAME:TAG, or NAME:TAG@DIGEST), and the forms NAMESPACE:NAME:tag, :name and :digest set it
// to that part alone. Markers may sit in any YAML file under the update path: Kubernetes
// manifests, kustomize `images:` entries, Helm values, HelmRelease values, multi-document files.
//
// Files are read with kyaml (the YAML parser kustomize and Flux use), and only the marked scalar
// tokens are replaced in the file's bytes: comments, order, indentation, quoting, anchors and
// line endings stay exactly as they were, which Flux's re-serialisation does not guarantee.
// Only the files that change are returned; nothing outside the path is read, and symbolic links
// are never followed.
//
// In docs/architecture.md's flow it is the pure step between an ImageUpdateAutomation's
// checkout (package git) and its commit: no Kubernetes, no network.
package setters
