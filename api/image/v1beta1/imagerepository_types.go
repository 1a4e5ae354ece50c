package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// ImageRepositorySpec is v1's ImageRepositorySpec without provider, proxySecretRef and
// insecure, which Flux's v1beta1 lacks.
type ImageRepositorySpec struct {
	// Image is the repository to scan, such as `myregistry.azurecr.io/app`.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +required
	Image string `json:"image,omitempty"`

	// Interval between scans.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +required
	Interval metav1.Duration `json:"interval,omitempty"`

	// Timeout of a scan; the interval when empty.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a `kubernetes.io/dockerconfigjson` Secret with
	// registry credentials (`kubectl create secret docker-registry`).
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName names a service account in the object's namespace
	// whose image pull secrets are used.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with a CA bundle (`ca.crt`) to trust and/or
	// a client certificate and key (`tls.crt`, `tls.key`) to present to the
	// registry. The Secret is of type `Opaque` or `kubernetes.io/tls`.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// AccessFrom lets ImagePolicies of other namespaces use this repository's tags: those
	// whose namespace matches one of its selectors.
	// +optional
	AccessFrom *meta.AccessFrom `json:"accessFrom,omitempty"`

	// Suspend stops scanning until set back to false; a scan under way finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ExclusionList holds regular expressions; a tag that matches any of them
	// is left out of the scan result.
	// +kubebuilder:default:={"^.*\\.sig$"}
	// +kubebuilder:validation:MaxItems:=25
	// +kubebuilder:validation:items:MaxLength=1024
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`
}

// ScanResult summarises the last scan.
type ScanResult struct {
	// TagCount is the number of tags found.
	// +required
	TagCount int `json:"tagCount"`

	// ScanTime is when the scan ran.
	// +optional
	ScanTime metav1.Time `json:"scanTime,omitempty"`
}

// ImageRepositoryStatus is what the last scan found.
type ImageRepositoryStatus struct {
	// Conditions of the object: Ready, Reconciling, Stalled.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// CanonicalImageName is spec.image with the implied parts spelled out,
	// such as `docker.io/library/alpine` for `alpine`.
	// +optional
	CanonicalImageName string `json:"canonicalImageName,omitempty"`

	// LastScanResult summarises the last successful scan.
	// +optional
	LastScanResult *ScanResult `json:"lastScanResult,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=imgrepo;imagerepo,categories=all;fluxcd;fluxcd-images
// +kubebuilder:subresource:status
// +kubebuilder:deprecatedversion:warning="v1beta1 ImageRepository is deprecated, upgrade to v1"
// +kubebuilder:printcolumn:name="Last scan",type=string,JSONPath=`.status.lastScanResult.scanTime`
// +kubebuilder:printcolumn:name="Tags",type=string,JSONPath=`.status.lastScanResult.tagCount`

// ImageRepository is the v1beta1 form of v1's ImageRepository.
type ImageRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImageRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImageRepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ImageRepositoryList is a list of ImageRepository.
type ImageRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageRepository `json:"items"`
}
