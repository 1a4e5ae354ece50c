package status

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// Patcher writes an object's status once, at the end of a reconcile, as a merge patch against
// the object as it was read, and emits an event when Ready changed.
type Patcher struct {
	client   client.Client
	recorder events.EventRecorder
	obj      Object
	base     client.Object
	before   *metav1.Condition
	news     *news
	revision string
	origin   string // the source's origin revision, "" when it has none
}

// news is an event that says what a reconcile produced, in place of the generic Ready event.
type news struct{ reason, message string }

// Announce replaces this reconcile's Normal event with one that says what it produced, such as
// Flux's NewArtifact event. It is emitted only if the reconcile ends Ready.
func (p *Patcher) Announce(reason, message string) {
	p.news = &news{reason: reason, message: message}
}

// Revision names the source revision this reconcile works on. Every event the reconcile emits
// carries it, as Flux's events do, in the annotation GROUP/revision (such as
// kustomize.toolkit.fluxcd.io/revision) of a recorder that takes annotations
// (events.AnnotatedEventRecorder): notifications read it, and an Azure DevOps commit status is
// set on that commit.
func (p *Patcher) Revision(revision string) { p.revision = revision }

// OriginRevision names the revision the source artifact was built from, such as the commit of
// an OCI artifact's org.opencontainers.image.revision annotation. Events carry it in the
// annotation GROUP/originRevision, which a commit status prefers to the artifact's revision.
func (p *Patcher) OriginRevision(revision string) { p.origin = revision }

// Begin remembers obj as read. Call it before changing obj's status.
func Begin(c client.Client, rec events.EventRecorder, obj Object) *Patcher {
	return &Patcher{client: c, recorder: rec, obj: obj, base: obj.DeepCopyObject().(client.Object), before: Ready(obj).DeepCopy()}
}

// Finish records the generation and the handled reconcile request through observe, patches the
// status, and emits the event.
//
// A status that cannot be written is never dropped: the failure is logged and becomes *retErr,
// a retryable error even when the reconcile had stalled, so the status is written on a retry.
// Pass the reconcile's context from before any step timeout: the outcome of a timed-out step
// must still be written.
func (p *Patcher) Finish(ctx context.Context, retErr *error, observe func(generation int64, requestedAt string)) {
	requestedAt := p.obj.GetAnnotations()[meta.ReconcileRequestAnnotation]
	observe(p.obj.GetGeneration(), requestedAt)
	err := p.patch(ctx)
	if err != nil && !apierrors.IsNotFound(err) {
		log.FromContext(ctx).Error(err, "writing the status failed; retrying", "outcome", errorText(*retErr))
		*retErr = fmt.Errorf("writing the status of %s/%s: %w", p.obj.GetNamespace(), p.obj.GetName(), err)
		return
	}
	if p.news != nil && p.recorder != nil {
		if r := Ready(p.obj); r != nil && r.Status == metav1.ConditionTrue {
			emit(p.recorder, p.obj, p.annotations(), "Normal", p.news.reason, p.news.message)
			return
		}
	}
	recordChange(p.recorder, p.obj, p.before, p.annotations())
}

// annotations are the metadata of this reconcile's event, keyed with the object's API group as
// Flux's controllers key them.
func (p *Patcher) annotations() map[string]string {
	if p.revision == "" || p.client == nil {
		return nil
	}
	gvk, err := apiutil.GVKForObject(p.obj, p.client.Scheme())
	if err != nil {
		return nil
	}
	a := map[string]string{gvk.Group + "/revision": p.revision}
	if p.origin != "" {
		a[gvk.Group+"/originRevision"] = p.origin
	}
	return a
}

// patch writes the status, unless the reconcile changed nothing in it: a steady object's
// periodic reconcile then makes no write to the API server at all.
func (p *Patcher) patch(ctx context.Context) error {
	patch := client.MergeFrom(p.base)
	data, err := patch.Data(p.obj)
	if err != nil {
		return err
	}
	if string(data) == "{}" {
		return nil
	}
	return p.client.Status().Patch(ctx, p.obj, client.RawPatch(patch.Type(), data))
}

func errorText(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}
