package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Compile-time checks that GitRepository carries conditions.
var (
	_ meta.ObjectWithConditions       = (*GitRepository)(nil)
	_ meta.ObjectWithConditionsSetter = (*GitRepository)(nil)
)

// DefaultGitTimeout is spec.timeout when the API server has not defaulted it
// (objects built in code).
const DefaultGitTimeout = 60 * time.Second

// DefaultGitBranch is checked out when spec.ref sets nothing, as in Flux.
const DefaultGitBranch = "master"

// GetConditions returns the status conditions.
func (in *GitRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *GitRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns how long to wait before the next reconcile.
func (in *GitRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or its default when unset.
func (in *GitRepository) GetTimeout() time.Duration {
	if in.Spec.Timeout == nil {
		return DefaultGitTimeout
	}
	return in.Spec.Timeout.Duration
}

// GetProvider returns spec.provider, or `generic` when unset.
func (in *GitRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericGitProvider
	}
	return in.Spec.Provider
}

// GetArtifact returns the stored artifact, nil when there is none.
func (in *GitRepository) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// Suspended is spec.suspend.
func (in *GitRepository) Suspended() bool { return in.Spec.Suspend }

// SetObserved records the generation a reconcile saw, and the reconcile request it handled.
func (in *GitRepository) SetObserved(generation int64, requestedAt string) {
	in.Status.ObservedGeneration = generation
	if requestedAt != "" {
		in.Status.LastHandledReconcileAt = requestedAt
	}
}
