package meta

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Condition types every kind reports. Ready follows the usual polarity;
// Stalled and Reconciling are "abnormal-true" (kstatus): present only while
// True, so tools such as `kubectl wait` and kstatus can tell a finished
// failure from one still being retried.
const (
	// ReadyCondition is True when the object is fully reconciled.
	ReadyCondition = "Ready"

	// StalledCondition is True when reconciling cannot go on until the
	// user changes something (a bad spec, a disabled feature gate).
	StalledCondition = "Stalled"

	// ReconcilingCondition is True while the controller works on the
	// latest generation, including retries after a transient error.
	ReconcilingCondition = "Reconciling"
)

// Generic condition reasons, as Flux's meta package names them. Kind-specific
// reasons live next to each kind's types.
const (
	// SucceededReason: the desired state is reached or an action succeeded.
	SucceededReason = "Succeeded"

	// FailedReason: an action failed; the message says which and why.
	FailedReason = "Failed"

	// ProgressingReason: reconciling has started or is under way.
	ProgressingReason = "Progressing"

	// ProgressingWithRetryReason: the last attempt failed and another is queued.
	ProgressingWithRetryReason = "ProgressingWithRetry"

	// SuspendedReason: spec.suspend is true.
	SuspendedReason = "Suspended"

	// DependencyNotReadyReason: an object this one depends on is not Ready.
	DependencyNotReadyReason = "DependencyNotReady"

	// ReconciliationSucceededReason and ReconciliationFailedReason are the
	// older generic pair some Flux kinds still report.
	ReconciliationSucceededReason = "ReconciliationSucceeded"
	ReconciliationFailedReason    = "ReconciliationFailed"

	// FeatureGateDisabledReason: the spec asks for a feature whose gate is
	// off in the controller (for example spec.serviceAccountName without
	// --feature-gates=ObjectLevelWorkloadIdentity=true).
	FeatureGateDisabledReason = "FeatureGateDisabled"

	// InvalidCELExpressionReason: a CEL expression of the spec (a Kustomization's
	// spec.healthCheckExprs) does not compile, or is not of the type it must be.
	InvalidCELExpressionReason = "InvalidCELExpression"
)

// ObjectWithConditions is an object whose status holds conditions.
// +k8s:deepcopy-gen=false
type ObjectWithConditions interface {
	GetConditions() []metav1.Condition
}

// ObjectWithConditionsSetter is an object whose status conditions can be replaced.
// +k8s:deepcopy-gen=false
type ObjectWithConditionsSetter interface {
	SetConditions([]metav1.Condition)
}
