package notify

import (
	"fmt"
	"maps"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// Recorder is a Kubernetes event recorder that also hands each event to a Dispatcher, as Flux's
// controllers post theirs to notification-controller: the involved object, the severity (Normal
// is info, Warning is error), the reason, the message and the annotations as metadata (such as
// kustomize.toolkit.fluxcd.io/revision). It never waits for a delivery.
type Recorder struct {
	inner      events.EventRecorder
	dispatcher *Dispatcher
	scheme     *runtime.Scheme
	controller string
	instance   string
}

// Compile-time checks: reconcilers take an events.EventRecorder, and status emits annotated
// events through events.AnnotatedEventRecorder.
var (
	_ events.EventRecorder          = (*Recorder)(nil)
	_ events.AnnotatedEventRecorder = (*Recorder)(nil)
)

// NewRecorder returns a recorder that records through inner and submits to d, naming controller
// (such as kustomize-controller) as the reporting controller. scheme resolves the kinds of the
// objects. A nil d records through inner only.
func NewRecorder(inner events.EventRecorder, d *Dispatcher, scheme *runtime.Scheme, controller string) *Recorder {
	host, _ := os.Hostname()
	instance := controller
	if host != "" {
		instance = controller + "-" + host
	}
	return &Recorder{inner: inner, dispatcher: d, scheme: scheme, controller: controller, instance: instance}
}

// Eventf implements events.EventRecorder.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.AnnotatedEventf(regarding, related, nil, eventtype, reason, action, note, args...)
}

// AnnotatedEventf implements events.AnnotatedEventRecorder: the annotations become the event's
// metadata.
func (r *Recorder) AnnotatedEventf(regarding, related runtime.Object, annotations map[string]string, eventtype, reason, action, note string, args ...any) {
	if r.inner != nil {
		if a, ok := r.inner.(events.AnnotatedEventRecorder); ok && len(annotations) > 0 {
			a.AnnotatedEventf(regarding, related, annotations, eventtype, reason, action, note, args...)
		} else {
			r.inner.Eventf(regarding, related, eventtype, reason, action, note, args...)
		}
	}
	if r.dispatcher == nil {
		return
	}
	e, ok := r.event(regarding, annotations, eventtype, reason, fmt.Sprintf(note, args...))
	if ok {
		// A duplicate or a full intake is counted and logged by the dispatcher; the reconciler
		// goes on.
		_ = r.dispatcher.Submit(e)
	}
}

func (r *Recorder) event(regarding runtime.Object, annotations map[string]string, eventtype, reason, message string) (Event, bool) {
	obj, ok := regarding.(metav1.Object)
	if !ok {
		return Event{}, false
	}
	gvk, err := apiutil.GVKForObject(regarding, r.scheme)
	if err != nil {
		return Event{}, false
	}
	severity := SeverityInfo
	if eventtype == corev1.EventTypeWarning {
		severity = SeverityError
	}
	l := maps.Clone(obj.GetLabels())
	if l == nil {
		l = map[string]string{}
	}
	apiVersion, kind := gvk.ToAPIVersionAndKind()
	return Event{
		InvolvedObject: corev1.ObjectReference{
			APIVersion: apiVersion, Kind: kind, Name: obj.GetName(), Namespace: obj.GetNamespace(),
			UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
		},
		Severity: severity, Timestamp: metav1.Now(), Message: message, Reason: reason,
		Metadata: maps.Clone(annotations), ReportingController: r.controller, ReportingInstance: r.instance,
		labels: l,
	}, true
}
