package status

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// TestLongMessagesStillReachTheUser: an event note over 1,024 bytes is rejected by the API
// server, and a condition message over 32,768 bytes fails the whole status patch; both are cut,
// the condition keeping far more than the event.
func TestLongMessagesStillReachTheUser(t *testing.T) {
	long := "service account tenant-a/app is annotated with client ID " + strings.Repeat("é", 30000) + " end"
	obj := &sourcev1.OCIRepository{}
	rec := &recorder{}
	before := Ready(obj).DeepCopy()
	Failed(obj, Fail("", sourcev1.AuthenticationFailedReason, errors.New(long)))
	RecordChange(rec, obj, before)

	msg := Ready(obj).Message
	if len(msg) > clip.ConditionMessage || !utf8.ValidString(msg) || !strings.HasPrefix(msg, "service account tenant-a/app") {
		t.Fatalf("condition message: %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
	}
	if len(rec.events) != 1 {
		t.Fatalf("events: %v", rec.events)
	}
	note := strings.TrimPrefix(rec.events[0], "Warning AuthenticationFailed ")
	if len(note) > clip.EventNote || !utf8.ValidString(note) || !strings.HasSuffix(note, "…") {
		t.Fatalf("event note: %d bytes, valid UTF-8 %v", len(note), utf8.ValidString(note))
	}

	// Short messages are untouched.
	Succeeded(obj, meta.SucceededReason, "stored artifact")
	if Ready(obj).Message != "stored artifact" {
		t.Fatalf("a short message changed: %q", Ready(obj).Message)
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("oci://r.io/app"); got != `"oci://r.io/app"` {
		t.Errorf("Quote = %s", got)
	}
	got := Quote("oci://" + strings.Repeat("a", 40<<10))
	if len(got) > 300 || !strings.Contains(got, "(40966 bytes)") {
		t.Errorf("a 40 KB value quoted as %d bytes: %.80s", len(got), got)
	}
}

// TestErrorsClassifyThemselves: an error that says it is terminal stalls the object with its own
// reason, whichever step returned it; the step's reason stays for the rest.
func TestErrorsClassifyThemselves(t *testing.T) {
	obj := &sourcev1.OCIRepository{}
	Failed(obj, Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, gateError{}))
	if c := cond(obj, meta.StalledCondition); c == nil || c.Reason != meta.FeatureGateDisabledReason {
		t.Fatalf("Stalled = %+v", c)
	}
	if Ready(obj).Reason != meta.FeatureGateDisabledReason {
		t.Fatalf("Ready = %+v", Ready(obj))
	}
	Failed(obj, Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, errors.New("refused")))
	if cond(obj, meta.StalledCondition) != nil || Ready(obj).Reason != sourcev1.AuthenticationFailedReason {
		t.Fatalf("a plain error stalled or lost its reason: %+v", obj.Status.Conditions)
	}
}

type gateError struct{}

func (gateError) Error() string  { return "enable the gate" }
func (gateError) Terminal() bool { return true }
func (gateError) Reason() string { return meta.FeatureGateDisabledReason }
