package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// KustomizationKind is the kind name of Kustomization.
const KustomizationKind = "Kustomization"

// KustomizationFinalizer guards the objects a Kustomization applied until they are pruned on
// deletion.
const KustomizationFinalizer = "finalizers.fluxcd.io"

// Condition types of Kustomization, besides meta's Ready, Reconciling and Stalled.
const (
	// HealthyCondition is True when every object applied (spec.wait) or listed
	// (spec.healthChecks) is ready.
	HealthyCondition = "Healthy"
)

// Condition reasons of Kustomization, as Flux's kustomize API names them.
const (
	// ArtifactFailedReason: the source's artifact could not be fetched or verified.
	ArtifactFailedReason = "ArtifactFailed"

	// BuildFailedReason: kustomize build, substitution or decryption failed.
	BuildFailedReason = "BuildFailed"

	// DecryptionFailedReason: a SOPS document could not be decrypted.
	DecryptionFailedReason = "DecryptionFailed"

	// HealthCheckFailedReason: an object did not become ready within spec.timeout.
	HealthCheckFailedReason = "HealthCheckFailed"

	// PruneFailedReason: an object that left the source could not be deleted.
	PruneFailedReason = "PruneFailed"

	// ArtifactNotFoundReason: the source has no artifact yet, or does not exist.
	ArtifactNotFoundReason = "ArtifactNotFound"

	// AccessDeniedReason: a cross-namespace reference refused by --no-cross-namespace-refs.
	AccessDeniedReason = "AccessDenied"
)

// Annotations and labels Azimuth reads or writes on applied objects, as Flux names them.
const (
	// NameLabel and NamespaceLabel mark every applied object with its Kustomization.
	NameLabel      = "kustomize.toolkit.fluxcd.io/name"
	NamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"

	// RevisionAnnotation is the event metadata key carrying the source revision.
	RevisionAnnotation = "kustomize.toolkit.fluxcd.io/revision"

	// SubstituteAnnotation set to `disabled` on an object leaves it out of postBuild.
	SubstituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute"
)

// Values of spec.sourceRef.kind.
const (
	GitRepositoryKind = "GitRepository"
	OCIRepositoryKind = "OCIRepository"
	BucketKind        = "Bucket"
)

