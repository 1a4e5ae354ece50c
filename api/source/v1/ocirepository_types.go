package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// OCIRepositoryKind is the kind name of OCIRepository.
const OCIRepositoryKind = "OCIRepository"

// OCIRepositoryPrefix starts every spec.url.
const OCIRepositoryPrefix = "oci://"

// OCIRevisionAnnotation is the manifest annotation that names the revision an OCI artifact
// was built from (`flux push artifact --revision`, such as main@sha1:SHA). It reaches the
// artifact's metadata, and a Kustomization applying the artifact reports it as its origin
// revision.
const OCIRevisionAnnotation = "org.opencontainers.image.revision"

// Values of spec.provider. Flux also accepts aws and gcp; Azimuth does not
// implement them, so the schema rejects them.
const (
	// GenericOCIProvider authenticates with spec.secretRef or the image pull
	// secrets of spec.serviceAccountName, or anonymously.
	GenericOCIProvider = "generic"

	// AzureOCIProvider authenticates to Azure Container Registry with an
	// Entra ID identity (workload identity, certificate, managed identity).
	AzureOCIProvider = "azure"
)

// Values of spec.layerSelector.operation.
const (
	// OCILayerExtract unpacks the selected layer (a tarball) into the artifact.
	OCILayerExtract = "extract"

	// OCILayerCopy stores the selected layer as it is.
	OCILayerCopy = "copy"
)

// Condition reasons specific to OCIRepository.
const (
	// OCIPullFailedReason: pulling the artifact from the registry failed.
	OCIPullFailedReason = "OCIArtifactPullFailed"

	// OCILayerOperationFailedReason: extracting or copying the layer failed.
	OCILayerOperationFailedReason = "OCIArtifactLayerOperationFailed"
)

// OCIRepositorySpec is what to pull, from where, as whom, and how often.
type OCIRepositorySpec struct {
	// URL of the repository, `oci://REGISTRY/REPOSITORY`, without a tag or digest.
	// +kubebuilder:validation:Pattern="^oci://.*$"
	// +kubebuilder:validation:MaxLength=2048
	// +required
	URL string `json:"url"`

	// Reference selects the artifact within the repository; the `latest`
	// tag when empty.
	// +optional
	Reference *OCIRepositoryRef `json:"ref,omitempty"`

	// LayerSelector selects the layer to store; the first layer when empty.
	// +optional
	LayerSelector *OCILayerSelector `json:"layerSelector,omitempty"`

	// Provider of the credentials: `generic` (secretRef, the service account's
	// image pull secrets, or anonymous) or `azure` (an Entra ID identity).
	// +kubebuilder:validation:Enum=generic;azure
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// SecretRef names a `kubernetes.io/dockerconfigjson` Secret with
	// registry credentials.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName names a service account in the object's namespace:
	// its image pull secrets with provider `generic`, its workload identity
	// with provider `azure`.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with a CA bundle (`ca.crt`) to trust and/or
	// a client certificate and key (`tls.crt`, `tls.key`) to present to the
	// registry. The Secret is of type `Opaque` or `kubernetes.io/tls`.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret with the proxy (`address`, optional
	// `username` and `password`) to reach the registry through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval between checks of the repository for a new artifact.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of registry operations such as a pull; 60s when empty.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore lists paths to leave out of the artifact, in .gitignore format;
	// a default set is used when empty.
	// +kubebuilder:validation:MaxLength=32768
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Insecure allows plain HTTP to the registry.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Suspend stops reconciling this object until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OCIRepositoryRef selects an artifact within the repository. Precedence:
// digest, then semver (with semverFilter), then tag, then `latest`.
type OCIRepositoryRef struct {
	// Digest to pull, `sha256:<HEX>`; wins over every other field.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Digest string `json:"digest,omitempty"`

	// SemVer range; the highest tag in the range is pulled. Wins over Tag.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SemVer string `json:"semver,omitempty"`

	// SemverFilter is a regular expression that a tag must match to be
	// considered for SemVer.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SemverFilter string `json:"semverFilter,omitempty"`

	// Tag to pull; `latest` when no field is set.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Tag string `json:"tag,omitempty"`
}

// OCILayerSelector selects a layer of the artifact and what to do with it.
type OCILayerSelector struct {
	// MediaType of the layer to select; the first layer with it is used.
	// +kubebuilder:validation:MaxLength=255
	// +optional
	MediaType string `json:"mediaType,omitempty"`

	// Operation on the layer: `extract` (the default) unpacks it, `copy`
	// stores it as it is.
	// +kubebuilder:validation:Enum=extract;copy
	// +optional
	Operation string `json:"operation,omitempty"`
}

// OCIRepositoryStatus is what the controller observed and stored.
type OCIRepositoryStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Reconciling, Stalled, FetchFailed,
	// ArtifactInStorage, ArtifactOutdated, StorageOperationFailed.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL from which the controller serves the latest artifact.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact stored by the last successful reconcile.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore the artifact was built with.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedLayerSelector is the spec.layerSelector the artifact was built with.
	// +optional
	ObservedLayerSelector *OCILayerSelector `json:"observedLayerSelector,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=ocirepo,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// OCIRepository pulls an OCI artifact and serves it as a tarball artifact.
type OCIRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec OCIRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status OCIRepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OCIRepositoryList is a list of OCIRepository.
type OCIRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OCIRepository `json:"items"`
}
