package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Compile-time checks that both kinds carry conditions.
var (
	_ meta.ObjectWithConditions       = (*ImageRepository)(nil)
	_ meta.ObjectWithConditionsSetter = (*ImageRepository)(nil)
	_ meta.ObjectWithConditions       = (*ImagePolicy)(nil)
	_ meta.ObjectWithConditionsSetter = (*ImagePolicy)(nil)
)

// DefaultDigestInterval is how often digestReflectionPolicy Always looks up
// the digest when spec.interval is unset (objects built in code; the API
// server rejects Always without an interval).
const DefaultDigestInterval = 10 * time.Minute

// minScanTimeout keeps a tiny interval from making every scan time out.
const minScanTimeout = time.Second

// GetConditions returns the status conditions.
func (in *ImageRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *ImageRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns how long to wait before the next scan.
func (in *ImageRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, else spec.interval, and at least one second.
func (in *ImageRepository) GetTimeout() time.Duration {
	d := in.Spec.Interval.Duration
	if in.Spec.Timeout != nil {
		d = in.Spec.Timeout.Duration
	}
	return max(d, minScanTimeout)
}

// GetExclusionList returns spec.exclusionList, or DefaultExclusionList when empty.
func (in *ImageRepository) GetExclusionList() []string {
	if len(in.Spec.ExclusionList) == 0 {
		return DefaultExclusionList
	}
	return in.Spec.ExclusionList
}

// GetProvider returns spec.provider, or `generic` when unset.
func (in *ImageRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericProvider
	}
	return in.Spec.Provider
}

// GetConditions returns the status conditions.
func (in *ImagePolicy) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *ImagePolicy) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetDigestReflectionPolicy returns spec.digestReflectionPolicy, or Never when unset.
func (in *ImagePolicy) GetDigestReflectionPolicy() ReflectionPolicy {
	if in.Spec.DigestReflectionPolicy == "" {
		return ReflectNever
	}
	return in.Spec.DigestReflectionPolicy
}

// GetInterval returns how often to re-evaluate on a timer: the digest
// interval with ReflectAlways, else zero (the policy is re-evaluated only
// when its ImageRepository's scan result changes).
func (in *ImagePolicy) GetInterval() time.Duration {
	if in.GetDigestReflectionPolicy() != ReflectAlways {
		return 0
	}
	if in.Spec.Interval == nil || in.Spec.Interval.Duration == 0 {
		return DefaultDigestInterval
	}
	return in.Spec.Interval.Duration
}

// GetRequeueAfter is GetInterval, for reconcilers that treat every kind alike.
func (in *ImagePolicy) GetRequeueAfter() time.Duration {
	return in.GetInterval()
}
