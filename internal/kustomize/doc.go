// Package kustomize turns a directory of an extracted source artifact into Kubernetes objects
// the way Flux's kustomize-controller builds them, and substitutes post-build variables in them.
//
// In docs/architecture.md's flow it is the build step of the Kustomization reconciler: the
// reconciler fetches the artifact into a private directory; Build generates or amends the
// kustomization file there with the object's spec (targetNamespace, namePrefix and nameSuffix,
// patches, images, components) and runs kustomize's krusty on it; Substitute applies
// spec.postBuild; the apply step (server-side apply) takes the objects. Build and Substitute see
// files and variables, never the cluster.
//
// A build reads only the artifact. Paths that leave it, by ../ or by symlink, are refused by the
// file system kustomize runs on. Remote bases and files (git and http URLs) are refused before
// kustomize starts, so a build never starts a process nor opens a connection. Only kustomize's
// builtin plugins run. YAML whose aliases loop or explode is refused before kustomize parses it,
// because kustomize would crash the process on it. Builds run one at a time: kustomize keeps
// process-wide state. Failures caused by the input are *BuildError and *SubstituteError, whose
// messages name the file, the object or the variable, and what to change.
//
// Not supported:
//   - remote bases, components and files (Flux allows them unless --no-remote-bases is set);
//   - Helm chart inflation (helmCharts), exec, Go and KRM function plugins, as in Flux;
//   - SOPS decryption of the built objects: a separate step;
//   - YAML aliases inside the node they refer to, or expanding to more than 1,000,000 nodes;
//   - $var without braces is not substituted, as in Flux.
package kustomize
