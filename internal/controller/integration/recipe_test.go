package integration_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
)

func recipeCases() []testCase {
	return []testCase{
		{"a status the API server refuses is not dropped", testRecipeStatusRefused},
		{"a steady object's reconcile writes nothing", testRecipeSteadyWritesNothing},
	}
}

// A reconcile whose status the API server refuses (here: a condition without a reason) returns
// that failure, retryable, even when its steps had stalled the object: the old patcher kept the
// stall, so the object never got a status and was never retried.
func testRecipeStatusRefused(t *testing.T, h *harness) {
	ns := h.namespace(t)
	// The manager reconciles this object too; its URL stalls it at once and leaves it alone.
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{URL: "oci://" + h.reg.open + "/" + ns + "/Not_Valid", Insecure: true})
	h.create(t, obj)
	h.waitFor(t, obj, "stalled", stalled(obj, sourcev1.URLInvalidReason))

	rec := &recipe.Recipe[*sourcev1.OCIRepository]{
		Client: h.client,
		New:    func() *sourcev1.OCIRepository { return &sourcev1.OCIRepository{} },
		Steps: func(_ context.Context, obj *sourcev1.OCIRepository, _ *status.Patcher) error {
			obj.Status.Conditions = append(obj.Status.Conditions, metav1.Condition{
				Type: "Broken", Status: metav1.ConditionTrue, LastTransitionTime: metav1.Now(), Message: "no reason",
			})
			return status.Stall(sourcev1.URLInvalidReason, errors.New("the steps stalled"))
		},
	}
	result, err := rec.Reconcile(t.Context(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: "app"}})
	if err == nil || !strings.Contains(err.Error(), "writing the status of "+ns+"/app") {
		t.Fatalf("err = %v, want the refused status write", err)
	}
	if errors.Is(err, reconcile.TerminalError(nil)) {
		t.Errorf("a refused status write is terminal, so it would never be retried: %v", err)
	}
	if result != (ctrl.Result{}) {
		t.Errorf("result = %+v beside an error; controller-runtime ignores it", result)
	}
}

// patchCounter is the harness's real client, counting the status patches sent through it.
type patchCounter struct {
	client.Client
	patches atomic.Int64
}

func (c *patchCounter) Status() client.SubResourceWriter {
	return countingStatus{SubResourceWriter: c.Client.Status(), n: &c.patches}
}

type countingStatus struct {
	client.SubResourceWriter
	n *atomic.Int64
}

func (s countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.n.Add(1)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

// A reconcile of a steady object (Ready, nothing new upstream, no request) writes nothing to
// the API server: the status it would patch is the status it read.
func testRecipeSteadyWritesNothing(t *testing.T, h *harness) {
	ns := h.namespace(t)
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{URL: "oci://" + h.reg.open + "/" + ns + "/Not_Valid", Insecure: true})
	h.create(t, obj)
	h.waitFor(t, obj, "stalled", stalled(obj, sourcev1.URLInvalidReason))

	counter := &patchCounter{Client: h.client}
	rec := &recipe.Recipe[*sourcev1.OCIRepository]{
		Client: counter,
		New:    func() *sourcev1.OCIRepository { return &sourcev1.OCIRepository{} },
		// The same outcome as the manager's reconcile gave it.
		Steps: func(_ context.Context, obj *sourcev1.OCIRepository, _ *status.Patcher) error {
			return status.Stall(sourcev1.URLInvalidReason, errors.New(condition(obj, meta.ReadyCondition).Message))
		},
	}
	key := types.NamespacedName{Namespace: ns, Name: "app"}
	if _, err := rec.Reconcile(t.Context(), ctrl.Request{NamespacedName: key}); !errors.Is(err, reconcile.TerminalError(nil)) {
		t.Fatalf("err = %v, want the stall again", err)
	}
	if n := counter.patches.Load(); n != 0 {
		t.Errorf("a reconcile that changed nothing sent %d status patches", n)
	}
}
