package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Compile-time checks that Bucket carries conditions.
var (
	_ meta.ObjectWithConditions       = (*Bucket)(nil)
	_ meta.ObjectWithConditionsSetter = (*Bucket)(nil)
)

// DefaultBucketTimeout is spec.timeout when the API server has not defaulted it (objects built
// in code).
const DefaultBucketTimeout = 60 * time.Second

// GetConditions returns the status conditions.
func (in *Bucket) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *Bucket) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns how long to wait before the next reconcile.
func (in *Bucket) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or its default when unset.
func (in *Bucket) GetTimeout() time.Duration {
	if in.Spec.Timeout == nil {
		return DefaultBucketTimeout
	}
	return in.Spec.Timeout.Duration
}

// GetProvider returns spec.provider, or `generic` when unset, as the API server defaults it.
func (in *Bucket) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericBucketProvider
	}
	return in.Spec.Provider
}

// GetArtifact returns the stored artifact, nil when there is none.
func (in *Bucket) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// Suspended is spec.suspend.
func (in *Bucket) Suspended() bool { return in.Spec.Suspend }

// SetObserved records the generation a reconcile saw, and the reconcile request it handled.
func (in *Bucket) SetObserved(generation int64, requestedAt string) {
	in.Status.ObservedGeneration = generation
	if requestedAt != "" {
		in.Status.LastHandledReconcileAt = requestedAt
	}
}
