package v1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// ImageUpdateAutomationKind is the kind name of ImageUpdateAutomation.
const ImageUpdateAutomationKind = "ImageUpdateAutomation"

// Condition reasons of ImageUpdateAutomation, as Flux's image-automation API names them. Besides
// these: meta's Succeeded, DependencyNotReady (a marker names an ImagePolicy that does not exist
// or is not ready), and AuthenticationFailedReason.
const (
	// InvalidUpdateStrategyReason: spec.update names no strategy the controller knows.
	InvalidUpdateStrategyReason = "InvalidUpdateStrategy"

	// InvalidSourceConfigReason: spec.sourceRef or spec.git cannot be used (no spec.git, no
	// branch to push to, a URL the controller cannot serve).
	InvalidSourceConfigReason = "InvalidSourceConfiguration"

	// SourceManagerFailedReason: what the push needs besides the remote is missing: the
	// GitRepository, the signing key.
	SourceManagerFailedReason = "SourceManagerFailed"

	// GitOperationFailedReason: a fetch, commit or push failed, or the commit message template
	// does not render.
	GitOperationFailedReason = "GitOperationFailed"

	// UpdateFailedReason: the files could not be updated (spec.update.path is not in the
	// repository).
	UpdateFailedReason = "UpdateFailed"

	// InvalidPolicySelectorReason: spec.policySelector is not a valid label selector.
	InvalidPolicySelectorReason = "InvalidPolicySelector"

	// RemovedTemplateFieldReason: the message template uses a field Flux removed (.Updated,
	// .Changed.ImageResult).
	RemovedTemplateFieldReason = "RemovedTemplateField"
)

