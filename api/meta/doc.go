// Package meta holds the API types and constants that every Azimuth kind
// shares, as Flux's github.com/fluxcd/pkg/apis/meta does: object references,
// the reconcile-request annotation and its status field, the stored Artifact,
// and the generic condition types and reasons.
//
// It sits at the end of DESIGN.md's flow: reconcilers write these into
// status (conditions, artifact, lastHandledReconcileAt) and read the
// annotation that asks for an early reconcile. Names, JSON fields and string
// values match Flux's, so a manifest or a script written for Flux reads the
// same here.
//
// +kubebuilder:object:generate=true
package meta