// KustomizationSpec says which source to build, how, as whom, and what to check afterwards.
type KustomizationSpec struct {
	// CommonMetadata adds labels and annotations to every applied object.
	// +optional
	CommonMetadata *CommonMetadata `json:"commonMetadata,omitempty"`

	// DependsOn lists Kustomizations that must be Ready before this one is applied.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	DependsOn []meta.NamespacedObjectReference `json:"dependsOn,omitempty"`

	// Decryption decrypts SOPS documents before they are applied.
	// +optional
	Decryption *Decryption `json:"decryption,omitempty"`

	// Interval between reconciles.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +required
	Interval metav1.Duration `json:"interval"`

	// RetryInterval between reconciles after a failure; spec.interval when empty.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	RetryInterval *metav1.Duration `json:"retryInterval,omitempty"`

	// Path to the directory with the kustomization.yaml (or the manifests) inside the artifact;
	// the artifact's root when empty.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Path string `json:"path,omitempty"`

	// PostBuild substitutes variables in the built objects.
	// +optional
	PostBuild *PostBuild `json:"postBuild,omitempty"`

	// Prune deletes the objects that left the source since the last apply.
	// +required
	Prune bool `json:"prune"`

	// DeletionPolicy is what deleting this Kustomization does to the objects it applied:
	// MirrorPrune (the default) deletes them when spec.prune is true and leaves them
	// otherwise; Delete deletes them; WaitForTermination deletes them and keeps the
	// Kustomization until they are gone, waiting up to spec.timeout at a time; Orphan leaves
	// them. A suspended Kustomization leaves them whatever the policy.
	// +kubebuilder:validation:Enum=MirrorPrune;Delete;WaitForTermination;Orphan
	// +optional
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// HealthChecks lists objects whose readiness is checked after the apply.
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	HealthChecks []meta.NamespacedObjectKindReference `json:"healthChecks,omitempty"`

	// HealthCheckExprs say, in CEL, when objects of a kind are ready, failed or in progress,
	// for kinds whose status the generic rules (kstatus) do not read.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	HealthCheckExprs []CustomHealthCheck `json:"healthCheckExprs,omitempty"`

	// NamePrefix is prepended to the name of every built object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +optional
	NamePrefix string `json:"namePrefix,omitempty"`

	// NameSuffix is appended to the name of every built object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +optional
	NameSuffix string `json:"nameSuffix,omitempty"`

	// Patches are strategic merge or JSON 6902 patches applied to the built objects.
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Patches []Patch `json:"patches,omitempty"`

	// Images overrides image names, tags and digests.
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Images []Image `json:"images,omitempty"`

	// KubeConfig applies to a remote cluster, as the kubeconfig of a secret of the
	// Kustomization's namespace says, or as an AKS cluster a ConfigMap names, reached with an
	// Entra token; with spec.serviceAccountName (or --default-service-account), impersonating
	// that service account there. Default: this cluster.
	// +optional
	KubeConfig *meta.KubeConfigReference `json:"kubeConfig,omitempty"`

	// ServiceAccountName is the service account of the Kustomization's namespace that applies
	// (impersonation); --default-service-account when empty, else the controller itself. With
	// spec.kubeConfig, both name the service account of that namespace in the remote cluster.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// SourceRef is the source whose artifact is built.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// Suspend stops reconciling this object until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// TargetNamespace sets the namespace of every namespaced object built.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// Timeout of the fetch, build, apply and health checks; spec.interval when empty.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Force recreates objects whose immutable fields changed.
	// +kubebuilder:default:=false
	// +optional
	Force bool `json:"force,omitempty"`

	// Wait checks the readiness of every applied object; spec.healthChecks is ignored then.
	// +optional
	Wait bool `json:"wait,omitempty"`

	// Components are kustomize components, paths relative to spec.path.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=1024
	// +optional
	Components []string `json:"components,omitempty"`

	// IgnoreMissingComponents leaves out the entries of spec.components that do not exist in
	// the source artifact, instead of failing the build.
	// +optional
	IgnoreMissingComponents bool `json:"ignoreMissingComponents,omitempty"`
}

// CustomHealthCheck is the readiness of one kind, in CEL expressions over the object, whose
// top-level fields (apiVersion, kind, metadata, spec, status) are variables. They are tried in
// the order inProgress, failed, current; when none is true the object is in progress. A field
// the object does not have yet makes an expression false.
type CustomHealthCheck struct {
	// APIVersion of the kind, such as cert-manager.io/v1.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +required
	APIVersion string `json:"apiVersion"`

	// Kind the expressions apply to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Kind string `json:"kind"`

	// Current is true when the object is ready.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +required
	Current string `json:"current"`

	// InProgress is true while the object is being worked on.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	InProgress string `json:"inProgress,omitempty"`

	// Failed is true when the object will not become ready without a change.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Failed string `json:"failed,omitempty"`
}