// ImageUpdateAutomationSpec is which repository to update with the images of which policies,
// how to commit and where to push.
type ImageUpdateAutomationSpec struct {
	// SourceRef names the GitRepository whose URL and credentials the automation uses.
	// +required
	SourceRef CrossNamespaceSourceReference `json:"sourceRef"`

	// GitSpec says what to check out, how to commit and where to push. Required in practice:
	// GitRepository is the only source.
	// +optional
	GitSpec *GitSpec `json:"git,omitempty"`

	// Interval between automation runs.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:MaxLength=64
	// +required
	Interval metav1.Duration `json:"interval"`

	// PolicySelector chooses the ImagePolicies of the namespace whose markers the automation
	// sets; all of them when empty.
	// +optional
	PolicySelector *LabelSelector `json:"policySelector,omitempty"`

	// Update says how to update the files.
	// +kubebuilder:default={"strategy":"Setters"}
	Update *UpdateStrategy `json:"update,omitempty"`

	// Suspend stops the automation until set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// CrossNamespaceSourceReference names the automation's GitRepository.
type CrossNamespaceSourceReference struct {
	// APIVersion of the referent.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// Kind of the referent: GitRepository.
	// +kubebuilder:validation:Enum=GitRepository
	// +kubebuilder:default=GitRepository
	// +required
	Kind string `json:"kind"`

	// Name of the referent.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the referent; the automation's own when empty.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// GitSpec is the Git side of an automation.
type GitSpec struct {
	// Checkout is the ref to start from; the GitRepository's spec.ref (or its default) when
	// absent.
	// +optional
	Checkout *GitCheckoutSpec `json:"checkout,omitempty"`

	// Commit says how to commit.
	// +required
	Commit CommitSpec `json:"commit"`

	// Push says where to push; the checkout branch when absent.
	// +optional
	Push *PushSpec `json:"push,omitempty"`
}

// GitCheckoutSpec is the ref an automation starts from.
type GitCheckoutSpec struct {
	// Reference is the branch, tag or commit to check out.
	// +required
	Reference sourcev1.GitRepositoryRef `json:"ref"`
}

// CommitSpec is how an automation commits.
type CommitSpec struct {
	// Author of the commits (also their committer).
	// +required
	Author CommitUser `json:"author"`

	// SigningKey signs the commits with an OpenPGP key.
	// +optional
	SigningKey *SigningKey `json:"signingKey,omitempty"`

	// MessageTemplate is a Go text/template for the commit message, given
	// `.AutomationObject` (namespace/name), `.Changed` (`.Changed.FileChanges`,
	// `.Changed.Objects`, `.Changed.Changes`) and `.Values`. Default: `Update from image update
	// automation`.
	// +kubebuilder:validation:MaxLength=32768
	// +optional
	MessageTemplate string `json:"messageTemplate,omitempty"`

	// MessageTemplateValues are given to the template as `.Values`.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 253)",message="keys of messageTemplateValues must be at most 253 characters"
	// +optional
	MessageTemplateValues map[string]TemplateValue `json:"messageTemplateValues,omitempty"`
}

// TemplateValue is a value of messageTemplateValues.
// +kubebuilder:validation:MaxLength=4096
type TemplateValue string

// CommitUser names who commits.
type CommitUser struct {
	// Name of the author.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// Email of the author.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	Email string `json:"email"`
}

// SigningKey names the Secret of the OpenPGP key that signs commits.
type SigningKey struct {
	// SecretRef names a Secret of the automation's namespace with the ASCII-armored secret key
	// in `git.asc`, and its passphrase, if any, in `passphrase`.
	// +required
	SecretRef meta.LocalObjectReference `json:"secretRef"`

	// Type of the key: gpg (OpenPGP). Flux's ssh signing is not supported by Azimuth: the schema refuses it.
	// +kubebuilder:validation:Enum=gpg
	// +optional
	Type string `json:"type,omitempty"`
}

// PushSpec is where an automation pushes.
type PushSpec struct {
	// Branch to push to; created at the checkout commit when it does not exist, and updated on
	// its own head when it does.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Branch string `json:"branch,omitempty"`

	// Refspec is also pushed, such as `HEAD:refs/for/main`; its source is the automation's
	// commit (HEAD or the push branch). Refspecs that force (+) or delete are refused.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern="^$|^[^+:]"
	// +optional
	Refspec string `json:"refspec,omitempty"`

	// Options are push options sent to the server (git push -o KEY=VALUE).
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 253)",message="keys of push options must be at most 253 characters"
	// +optional
	Options map[string]PushOptionValue `json:"options,omitempty"`
}

// PushOptionValue is the value of a push option.
// +kubebuilder:validation:MaxLength=1024
type PushOptionValue string

// UpdateStrategyName names an update strategy.
// +kubebuilder:validation:Enum=Setters
type UpdateStrategyName string

// UpdateStrategySetters sets the values that setter markers designate.
const UpdateStrategySetters UpdateStrategyName = "Setters"

// UpdateStrategy is how to update the files.
type UpdateStrategy struct {
	// Strategy to use: Setters.
	// +kubebuilder:default=Setters
	// +optional
	Strategy UpdateStrategyName `json:"strategy,omitempty"`

	// Path of the directory (or file) to update, from the repository's root; the root when
	// empty.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Path string `json:"path,omitempty"`
}

// LabelSelector is a Kubernetes label selector (metav1.LabelSelector), with its strings
// bounded.
type LabelSelector struct {
	// MatchLabels are labels a policy must carry.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 317)",message="label keys must be at most 317 characters"
	// +optional
	MatchLabels map[string]LabelValue `json:"matchLabels,omitempty"`

	// MatchExpressions are requirements a policy's labels must meet.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelValue is a label's value.
// +kubebuilder:validation:MaxLength=63
type LabelValue string

// LabelSelectorRequirement is one requirement of a LabelSelector.
type LabelSelectorRequirement struct {
	// Key is the label's key.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +required
	Key string `json:"key"`

	// Operator relates the key to the values.
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
	// +required
	Operator metav1.LabelSelectorOperator `json:"operator"`

	// Values for In and NotIn; empty for Exists and DoesNotExist.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Values []LabelValue `json:"values,omitempty"`
}

// Metav1 returns the selector as Kubernetes' own type.
func (s *LabelSelector) Metav1() *metav1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &metav1.LabelSelector{}
	for k, v := range s.MatchLabels {
		if out.MatchLabels == nil {
			out.MatchLabels = map[string]string{}
		}
		out.MatchLabels[k] = string(v)
	}
	for _, r := range s.MatchExpressions {
		req := metav1.LabelSelectorRequirement{Key: r.Key, Operator: r.Operator}
		for _, v := range r.Values {
			req.Values = append(req.Values, string(v))
		}
		out.MatchExpressions = append(out.MatchExpressions, req)
	}
	return out
}

// ImageUpdateAutomationStatus is what the automation last did.
type ImageUpdateAutomationStatus struct {
	// LastAutomationRunTime is when the automation last ran, whether or not it pushed.
	// +optional
	LastAutomationRunTime *metav1.Time `json:"lastAutomationRunTime,omitempty"`

	// LastPushCommit is the SHA-1 of the last commit the automation pushed.
	// +optional
	LastPushCommit string `json:"lastPushCommit,omitempty"`

	// LastPushTime is when the automation last pushed.
	// +optional
	LastPushTime *metav1.Time `json:"lastPushTime,omitempty"`

	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions of the object: Ready, Reconciling, Stalled.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedPolicies are the selected ImagePolicies and their latest images at the last run.
	// +optional
	ObservedPolicies ObservedPolicies `json:"observedPolicies,omitempty"`

	// ObservedSourceRevision is the revision of the checkout at the last run, such as
	// main@sha1:HASH.
	// +optional
	ObservedSourceRevision string `json:"observedSourceRevision,omitempty"`

	meta.ReconcileRequestStatus `json:",inline"`
}

// ObservedPolicies are the latest images of policies, by policy name.
type ObservedPolicies map[string]ImageRef

// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=iua;imgupd;imgauto,categories=all;fluxcd;fluxcd-images
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Last run",type=string,JSONPath=`.status.lastAutomationRunTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ImageUpdateAutomation commits the latest images of ImagePolicies to a Git repository, where
// setter markers ask for them, and pushes the commit.
type ImageUpdateAutomation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ImageUpdateAutomationSpec `json:"spec,omitempty"`
	// +kubebuilder:default={"observedGeneration":-1}
	Status ImageUpdateAutomationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ImageUpdateAutomationList is a list of ImageUpdateAutomation.
type ImageUpdateAutomationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ImageUpdateAutomation `json:"items"`
}

