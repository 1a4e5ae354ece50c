package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// BucketKind is the kind name of Bucket.
const BucketKind = "Bucket"

// Values of spec.provider. Flux also accepts aws and gcp; Azimuth does not implement them, so the
// schema rejects them. It keeps generic, Flux's default, in the schema so that a manifest written
// for Flux applies unchanged, and stalls such a Bucket with a message that says to use azure:
// Azimuth does not speak S3.
const (
	// GenericBucketProvider is an S3-compatible bucket (MinIO, ...) in Flux. Azimuth does not
	// implement it: a Bucket with it stalls with reason InvalidProviderConfiguration.
	GenericBucketProvider = "generic"

	// AzureBucketProvider is an Azure Blob Storage container, reached with an Entra ID identity
	// (workload identity, certificate, secret, managed identity), a shared key or a SAS.
	AzureBucketProvider = "azure"
)

// Condition reasons specific to Bucket, as Flux names them.
const (
	// BucketOperationSucceededReason: listing or downloading the bucket's objects succeeded.
	BucketOperationSucceededReason = "BucketOperationSucceeded"

	// BucketOperationFailedReason: listing or downloading the bucket's objects failed, for
	// example on a missing container or a refused identity.
	BucketOperationFailedReason = "BucketOperationFailed"
)

// BucketSpec is which container to download, from where, as whom, and how often.
// +kubebuilder:validation:XValidation:rule="self.provider != 'generic' || !has(self.serviceAccountName)",message="ServiceAccountName is not supported for the 'generic' Bucket provider"
// +kubebuilder:validation:XValidation:rule="!has(self.secretRef) || !has(self.serviceAccountName)",message="cannot set both .spec.secretRef and .spec.serviceAccountName"
type BucketSpec struct {
	// Provider of the object storage: `azure` (Azure Blob Storage). `generic` (S3-compatible,
	// the default, as in Flux) is accepted by the schema and stalls the object: Azimuth does not
	// implement S3.
	// +kubebuilder:validation:Enum=generic;azure
	// +kubebuilder:default:=generic
	// +optional
	Provider string `json:"provider,omitempty"`

	// BucketName is the name of the container.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +required
	BucketName string `json:"bucketName"`

	// Endpoint is the storage account's blob service, such as
	// `https://ACCOUNT.blob.core.windows.net`, or a path-style endpoint
	// `https://HOST:PORT/ACCOUNT` (Azurite, Azure Stack Hub, a private endpoint's address);
	// query parameters are merged into a SAS from spec.secretRef, as Flux does.
	// +kubebuilder:validation:MaxLength=2048
	// +required
	Endpoint string `json:"endpoint"`

	// Insecure allows a plain HTTP endpoint, with a shared key or SAS only (Entra ID tokens
	// travel over HTTPS only).
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// Prefix selects the blobs whose names start with it; every blob of the container when empty.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Prefix string `json:"prefix,omitempty"`

	// SecretRef names a Secret with the credentials: an application's `tenantId`, `clientId` and
	// `clientSecret` or `clientCertificate` (optionally `clientCertificatePassword`,
	// `clientCertificateSendChain`, `authorityHost`); a managed identity's `clientId`; the
	// storage account's `accountKey`; or a `sasKey`. The first complete one wins, in that order.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName names a service account in the object's namespace whose workload
	// identity reads the container; not with provider `generic`, nor with spec.secretRef.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret whose `ca.crt` is trusted, besides the system's, to reach the
	// endpoint (a private endpoint behind a TLS-inspecting proxy, for example), and whose
	// `tls.crt` and `tls.key` are the client certificate presented to an endpoint that asks.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// ProxySecretRef names a Secret with the proxy (`address`, optional `username` and
	// `password`) to reach the endpoint, and Entra ID, through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Interval between checks of the container for changed blobs.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of the listing and downloads of one reconcile; 60s when empty.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Ignore lists blobs to leave out of the artifact, in .gitignore format, after the
	// container's own root .sourceignore.
	// +kubebuilder:validation:MaxLength=32768
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciling this object until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// BucketStatus is what the controller observed and stored.
type BucketStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Reconciling, Stalled, FetchFailed, ArtifactInStorage,
	// ArtifactOutdated, StorageOperationFailed.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// URL from which the controller serves the latest artifact.
	// +optional
	URL string `json:"url,omitempty"`

	// Artifact stored by the last successful reconcile. Its revision is `sha256:HEX`, the
	// digest of the index of the blobs it holds (each blob's name and ETag), as Flux computes it.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore the artifact was built with.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=all;fluxcd;fluxcd-sources
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// Bucket downloads the blobs of an Azure Blob Storage container and serves them as a tarball
// artifact.
type Bucket struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BucketSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status BucketStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BucketList is a list of Bucket.
type BucketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Bucket `json:"items"`
}
