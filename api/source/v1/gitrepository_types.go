package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// GitRepositoryKind is the kind name of GitRepository.
const GitRepositoryKind = "GitRepository"

// Values of spec.provider. Flux also accepts github (GitHub App
// authentication); Azimuth does not implement it, so the schema rejects it.
const (
	// GenericGitProvider authenticates with spec.secretRef (basic auth, a
	// bearer token, or an SSH key), or anonymously.
	GenericGitProvider = "generic"

	// AzureGitProvider authenticates to Azure DevOps with an Entra ID
	// identity (workload identity, certificate, secret, managed identity).
	AzureGitProvider = "azure"
)

// Condition reasons specific to GitRepository, as Flux names them; the
// source reasons shared with OCIRepository (URLInvalid, AuthenticationFailed,
// ...) are in condition_types.go.
const (
	// GitOperationSucceededReason: a Git operation (ls-remote, clone,
	// checkout) succeeded.
	GitOperationSucceededReason = "GitOperationSucceeded"

	// GitOperationFailedReason: a Git operation (ls-remote, clone, checkout)
	// failed, for example on an unknown ref or an unreachable remote.
	GitOperationFailedReason = "GitOperationFailed"
)

// GitVerificationMode selects the Git objects whose signatures spec.verify checks.
type GitVerificationMode string

// Values of spec.verify.mode.
const (
	// GitVerifyHEAD verifies the commit that is checked out.
	GitVerifyHEAD GitVerificationMode = "HEAD"
	// GitVerifyTag verifies the tag object of spec.ref.tag or spec.ref.semver.
	GitVerifyTag GitVerificationMode = "Tag"
	// GitVerifyTagAndHEAD verifies both the tag object and the commit it points to.
	GitVerifyTagAndHEAD GitVerificationMode = "TagAndHEAD"
	// GitVerifyLegacyHead is v1beta2's spelling of GitVerifyHEAD, which Flux still accepts.
	GitVerifyLegacyHead GitVerificationMode = "head"
)

// IncludeUnavailableCondition is True while a GitRepository that spec.include names is missing
// or has no artifact.
const IncludeUnavailableCondition = "IncludeUnavailable"

// SourceVerifiedCondition is True when the signatures spec.verify asks for were verified with
// its keys, False when they were not. Absent without spec.verify.
const SourceVerifiedCondition = "SourceVerified"

// VerificationErrorReason: a signature could not be verified with the trusted keys.
const VerificationErrorReason = "VerificationError"

// GitRepositorySpec is what to clone, from where, as whom, and how often.
// +kubebuilder:validation:XValidation:rule="!has(self.serviceAccountName) || (has(self.provider) && self.provider == 'azure')",message="serviceAccountName can only be set when provider is 'azure'"
type GitRepositorySpec struct {
	// URL of the repository: `https://`, `http://` or `ssh://`, for example
	// `https://dev.azure.com/ORG/PROJECT/_git/REPO` or
	// `ssh://git@ssh.dev.azure.com/v3/ORG/PROJECT/REPO`.
	// +kubebuilder:validation:Pattern="^(http|https|ssh)://.*$"
	// +kubebuilder:validation:MaxLength=2048
	// +required
	URL string `json:"url"`

	// SecretRef names a Secret with the credentials: `username` and
	// `password`, or `bearerToken`, over HTTPS; `ca.crt` to trust a private CA.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// Provider of the credentials: `generic` (secretRef, or anonymous) or
	// `azure` (an Entra ID identity for Azure DevOps). `generic` when empty.
	// +kubebuilder:validation:Enum=generic;azure
	// +optional
	Provider string `json:"provider,omitempty"`

	// ServiceAccountName names a service account in the object's namespace
	// whose workload identity authenticates to the repository; only with
	// provider `azure`.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Interval between checks of the remote for a new revision.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +required
	Interval metav1.Duration `json:"interval"`

	// Timeout of Git operations such as a clone; 60s when empty.
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Reference selects what to check out; the `master` branch when empty.
	// +optional
	Reference *GitRepositoryRef `json:"ref,omitempty"`

	// Verification asks for the signature of the checked-out commit and/or tag to be verified
	// with OpenPGP keys.
	// +optional
	Verification *GitRepositoryVerification `json:"verify,omitempty"`

	// ProxySecretRef names a Secret with the proxy (`address`, optional
	// `username` and `password`) to reach the Git server through.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// Ignore lists paths to leave out of the artifact, in .gitignore format;
	// a default set is used when empty.
	// +kubebuilder:validation:MaxLength=32768
	// +optional
	Ignore *string `json:"ignore,omitempty"`

	// Suspend stops reconciling this object until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// RecurseSubmodules also fetches the commit's submodules, with the same credentials, into
	// the artifact.
	// +optional
	RecurseSubmodules bool `json:"recurseSubmodules,omitempty"`

	// Include copies the artifacts of other GitRepositories of the namespace into this one's.
	// +kubebuilder:validation:MaxItems=256
	// +optional
	Include []GitRepositoryInclude `json:"include,omitempty"`

	// SparseCheckout lists the directories the artifact holds; the whole tree when empty.
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=4096
	// +optional
	SparseCheckout []string `json:"sparseCheckout,omitempty"`
}

