package demo

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// Row is one sample object as it stands.
type Row struct {
	Kind, Namespace, Name string
	Identity              Identity
	// Ready is the Ready condition's status, Unknown until the object has one.
	Ready   metav1.ConditionStatus
	Reason  string
	Message string
	// Expected says what the object must come to: "Ready" or the reason of a failure on purpose.
	Expected string
	// Problem is empty when the object is as expected, else what is wrong.
	Problem string
}

// Object is the row's object as kubectl names it.
func (r Row) Object() string { return r.Kind + " " + r.Namespace + "/" + r.Name }

// Table is every sample object, in the order they were applied.
type Table []Row

// Settle waits until every sample object is as expected, or waiting longer would change nothing
// (see final), or Options.SettleTimeout passes, or ctx ends, and returns the objects as they
// then stand.
func (s *System) Settle(ctx context.Context) Table {
	done := s.progress.step("objects settling")
	ctx, cancel := context.WithTimeout(ctx, s.opts.SettleTimeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		t := s.table(ctx)
		bad := t.problems()
		if len(bad) == 0 {
			done("all as expected, "+s.progress.since()+" after the start", nil)
			return t
		}
		if t.final() {
			done(fmt.Sprintf("%d of %d not as expected, %s after the start", len(bad), len(t), s.progress.since()), nil)
			return t
		}
		select {
		case <-ctx.Done():
			done(fmt.Sprintf("%d of %d not as expected, %s after the start", len(bad), len(t), s.progress.since()), ctx.Err())
			return s.table(context.WithoutCancel(ctx))
		case <-tick.C:
		}
	}
}

func (s *System) table(ctx context.Context) Table {
	t := make(Table, 0, len(s.applied))
	for _, smp := range s.applied {
		obj := smp.obj
		r := Row{Namespace: obj.GetNamespace(), Name: obj.GetName(), Identity: smp.identity, Ready: metav1.ConditionUnknown, Expected: "Ready"}
		if smp.failReason != "" {
			r.Expected = smp.failReason
		}
		r.Kind = kind(obj)
		if err := s.Env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			r.Message, r.Problem = err.Error(), "cannot be read"
			t = append(t, r)
			continue
		}
		if smp.delivered != nil {
			r.Ready, r.Reason, r.Message = smp.delivered(ctx, obj)
			switch r.Ready {
			case metav1.ConditionUnknown:
				r.Problem = "nothing delivered yet"
			case metav1.ConditionFalse:
				r.Problem = "want a successful delivery"
			}
			t = append(t, r)
			continue
		}
		o, ok := obj.(object)
		if !ok {
			r.Problem = fmt.Sprintf("%T has no status", obj)
			t = append(t, r)
			continue
		}
		if c := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition); c != nil {
			r.Ready, r.Reason, r.Message = c.Status, c.Reason, c.Message
		}
		r.Problem = problem(o, r, smp.failReason)
		t = append(t, r)
	}
	return t
}

// problem says what is wrong with obj, or nothing when it is as expected: Ready with the latest
// samples selected, or failed with the expected reason.
func problem(obj object, r Row, failReason string) string {
	if failReason != "" {
		if r.Ready == metav1.ConditionFalse && r.Reason == failReason {
			return ""
		}
		return "want Ready=False with reason " + failReason
	}
	if r.Ready != metav1.ConditionTrue {
		return "not Ready"
	}
	switch o := obj.(type) {
	case *sourcev1.OCIRepository:
		if a := o.Status.Artifact; a == nil || !strings.HasPrefix(a.Revision, latestManifests+"@") {
			return "want the artifact of " + latestManifests
		}
	case *imagev1.ImageRepository:
		if sr := o.Status.LastScanResult; sr == nil || sr.TagCount != len(ImageTags) {
			return fmt.Sprintf("want %d tags scanned", len(ImageTags))
		}
	case *imagev1.ImagePolicy:
		if ref := o.Status.LatestRef; ref == nil || ref.Tag != latestImage {
			return "want the latest tag " + latestImage
		}
	case *imagev1.ImageUpdateAutomation:
		return automationProblem(o)
	case *sourcev1.Bucket:
		return bucketProblem(o)
	case *kustomizev1.Kustomization:
		if o.Spec.SourceRef.Kind == sourcev1.OCIRepositoryKind && !strings.HasPrefix(o.Status.LastAppliedRevision, latestManifests+"@") {
			return "want the revision " + latestManifests + " applied"
		}
	}
	return ""
}