var (
	_ meta.ObjectWithConditions       = (*ImageUpdateAutomation)(nil)
	_ meta.ObjectWithConditionsSetter = (*ImageUpdateAutomation)(nil)
)

// GetConditions returns the status conditions.
func (in *ImageUpdateAutomation) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ImageUpdateAutomation) SetConditions(conditions []metav1.Condition) {
	in.Status.Conditions = conditions
}

// GetRequeueAfter is spec.interval.
func (in *ImageUpdateAutomation) GetRequeueAfter() time.Duration { return in.Spec.Interval.Duration }

// Suspended is spec.suspend.
func (in *ImageUpdateAutomation) Suspended() bool { return in.Spec.Suspend }

// SetObserved records the generation a reconcile saw, and the reconcile request it handled.
func (in *ImageUpdateAutomation) SetObserved(generation int64, requestedAt string) {
	in.Status.ObservedGeneration = generation
	if requestedAt != "" {
		in.Status.LastHandledReconcileAt = requestedAt
	}
}

// GetSourceNamespace is the namespace of spec.sourceRef: its own, or the automation's.
func (in *ImageUpdateAutomation) GetSourceNamespace() string {
	if in.Spec.SourceRef.Namespace != "" {
		return in.Spec.SourceRef.Namespace
	}
	return in.Namespace
}
