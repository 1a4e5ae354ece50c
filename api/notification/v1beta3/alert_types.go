package v1beta3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// AlertKind is the kind name of Alert.
const AlertKind = "Alert"

// Event severities an Alert selects, as Flux names them.
const (
	// EventSeverityInfo selects every event.
	EventSeverityInfo = "info"
	// EventSeverityError selects errors only.
	EventSeverityError = "error"
)

// Reasons of the events Azimuth records on an Alert, as Flux's.
const (
	// NotificationDispatchFailedReason: an event could not be delivered to the Provider.
	NotificationDispatchFailedReason = "NotificationDispatchFailed"
	// InvalidConfigReason: a regular expression or selector of the Alert is invalid.
	InvalidConfigReason = "InvalidConfig"
)

// AlertSpec selects events and names the Provider that delivers them.
type AlertSpec struct {
	// ProviderRef names the Provider, in the Alert's namespace.
	// +required
	ProviderRef meta.LocalObjectReference `json:"providerRef"`

	// EventSeverity selects events: info selects all of them, error only errors.
	// +kubebuilder:validation:Enum=info;error
	// +kubebuilder:default:=info
	// +optional
	EventSeverity string `json:"eventSeverity,omitempty"`

	// EventSources select the objects whose events the Alert delivers.
	// +kubebuilder:validation:MaxItems=1000
	// +required
	EventSources []CrossNamespaceObjectReference `json:"eventSources"`

	// InclusionList holds Go regular expressions: when set, only events whose message matches
	// one of them are delivered.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=1024
	// +optional
	InclusionList []string `json:"inclusionList,omitempty"`

	// ExclusionList holds Go regular expressions: events whose message matches one of them are
	// not delivered.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=1024
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// EventMetadata is added to the metadata of the events delivered; an event's own metadata
	// of the same key wins. The key summary sets the Azure DevOps commit status genre
	// fluxcd:SUMMARY.
	// +kubebuilder:validation:MaxProperties=100
	// +optional
	EventMetadata map[string]string `json:"eventMetadata,omitempty"`

	// Summary is added to the events' metadata as summary.
	// Deprecated: use spec.eventMetadata.summary.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Summary string `json:"summary,omitempty"`

	// Suspend stops deliveries for this Alert.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// CrossNamespaceObjectReference selects the objects whose events an Alert delivers.
type CrossNamespaceObjectReference struct {
	// APIVersion of the objects; any when empty.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the objects.
	// +kubebuilder:validation:Enum=Bucket;GitRepository;Kustomization;HelmRelease;HelmChart;HelmRepository;ImageRepository;ImagePolicy;ImageUpdateAutomation;OCIRepository;ArtifactGenerator;ExternalArtifact
	// +required
	Kind string `json:"kind"`

	// Name of the object, or `*` for every object of the kind.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the objects: the Alert's when empty, `*` for every namespace (with name `*`).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// MatchLabels selects, with name `*`, the objects that carry all these labels.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Alert selects events and delivers them through a Provider.
type Alert struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AlertSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// AlertList is a list of Alerts.
type AlertList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Alert `json:"items"`
}
