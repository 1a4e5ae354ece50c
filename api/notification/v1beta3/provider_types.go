package v1beta3

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// ProviderKind is the kind name of Provider.
const ProviderKind = "Provider"

// Provider types Azimuth implements, as Flux names them.
const (
	// AzureDevOpsProvider sets a commit status on an Azure Repos repository.
	AzureDevOpsProvider = "azuredevops"
	// AzureEventHubProvider sends the event JSON to an Azure Event Hubs event hub over AMQP.
	AzureEventHubProvider = "azureeventhub"
	// MSTeamsProvider posts to a Microsoft Teams incoming webhook (a Workflows URL, or a legacy
	// Office 365 connector on *.webhook.office.com).
	MSTeamsProvider = "msteams"
	// GenericProvider posts the event as JSON.
	GenericProvider = "generic"
	// GenericHMACProvider posts the event as JSON with its HMAC in the X-Signature header.
	GenericHMACProvider = "generic-hmac"
)

// DefaultTimeout is the timeout of a delivery when spec.timeout is unset, as Flux's.
const DefaultTimeout = 15 * time.Second

// ProviderSpec says where and how events are delivered.
// +kubebuilder:validation:XValidation:rule="self.type == 'azuredevops' || !has(self.commitStatusExpr)",message="spec.commitStatusExpr is only supported for the 'azuredevops' provider type"
type ProviderSpec struct {
	// Type of the provider.
	// +kubebuilder:validation:Enum=azuredevops;azureeventhub;msteams;generic;generic-hmac
	// +required
	Type string `json:"type"`

	// Channel where events are posted: for azureeventhub with an Entra identity, the Event Hubs
	// namespace (its name, or its FQDN); the other types Azimuth implements do not use it.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Channel string `json:"channel,omitempty"`

	// Address of the endpoint: the repository URL for azuredevops
	// (https://dev.azure.com/ORG/PROJECT/_git/REPO), the webhook URL for the others. The
	// secret's address key, when present, wins.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Address string `json:"address,omitempty"`

	// Timeout of each delivery attempt. Default: 15s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// ProxySecretRef names a secret of the Provider's namespace with the proxy's address (and
	// optional username and password) to reach the endpoint through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// SecretRef names a secret of the Provider's namespace with the keys address, token (an
	// Azure DevOps PAT, or the HMAC key of generic-hmac), headers (YAML map of HTTP headers) and
	// ca.crt; for azuredevops without a token it may hold an Entra application's tenantId,
	// clientId and clientSecret or clientCertificate.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is a service account of the Provider's namespace whose Entra workload
	// identity authenticates to Azure DevOps (azuredevops only; needs the
	// ObjectLevelWorkloadIdentity feature gate).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a secret of the Provider's namespace whose ca.crt the endpoint's
	// certificate is verified with, besides the system's, and whose tls.crt and tls.key are
	// the client certificate presented to an endpoint that asks for one.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// Suspend stops deliveries to this provider.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// CommitStatusExpr is a CEL expression, over the variables event, alert and provider, that
	// gives the commit status name (azuredevops); it must be a string.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	CommitStatusExpr string `json:"commitStatusExpr,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"

// Provider says where and how the events an Alert selects are delivered.
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

// GetTimeout returns spec.timeout, or DefaultTimeout when unset.
func (in *Provider) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil && in.Spec.Timeout.Duration > 0 {
		return in.Spec.Timeout.Duration
	}
	return DefaultTimeout
}
