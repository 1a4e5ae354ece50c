package status

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// recorder keeps the events it is given.
type recorder struct{ events []string }

func (r *recorder) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _ string, note string, args ...any) {
	r.events = append(r.events, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func cond(obj Object, t string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), t)
}

func TestFailedRetriesAndStalls(t *testing.T) {
	obj := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	err := Failed(obj, Fail(sourcev1.FetchFailedCondition, sourcev1.OCIPullFailedReason, errors.New("tag not found")))
	if errors.Is(err, reconcile.TerminalError(nil)) {
		t.Fatal("a retryable failure was made terminal")
	}
	if c := cond(obj, meta.ReadyCondition); c.Status != metav1.ConditionFalse || c.Reason != sourcev1.OCIPullFailedReason || c.ObservedGeneration != 3 {
		t.Fatalf("Ready = %+v", c)
	}
	if c := cond(obj, sourcev1.FetchFailedCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("FetchFailed = %+v", c)
	}
	if c := cond(obj, meta.ReconcilingCondition); c == nil || c.Reason != meta.ProgressingWithRetryReason {
		t.Fatalf("Reconciling = %+v", c)
	}

	err = Failed(obj, Stall(meta.FeatureGateDisabledReason, errors.New("enable the gate")))
	if !errors.Is(err, reconcile.TerminalError(nil)) {
		t.Fatalf("a stalled failure is not terminal: %v", err)
	}
	if cond(obj, meta.StalledCondition) == nil || cond(obj, meta.ReconcilingCondition) != nil {
		t.Fatalf("after a stall: %+v", obj.Status.Conditions)
	}

	Succeeded(obj, meta.SucceededReason, "stored", sourcev1.FetchFailedCondition)
	for _, gone := range []string{meta.StalledCondition, meta.ReconcilingCondition, sourcev1.FetchFailedCondition} {
		if cond(obj, gone) != nil {
			t.Errorf("%s survived success", gone)
		}
	}
	if c := cond(obj, meta.ReadyCondition); c.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %+v", c)
	}

	// A plain error is a generic, retryable failure.
	if err := Failed(obj, errors.New("boom")); errors.Is(err, reconcile.TerminalError(nil)) || cond(obj, meta.ReadyCondition).Reason != meta.FailedReason {
		t.Fatalf("plain error: %v, %+v", err, cond(obj, meta.ReadyCondition))
	}
}

func TestRecordChangeEmitsOncePerChange(t *testing.T) {
	rec := &recorder{}
	obj := &sourcev1.OCIRepository{}
	Succeeded(obj, meta.SucceededReason, "stored artifact v1")
	RecordChange(rec, obj, nil)
	before := Ready(obj).DeepCopy()
	RecordChange(rec, obj, before) // nothing changed
	Failed(obj, Fail("", sourcev1.AuthenticationFailedReason, errors.New("needs AcrPull")))
	RecordChange(rec, obj, before)
	got := strings.Join(rec.events, "\n")
	want := "Normal Succeeded stored artifact v1\nWarning AuthenticationFailed needs AcrPull"
	if got != want {
		t.Fatalf("events:\n%s\nwant:\n%s", got, want)
	}
}