// CommonMetadata is metadata added to every applied object.
type CommonMetadata struct {
	// Annotations to add.
	// +kubebuilder:validation:MaxProperties=100
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// Labels to add.
	// +kubebuilder:validation:MaxProperties=100
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// Decryption is how SOPS documents are decrypted.
type Decryption struct {
	// Provider is `sops`.
	// +kubebuilder:validation:Enum=sops
	// +required
	Provider string `json:"provider"`

	// SecretRef names a Secret with the decryption keys: `*.agekey`, `*.asc`, or an Entra
	// identity for Azure Key Vault in `sops.azure-kv`.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is a service account of the Kustomization's namespace whose workload
	// identity reaches Azure Key Vault (--feature-gates=ObjectLevelWorkloadIdentity=true).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// PostBuild is the variable substitution applied to the built objects.
type PostBuild struct {
	// Substitute holds variables by name; they win over SubstituteFrom.
	// +kubebuilder:validation:MaxProperties=1000
	// +optional
	Substitute map[string]string `json:"substitute,omitempty"`

	// SubstituteFrom reads variables from ConfigMaps and Secrets of the Kustomization's
	// namespace; later entries win over earlier ones.
	// +kubebuilder:validation:MaxItems=100
	// +optional
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`
}

// SubstituteReference names a ConfigMap or Secret holding variables.
type SubstituteReference struct {
	// Kind of the object: ConfigMap or Secret.
	// +kubebuilder:validation:Enum=Secret;ConfigMap
	// +required
	Kind string `json:"kind"`

	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Optional lets the build go on when the object does not exist.
	// +kubebuilder:default:=false
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// CrossNamespaceSourceReference names a source, in any namespace unless
// --no-cross-namespace-refs.
type CrossNamespaceSourceReference struct {
	// APIVersion of the source.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the source.
	// +kubebuilder:validation:Enum=OCIRepository;GitRepository;Bucket
	// +required
	Kind string `json:"kind"`

	// Name of the source.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the source; the Kustomization's own when empty.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// Patch is a strategic merge or JSON 6902 patch, applied to the objects Target selects.
type Patch struct {
	// Patch is the patch document, YAML or JSON.
	// +kubebuilder:validation:MaxLength=262144
	// +required
	Patch string `json:"patch"`

	// Target selects the objects to patch; those the patch names when empty.
	// +optional
	Target *Selector `json:"target,omitempty"`
}

// Selector selects objects by their group, version, kind, name, namespace, labels and
// annotations. Name and namespace are regular expressions.
type Selector struct {
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Group string `json:"group,omitempty"`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Version string `json:"version,omitempty"`
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Kind string `json:"kind,omitempty"`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Name string `json:"name,omitempty"`
	// AnnotationSelector is a label selector over annotations.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
	// LabelSelector is a label selector.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
}

// Image overrides the name, tag or digest of an image.
type Image struct {
	// Name of the image to override, as the manifests write it.
	// +kubebuilder:validation:MaxLength=512
	// +required
	Name string `json:"name"`
	// NewName replaces the name.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	NewName string `json:"newName,omitempty"`
	// NewTag replaces the tag.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	NewTag string `json:"newTag,omitempty"`
	// Digest replaces the tag with a digest.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Digest string `json:"digest,omitempty"`
}

// KustomizationStatus is what the last reconcile applied and saw.
type KustomizationStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Healthy, Reconciling, Stalled.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastAppliedRevision is the source revision last applied successfully.
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// LastAppliedOriginRevision is the revision the source artifact last applied successfully
	// was built from: its org.opencontainers.image.revision annotation, for an OCIRepository
	// artifact pushed with one. Empty for the other sources.
	// +optional
	LastAppliedOriginRevision string `json:"lastAppliedOriginRevision,omitempty"`

	// LastAttemptedRevision is the source revision of the last attempt.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// Inventory lists the objects applied, for prune.
	// +optional
	Inventory *ResourceInventory `json:"inventory,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// ResourceInventory lists the applied objects.
type ResourceInventory struct {
	// Entries of the inventory.
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef is one applied object: its ID, `NAMESPACE_NAME_GROUP_KIND`, and its API version.
type ResourceRef struct {
	// ID is `NAMESPACE_NAME_GROUP_KIND`.
	ID string `json:"id"`
	// Version is the object's API version.
	Version string `json:"v"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=ks,categories=all;fluxcd
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// Kustomization builds a source's artifact with kustomize and applies it.
type Kustomization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec KustomizationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status KustomizationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// KustomizationList is a list of Kustomization.
type KustomizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Kustomization `json:"items"`
}
