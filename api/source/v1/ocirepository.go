package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Compile-time checks that OCIRepository carries conditions.
var (
	_ meta.ObjectWithConditions       = (*OCIRepository)(nil)
	_ meta.ObjectWithConditionsSetter = (*OCIRepository)(nil)
)

// DefaultOCITimeout is spec.timeout when the API server has not defaulted it
// (objects built in code).
const DefaultOCITimeout = 60 * time.Second

// GetConditions returns the status conditions.
func (in *OCIRepository) GetConditions() []metav1.Condition {
	return in.Status.Conditions
}

// SetConditions replaces the status conditions.
func (in *OCIRepository) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter returns how long to wait before the next reconcile.
func (in *OCIRepository) GetRequeueAfter() time.Duration {
	return in.Spec.Interval.Duration
}

// GetTimeout returns spec.timeout, or its default when unset.
func (in *OCIRepository) GetTimeout() time.Duration {
	if in.Spec.Timeout == nil {
		return DefaultOCITimeout
	}
	return in.Spec.Timeout.Duration
}

// GetProvider returns spec.provider, or `generic` when unset.
func (in *OCIRepository) GetProvider() string {
	if in.Spec.Provider == "" {
		return GenericOCIProvider
	}
	return in.Spec.Provider
}

// GetArtifact returns the stored artifact, nil when there is none.
func (in *OCIRepository) GetArtifact() *meta.Artifact {
	return in.Status.Artifact
}

// GetLayerMediaType returns the selected media type; empty selects the first layer.
func (in *OCIRepository) GetLayerMediaType() string {
	if in.Spec.LayerSelector == nil {
		return ""
	}
	return in.Spec.LayerSelector.MediaType
}

// GetLayerOperation returns the layer operation, `extract` when unset.
func (in *OCIRepository) GetLayerOperation() string {
	if in.Spec.LayerSelector == nil || in.Spec.LayerSelector.Operation == "" {
		return OCILayerExtract
	}
	return in.Spec.LayerSelector.Operation
}