// GitRepositoryRef selects what to check out. Precedence: commit, then name,
// then semver, then tag, then branch; commit may be combined with branch to
// clone only that branch, which must hold the commit.
type GitRepositoryRef struct {
	// Branch to check out; `master` when no field is set.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Branch string `json:"branch,omitempty"`

	// Tag to check out; wins over Branch.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Tag string `json:"tag,omitempty"`

	// SemVer range; the highest tag in the range is checked out. Wins over Tag.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SemVer string `json:"semver,omitempty"`

	// Name of a full Git reference, such as `refs/heads/main`,
	// `refs/tags/v1.0.0` or `refs/pull/420/head`; wins over Branch, Tag and SemVer.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Name string `json:"name,omitempty"`

	// Commit (full SHA-1 or SHA-256 hash) to check out; wins over every other
	// field, and may be combined with Branch.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Commit string `json:"commit,omitempty"`
}

// GitRepositoryInclude copies (part of) another GitRepository's artifact into this one's.
type GitRepositoryInclude struct {
	// GitRepositoryRef names the GitRepository, in the same namespace, whose artifact is included.
	// +required
	GitRepositoryRef meta.LocalObjectReference `json:"repository"`

	// FromPath is the directory of the included artifact to copy; its root when empty.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	FromPath string `json:"fromPath,omitempty"`

	// ToPath is the directory of this artifact to copy to, which replaces the tree's own; the
	// included GitRepository's name when empty.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	ToPath string `json:"toPath,omitempty"`
}

// GetToPath is ToPath, or the included GitRepository's name.
func (in *GitRepositoryInclude) GetToPath() string {
	if in.ToPath == "" {
		return in.GitRepositoryRef.Name
	}
	return in.ToPath
}

// GitRepositoryVerification asks for commit and/or tag signatures to be verified.
type GitRepositoryVerification struct {
	// Mode selects what to verify: `HEAD` (the checked-out commit, the default; `head` is
	// accepted as v1beta2 wrote it), `Tag` (the tag object of ref.tag or ref.semver) or
	// `TagAndHEAD` (both).
	// +kubebuilder:validation:Enum=head;HEAD;Tag;TagAndHEAD
	// +kubebuilder:default:=HEAD
	// +optional
	Mode GitVerificationMode `json:"mode,omitempty"`

	// SecretRef names a Secret whose values are the ASCII-armored OpenPGP public keys of the
	// trusted signers.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`
}

// GetMode is the mode, with v1beta2's spelling and the default read as HEAD.
func (in *GitRepositoryVerification) GetMode() GitVerificationMode {
	switch in.Mode {
	case GitVerifyTag, GitVerifyTagAndHEAD:
		return in.Mode
	}
	return GitVerifyHEAD
}

// GitRepositoryStatus is what the controller observed and stored.
type GitRepositoryStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Reconciling, Stalled, FetchFailed,
	// ArtifactInStorage, StorageOperationFailed.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Artifact stored by the last successful reconcile. Its revision is
	// `BRANCH@sha1:HASH` for a branch (and a commit with a branch),
	// `TAG@sha1:HASH` for a tag or a semver range, `REF@sha1:HASH` for a
	// ref name (`refs/heads/main@sha1:…`), and `sha1:HASH` for a commit
	// alone; `sha256:` for a SHA-256 repository.
	// +optional
	Artifact *meta.Artifact `json:"artifact,omitempty"`

	// ObservedIgnore is the spec.ignore the artifact was built with.
	// +optional
	ObservedIgnore *string `json:"observedIgnore,omitempty"`

	// ObservedRecurseSubmodules is the spec.recurseSubmodules the artifact was built with.
	// +optional
	ObservedRecurseSubmodules bool `json:"observedRecurseSubmodules,omitempty"`

	// IncludedArtifacts are the artifacts of spec.include the artifact was built with, in
	// spec.include's order.
	// +optional
	IncludedArtifacts []*meta.Artifact `json:"includedArtifacts,omitempty"`

	// ObservedInclude is the spec.include the artifact was built with.
	// +optional
	ObservedInclude []GitRepositoryInclude `json:"observedInclude,omitempty"`

	// ObservedSparseCheckout is the spec.sparseCheckout the artifact was built with.
	// +optional
	ObservedSparseCheckout []string `json:"observedSparseCheckout,omitempty"`

	// SourceVerificationMode is the spec.verify.mode the artifact's signatures were verified
	// with.
	// +optional
	SourceVerificationMode *GitVerificationMode `json:"sourceVerificationMode,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=gitrepo,categories=all;fluxcd;fluxcd-sources
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// GitRepository checks out a Git repository at a ref and serves the tree as a
// tarball artifact.
type GitRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GitRepositorySpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status GitRepositoryStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// GitRepositoryList is a list of GitRepository.
type GitRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitRepository `json:"items"`
}
