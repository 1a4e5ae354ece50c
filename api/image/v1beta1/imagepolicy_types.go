package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
)

// ImagePolicySpec is v1's ImagePolicySpec without digestReflectionPolicy, interval and
// suspend, which Flux's v1beta1 lacks.
type ImagePolicySpec struct {
	// ImageRepositoryRef names the ImageRepository whose tags are considered.
	// +required
	ImageRepositoryRef meta.NamespacedObjectReference `json:"imageRepositoryRef"`

	// Policy is the rule that orders the tags; exactly one of its fields is set.
	// +required
	Policy v1.ImagePolicyChoice `json:"policy"`

	// FilterTags narrows the tags to those matching a pattern, and may
	// extract the part of each tag that the policy compares.
	// +optional
	FilterTags *v1.TagFilter `json:"filterTags,omitempty"`
}

// ImagePolicyStatus is v1's ImagePolicyStatus without latestRef and observedPreviousRef,
// which Flux's v1beta1 lacks.
type ImagePolicyStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Reconciling, Stalled.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=imgpol;imagepol,categories=all;fluxcd;fluxcd-images
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion:warning="v1beta1 ImagePolicy is deprecated, upgrade to v1"

// ImagePolicy is the v1beta1 form of v1's ImagePolicy.
type ImagePolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImagePolicySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImagePolicyStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ImagePolicyList is a list of ImagePolicy.
type ImagePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImagePolicy `json:"items"`
}