func kind(obj client.Object) string {
	switch obj.(type) {
	case *sourcev1.OCIRepository:
		return sourcev1.OCIRepositoryKind
	case *sourcev1.GitRepository:
		return sourcev1.GitRepositoryKind
	case *sourcev1.Bucket:
		return sourcev1.BucketKind
	case *notificationv1.Provider:
		return notificationv1.ProviderKind
	case *notificationv1.Alert:
		return notificationv1.AlertKind
	case *imagev1.ImageRepository:
		return imagev1.ImageRepositoryKind
	case *imagev1.ImagePolicy:
		return imagev1.ImagePolicyKind
	case *imagev1.ImageUpdateAutomation:
		return imagev1.ImageUpdateAutomationKind
	case *kustomizev1.Kustomization:
		return kustomizev1.KustomizationKind
	}
	return fmt.Sprintf("%T", obj)
}

func (t Table) problems() []Row {
	var bad []Row
	for _, r := range t {
		if r.Problem != "" {
			bad = append(bad, r)
		}
	}
	return bad
}

// final says whether waiting longer would change nothing: every object is as expected or Ready
// (a Ready object meant to fail, because its identity has the role after all, stays Ready).
func (t Table) final() bool {
	for _, r := range t {
		if r.Problem != "" && r.Ready != metav1.ConditionTrue {
			return false
		}
	}
	return true
}

// Err is nil when every object is as expected: Ready, except the ones meant to fail, which
// failed for the expected reason.
func (t Table) Err() error {
	bad := t.problems()
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d sample objects are not as expected (see the table)", len(bad), len(t))
}

// messageWidth is the width of the table's messages; the full ones of objects that are not
// Ready follow the table.
const messageWidth = 64

// Write prints the table, then the full message of every object that is not Ready, and what is
// wrong with the objects that are not as expected.
func (t Table) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tIDENTITY\tREADY\tMESSAGE")
	for _, r := range t {
		ready := string(r.Ready)
		switch {
		case r.Problem != "":
			ready += " (unexpected)"
		case r.Expected != "Ready":
			ready += " (expected)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Object(), r.Identity, ready, brief(r.Message, r.Ready == metav1.ConditionTrue))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range t {
		if r.Ready != metav1.ConditionTrue && r.Message != "" {
			fmt.Fprintf(w, "\n%s is not Ready (%s):\n  %s\n", r.Object(), r.Reason, r.Message)
		}
	}
	if bad := t.problems(); len(bad) > 0 {
		fmt.Fprintf(w, "\nNot as expected:\n")
		for _, r := range bad {
			fmt.Fprintf(w, "  %s: %s (it is Ready=%s %s)\n", r.Object(), r.Problem, r.Ready, r.Reason)
		}
	}
	return nil
}

var (
	digestPattern = regexp.MustCompile(`sha256:[0-9a-f]{12}[0-9a-f]{52}|sha1:[0-9a-f]{12}[0-9a-f]{28}`)
	guidPattern   = regexp.MustCompile(`\b([0-9a-fA-F]{8})-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)
)

// brief fits a message on one line of the table: digests and IDs are cut to their first
// characters, then a Ready object's message loses its middle (its end is often the outcome:
// "resolved to 6.7.1"), and any other its end (the whole message follows the table).
func brief(message string, ready bool) string {
	s := strings.Join(strings.Fields(message), " ")
	s = digestPattern.ReplaceAllStringFunc(s, func(d string) string {
		algorithm, hex, _ := strings.Cut(d, ":")
		return algorithm + ":" + hex[:12] + "…"
	})
	s = guidPattern.ReplaceAllString(s, "$1…")
	runes := []rune(s)
	if len(runes) <= messageWidth {
		return s
	}
	if !ready {
		return string(runes[:messageWidth-1]) + "…"
	}
	head := (messageWidth - 1) / 2
	tail := messageWidth - 1 - head
	return string(runes[:head]) + "…" + string(runes[len(runes)-tail:])
}
