package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
)

// Kustomization is served at v1beta2 with v1's spec and status, as GitRepository is: the fields
// of Flux's own v1beta2 that its v1 dropped (spec.validation, spec.patchesStrategicMerge,
// spec.patchesJson6902) are left out, so the API server rejects them with a message instead of
// Azimuth ignoring them, and with the conversion strategy None no v1 field is hidden.

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=ks,categories=all;fluxcd
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion:warning="v1beta2 Kustomization is deprecated, upgrade to v1"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// Kustomization is v1's Kustomization served at v1beta2.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec v1.KustomizationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status v1.KustomizationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// KustomizationList is a list of Kustomization.
type KustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Kustomization `json:"items"`
}
