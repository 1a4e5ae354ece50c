package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
)

// ProviderSpec is Flux's v1beta1 Provider spec: v1beta3's without proxySecretRef,
// serviceAccountName and commitStatusExpr.
type ProviderSpec struct {
	// Type of the provider.
	// +kubebuilder:validation:Enum=azuredevops;azureeventhub;msteams;generic;generic-hmac
	// +required
	Type string `json:"type"`

	// Channel where events are posted (the Event Hubs namespace for azureeventhub).
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Channel string `json:"channel,omitempty"`

	// Address of the endpoint; the secret's address key, when present, wins.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Address string `json:"address,omitempty"`

	// Timeout of each delivery attempt. Default: 15s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a secret of the Provider's namespace with the keys address, token,
	// headers and ca.crt.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// CertSecretRef names a secret of the Provider's namespace whose ca.crt the endpoint's
	// certificate is verified with, besides the system's, and whose tls.crt and tls.key are
	// the client certificate presented to an endpoint that asks for one.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// Suspend stops deliveries to this provider.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// AlertSpec is Flux's v1beta1 Alert spec: v1beta3's without inclusionList and eventMetadata.
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
	EventSources []v1beta3.CrossNamespaceObjectReference `json:"eventSources"`

	// ExclusionList holds Go regular expressions: events whose message matches one of them are
	// not delivered.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=1024
	// +optional
	ExclusionList []string `json:"exclusionList,omitempty"`

	// Summary is added to the events' metadata as summary.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Summary string `json:"summary,omitempty"`

	// Suspend stops deliveries for this Alert.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:deprecatedversion:warning="v1beta1 Provider is deprecated, upgrade to v1beta3"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Provider is Flux's v1beta1 Provider, stored at v1beta3.
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ProviderSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// ProviderList is a list of Providers.
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Provider `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:deprecatedversion:warning="v1beta1 Alert is deprecated, upgrade to v1beta3"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Alert is Flux's v1beta1 Alert, stored at v1beta3.
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
