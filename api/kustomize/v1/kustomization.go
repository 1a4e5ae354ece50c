package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Compile-time checks that Kustomization carries conditions.
var (
	_ meta.ObjectWithConditions       = (*Kustomization)(nil)
	_ meta.ObjectWithConditionsSetter = (*Kustomization)(nil)
)

// GetConditions returns the status conditions.
func (in *Kustomization) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *Kustomization) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns spec.interval, the wait before the next reconcile of a steady object.
func (in *Kustomization) GetRequeueAfter() time.Duration { return in.Spec.Interval.Duration }

// GetRetryInterval returns spec.retryInterval, or spec.interval when unset.
func (in *Kustomization) GetRetryInterval() time.Duration {
	if in.Spec.RetryInterval != nil && in.Spec.RetryInterval.Duration > 0 {
		return in.Spec.RetryInterval.Duration
	}
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or spec.interval when unset, as Flux defaults it.
func (in *Kustomization) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil && in.Spec.Timeout.Duration > 0 {
		return in.Spec.Timeout.Duration
	}
	if in.Spec.Interval.Duration > 0 {
		return in.Spec.Interval.Duration
	}
	return 5 * time.Minute
}

// Values of spec.deletionPolicy.
const (
	DeletionPolicyMirrorPrune        = "MirrorPrune"
	DeletionPolicyDelete             = "Delete"
	DeletionPolicyWaitForTermination = "WaitForTermination"
	DeletionPolicyOrphan             = "Orphan"
)

// GetDeletionPolicy returns what deleting the Kustomization does to its objects: Delete,
// WaitForTermination or Orphan, with MirrorPrune (or no policy) resolved by spec.prune.
func (in *Kustomization) GetDeletionPolicy() string {
	switch in.Spec.DeletionPolicy {
	case "", DeletionPolicyMirrorPrune:
		if in.Spec.Prune {
			return DeletionPolicyDelete
		}
		return DeletionPolicyOrphan
	}
	return in.Spec.DeletionPolicy
}

// Suspended is spec.suspend.
func (in *Kustomization) Suspended() bool { return in.Spec.Suspend }

// SetObserved records the generation a reconcile saw, and the reconcile request it handled.
func (in *Kustomization) SetObserved(generation int64, requestedAt string) {
	in.Status.ObservedGeneration = generation
	if requestedAt != "" {
		in.Status.LastHandledReconcileAt = requestedAt
	}
}

// SourceNamespace is the namespace of spec.sourceRef: its own, or the Kustomization's.
func (in *Kustomization) SourceNamespace() string {
	if in.Spec.SourceRef.Namespace != "" {
		return in.Spec.SourceRef.Namespace
	}
	return in.Namespace
}
