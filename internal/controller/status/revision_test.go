package status

import (
	"context"
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// annotated records events with their annotations, as a recorder that forwards them to
// notifications does.
type annotated struct{ events []string }

func (r *annotated) Eventf(_, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	r.events = append(r.events, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func (r *annotated) AnnotatedEventf(_, _ runtime.Object, annotations map[string]string, eventtype, reason, _, note string, args ...any) {
	r.events = append(r.events, fmt.Sprintf("%s %s %s %v", eventtype, reason, fmt.Sprintf(note, args...), annotations))
}

// TestRevisionAnnotatesEvents: the revision a reconcile names reaches its event as Flux's
// GROUP/revision annotation, on success, news and failure alike; an origin revision as
// GROUP/originRevision beside it.
func TestRevisionAnnotatesEvents(t *testing.T) {
	s := runtime.NewScheme()
	if err := sourcev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "repo"}}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(obj).WithStatusSubresource(obj).Build()
	rec := &annotated{}
	run := func(step func(p *Patcher)) {
		p := Begin(c, rec, obj)
		step(p)
		var err error
		p.Finish(context.Background(), &err, obj.SetObserved)
		if err != nil {
			t.Fatal(err)
		}
	}
	run(func(p *Patcher) {
		p.Revision("main@sha1:abc")
		Succeeded(obj, meta.SucceededReason, "stored")
	})
	run(func(p *Patcher) {
		p.Revision("main@sha1:def")
		p.Announce(sourcev1.NewArtifactReason, "stored artifact for commit 'def'")
		Succeeded(obj, meta.SucceededReason, "stored def")
	})
	run(func(p *Patcher) {
		p.Revision("latest@sha256:f00")
		p.OriginRevision("main@sha1:abc")
		Succeeded(obj, meta.SucceededReason, "stored f00")
	})
	run(func(p *Patcher) { Failed(obj, errors.New("clone failed")) }) // no revision: plain event
	want := []string{
		"Normal Succeeded stored map[source.toolkit.fluxcd.io/revision:main@sha1:abc]",
		"Normal NewArtifact stored artifact for commit 'def' map[source.toolkit.fluxcd.io/revision:main@sha1:def]",
		"Normal Succeeded stored f00 map[source.toolkit.fluxcd.io/originRevision:main@sha1:abc source.toolkit.fluxcd.io/revision:latest@sha256:f00]",
		"Warning Failed clone failed",
	}
	if fmt.Sprint(rec.events) != fmt.Sprint(want) {
		t.Errorf("events:\n%q\nwant:\n%q", rec.events, want)
	}
	// A recorder without annotations gets the plain event.
	plain := &recorder{}
	p := Begin(c, plain, obj)
	p.Revision("main@sha1:123")
	Succeeded(obj, meta.SucceededReason, "stored 123")
	var err error
	p.Finish(context.Background(), &err, obj.SetObserved)
	if len(plain.events) != 1 || plain.events[0] != "Normal Succeeded stored 123" {
		t.Errorf("plain: %v", plain.events)
	}
}
