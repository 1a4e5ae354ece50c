// Package status turns a reconcile's outcome into Flux's status conditions and a Kubernetes
// event, the same way for every kind, so each reconciler marks a failure in one line.
//
// A failure is an *Error: the condition it sets besides Ready (such as FetchFailed), a reason,
// the error, and whether it stalls the object. A stalled object waits for its spec to change; any
// other failure is retried.
//
// In docs/architecture.md's flow it is the last step of every reconcile: conditions and events,
// bounded to what the API server accepts.
package status

import (
	"errors"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// Object is an API object with conditions.
type Object interface {
	runtime.Object
	metav1.Object
	meta.ObjectWithConditions
	meta.ObjectWithConditionsSetter
}

// Error is a classified reconcile failure.
type Error struct {
	// Condition is the abnormal condition to set True, such as FetchFailed; empty for none.
	Condition string
	// Reason is the reason of Ready=False (and of Condition), such as AuthenticationFailed.
	Reason string
	// Stalled marks failures that retrying cannot fix until the spec or the controller changes.
	Stalled bool
	Err     error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Fail is a failure worth retrying.
func Fail(condition, reason string, err error) *Error {
	return &Error{Condition: condition, Reason: reason, Err: err}
}

// Stall is a failure that waits for the user.
func Stall(reason string, err error) *Error {
	return &Error{Reason: reason, Stalled: true, Err: err}
}

// Succeeded marks obj Ready with reason and message, and clears the failure conditions.
func Succeeded(obj Object, reason, message string, clear ...string) {
	set(obj, meta.ReadyCondition, metav1.ConditionTrue, reason, message)
	for _, c := range append(clear, meta.ReconcilingCondition, meta.StalledCondition) {
		remove(obj, c)
	}
}

// Terminal is implemented by errors that retrying cannot fix until the spec or the controller
// changes, such as a feature gate that is off; Failed stalls the object on them, whatever step
// returned them.
type Terminal interface {
	error
	Terminal() bool
}

// Reasoned is implemented by errors that know the reason Flux gives them, such as
// FeatureGateDisabled; it wins over the step's reason.
type Reasoned interface {
	error
	Reason() string
}

// classify returns err as an *Error, with what the error says of itself applied.
func classify(err error) *Error {
	var e *Error
	if !errors.As(err, &e) {
		e = Fail("", meta.FailedReason, err)
	}
	var terminal Terminal
	if !e.Stalled && errors.As(err, &terminal) && terminal.Terminal() {
		e = &Error{Condition: e.Condition, Reason: e.Reason, Stalled: true, Err: e.Err}
	}
	var reasoned Reasoned
	if errors.As(err, &reasoned) && reasoned.Reason() != "" {
		e = &Error{Condition: e.Condition, Reason: reasoned.Reason(), Stalled: e.Stalled, Err: e.Err}
	}
	return e
}

// Failed marks obj not Ready because of err, and returns what Reconcile should return: err
// itself to retry with back-off, or a terminal error for a stalled object.
func Failed(obj Object, err error) error {
	e := classify(err)
	msg := e.Err.Error()
	set(obj, meta.ReadyCondition, metav1.ConditionFalse, e.Reason, msg)
	if e.Condition != "" {
		set(obj, e.Condition, metav1.ConditionTrue, e.Reason, msg)
	}
	if e.Stalled {
		set(obj, meta.StalledCondition, metav1.ConditionTrue, e.Reason, msg)
		remove(obj, meta.ReconcilingCondition)
		return reconcile.TerminalError(e)
	}
	remove(obj, meta.StalledCondition)
	set(obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason, msg)
	return e
}

// MarkFalse sets a condition of obj False, such as SourceVerified when a signature does not
// verify.
func MarkFalse(obj Object, condition, reason, message string) {
	set(obj, condition, metav1.ConditionFalse, reason, message)
}

// Remove removes a condition of obj, such as SourceVerified when nothing is verified any more.
func Remove(obj Object, condition string) { remove(obj, condition) }

// MarkTrue sets a condition of obj True, such as ArtifactInStorage.
func MarkTrue(obj Object, condition, reason, message string) {
	set(obj, condition, metav1.ConditionTrue, reason, message)
}

// Progressing marks obj as being reconciled.
func Progressing(obj Object, message string) {
	set(obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, message)
}

func set(obj Object, condition string, s metav1.ConditionStatus, reason, message string) {
	conds := obj.GetConditions()
	apimeta.SetStatusCondition(&conds, metav1.Condition{
		Type: condition, Status: s, Reason: reason, Message: clip.String(message, clip.ConditionMessage), ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}

func remove(obj Object, condition string) {
	conds := obj.GetConditions()
	apimeta.RemoveStatusCondition(&conds, condition)
	obj.SetConditions(conds)
}

// Ready returns the Ready condition, or nil.
func Ready(obj meta.ObjectWithConditions) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition)
}

// RecordChange emits an event when Ready changed between before and obj: Normal when it became
// (or stayed, with a new message) True, Warning otherwise. Repeating the same state emits nothing,
// so a steady object is quiet.
func RecordChange(rec events.EventRecorder, obj Object, before *metav1.Condition) {
	recordChange(rec, obj, before, nil)
}

func recordChange(rec events.EventRecorder, obj Object, before *metav1.Condition, annotations map[string]string) {
	after := Ready(obj)
	if rec == nil || after == nil {
		return
	}
	if before != nil && before.Status == after.Status && before.Reason == after.Reason && before.Message == after.Message {
		return
	}
	kind := "Normal"
	if after.Status != metav1.ConditionTrue {
		kind = "Warning"
	}
	emit(rec, obj, annotations, kind, after.Reason, after.Message)
}

// emit records an event with annotations when there are some and rec takes them.
func emit(rec events.EventRecorder, obj Object, annotations map[string]string, kind, reason, message string) {
	note := clip.String(message, clip.EventNote)
	if a, ok := rec.(events.AnnotatedEventRecorder); ok && len(annotations) > 0 {
		a.AnnotatedEventf(obj, nil, annotations, kind, reason, "Reconcile", "%s", note)
		return
	}
	rec.Eventf(obj, nil, kind, reason, "Reconcile", "%s", note)
}
