package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// ImagePolicyKind is the kind name of ImagePolicy.
const ImagePolicyKind = "ImagePolicy"

// ImagePolicySpec is which ImageRepository to read and how to pick its latest tag.
// +kubebuilder:validation:XValidation:rule="!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')", message="spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"
// +kubebuilder:validation:XValidation:rule="has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'", message="spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
type ImagePolicySpec struct {
	// ImageRepositoryRef names the ImageRepository whose tags are considered.
	// +required
	ImageRepositoryRef meta.NamespacedObjectReference `json:"imageRepositoryRef"`

	// Policy is the rule that orders the tags; exactly one of its fields is set.
	// +required
	Policy ImagePolicyChoice `json:"policy"`

	// FilterTags narrows the tags to those matching a pattern, and may
	// extract the part of each tag that the policy compares.
	// +optional
	FilterTags *TagFilter `json:"filterTags,omitempty"`

	// DigestReflectionPolicy says when to record the latest tag's digest in
	// status.latestRef.digest: `Never` (the default) leaves it empty;
	// `IfNotPresent` looks it up when the tag changes or the field is empty;
	// `Always` looks it up every spec.interval.
	// +kubebuilder:default:=Never
	DigestReflectionPolicy ReflectionPolicy `json:"digestReflectionPolicy,omitempty"`

	// Interval between digest look-ups with digestReflectionPolicy `Always`,
	// and only then.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Suspend stops evaluating the policy until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// ReflectionPolicy says when a value from the registry is copied into status.
// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
type ReflectionPolicy string

// Values of ReflectionPolicy.
const (
	// ReflectAlways refreshes the value every interval, replacing the old one.
	ReflectAlways ReflectionPolicy = "Always"

	// ReflectIfNotPresent sets the value when it is empty or its subject
	// (the tag) changed, and keeps it otherwise.
	ReflectIfNotPresent ReflectionPolicy = "IfNotPresent"

	// ReflectNever never sets the value.
	ReflectNever ReflectionPolicy = "Never"
)

// ImagePolicyChoice holds one ordering rule. When several are set, semver
// wins over alphabetical, which wins over numerical.
type ImagePolicyChoice struct {
	// SemVer picks the highest version within a range.
	// +optional
	SemVer *SemVerPolicy `json:"semver,omitempty"`

	// Alphabetical picks by string order.
	// +optional
	Alphabetical *AlphabeticalPolicy `json:"alphabetical,omitempty"`

	// Numerical picks by numeric value; every considered tag must be a number.
	// +optional
	Numerical *NumericalPolicy `json:"numerical,omitempty"`
}

// SemVerPolicy picks the highest semantic version within a range.
type SemVerPolicy struct {
	// Range of versions, such as `>=1.0.0` or `^2.3`; tags that are not
	// semantic versions (an optional `v` prefix is allowed) are skipped.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	// +required
	Range string `json:"range"`
}

// AlphabeticalPolicy orders tags as strings.
type AlphabeticalPolicy struct {
	// Order: `asc` picks the last tag in alphabetical order (z over a),
	// `desc` the first.
	// +kubebuilder:default:="asc"
	// +kubebuilder:validation:Enum=asc;desc
	// +optional
	Order string `json:"order,omitempty"`
}

// NumericalPolicy orders tags as numbers.
type NumericalPolicy struct {
	// Order: `asc` picks the highest number, `desc` the lowest.
	// +kubebuilder:default:="asc"
	// +kubebuilder:validation:Enum=asc;desc
	// +optional
	Order string `json:"order,omitempty"`
}

// TagFilter selects tags by a regular expression.
type TagFilter struct {
	// Pattern is a regular expression (Go syntax) that a tag must match;
	// named groups such as `(?P<ts>[0-9]+)` can be used by Extract.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Pattern string `json:"pattern"`

	// Extract is a template such as `$ts` that builds, from the groups of
	// Pattern, the value the policy compares instead of the whole tag.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Extract string `json:"extract"`
}

// ImageRef is an image reference: repository, tag and optional digest.
type ImageRef struct {
	// Name of the image repository, as in the ImageRepository's spec.image.
	// +required
	Name string `json:"name"`

	// Tag of the image.
	// +required
	Tag string `json:"tag"`

	// Digest of the image, when reflected.
	// +optional
	Digest string `json:"digest,omitempty"`
}

// String returns NAME:TAG, or NAME:TAG@DIGEST when the digest is known.
func (in *ImageRef) String() string {
	s := in.Name + ":" + in.Tag
	if in.Digest != "" {
		s += "@" + in.Digest
	}
	return s
}

// ImagePolicyStatus is the latest image the policy picked.
type ImagePolicyStatus struct {
	// LatestRef is the image whose tag ranks first under the policy.
	// +optional
	LatestRef *ImageRef `json:"latestRef,omitempty"`

	// ObservedPreviousRef is the LatestRef before the last change.
	// +optional
	ObservedPreviousRef *ImageRef `json:"observedPreviousRef,omitempty"`

	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Reconciling, Stalled.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=imgpol;imagepol,categories=all;fluxcd;fluxcd-images
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.status.latestRef.name`
// +kubebuilder:printcolumn:name="Tag",type=string,JSONPath=`.status.latestRef.tag`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ImagePolicy picks the latest tag of an ImageRepository by a rule.
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
