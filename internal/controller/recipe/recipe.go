// Package recipe is the reconcile loop every Azimuth controller shares, written once: get the
// object, handle its deletion and finalizer, write its status once at the end (observed
// generation, the handled reconcile.fluxcd.io/requestedAt, an event when Ready changes), honour
// spec.suspend and spec.timeout, then run the kind's own steps and turn their outcome into
// conditions (package status).
//
// In DESIGN.md's flow it is the reconciler's frame: a controller package gives a Recipe its
// steps, which get credentials and clients through their protocol package (oci, ...), and
// nothing else.
//
// Requeues follow Flux: a failure is retried with exponential back-off (750 ms up to 15 min,
// Flux's --min-retry-delay and --max-retry-delay), a stalled object waits for a change, and a
// steady object comes back at its interval, spread by up to 5% so objects created together do
// not reconcile together forever.
package recipe

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/azimuth-gitops/azimuth/internal/controller/status"
)

// Object is what the recipe needs of a kind.
type Object interface {
	status.Object
	client.Object
	// GetRequeueAfter is the interval of a steady object.
	GetRequeueAfter() time.Duration
	// Suspended is spec.suspend.
	Suspended() bool
	// SetObserved records status.observedGeneration and status.lastHandledReconcileAt; an
	// empty requestedAt leaves the latter as it is.
	SetObserved(generation int64, requestedAt string)
}

// timed is an Object with spec.timeout.
type timed interface{ GetTimeout() time.Duration }

// retrying is an Object with spec.retryInterval.
type retrying interface{ GetRetryInterval() time.Duration }

// Retry delays, as Flux's controllers default them.
const (
	MinRetryDelay = 750 * time.Millisecond
	MaxRetryDelay = 15 * time.Minute
)

// Options are how a controller runs its recipe. The zero value is valid.
type Options struct {
	// Concurrency is the number of objects reconciled at once. Default: 1.
	Concurrency int
	// MinRetryDelay is the first delay before a failed object is retried (--min-retry-delay);
	// it doubles with each failure. Default: MinRetryDelay.
	MinRetryDelay time.Duration
	// MaxRetryDelay bounds the retry delay (--max-retry-delay). Default: MaxRetryDelay.
	MaxRetryDelay time.Duration
}

// Recipe reconciles objects of one kind with its Steps.
type Recipe[T Object] struct {
	Client   client.Client
	Recorder events.EventRecorder
	// New returns an empty object of the kind.
	New func() T
	// Finalizer is added before the first step and removed once Finalize succeeds. Default: none,
	// for kinds that leave nothing behind.
	Finalizer string
	// Finalize cleans up after a deleted object. Default: nothing to clean up.
	Finalize func(ctx context.Context, obj T) error
	// Steps reconcile obj, within its spec.timeout. A returned error becomes obj's conditions and
	// event (status.Failed); on success the steps set Ready themselves. patcher announces news.
	Steps func(ctx context.Context, obj T, patcher *status.Patcher) error
}

// Reconcile implements reconcile.Reconciler.
func (r *Recipe[T]) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := r.New()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj)
	}
	if r.Finalizer != "" {
		if err := status.AddFinalizer(ctx, r.Client, obj, r.Finalizer); err != nil {
			return ctrl.Result{}, err
		}
	}
	patcher := status.Begin(r.Client, r.Recorder, obj)
	defer patcher.Finish(ctx, &retErr, obj.SetObserved)
	if obj.Suspended() {
		return ctrl.Result{}, nil
	}
	stepCtx := ctx
	if t, ok := any(obj).(timed); ok {
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithTimeout(ctx, t.GetTimeout())
		defer cancel()
	}
	if err := r.Steps(stepCtx, obj, patcher); err != nil {
		failed := status.Failed(obj, err)
		// A kind with spec.retryInterval (Kustomization) retries at that interval, as Flux does;
		// a stalled object waits for a change whatever the kind.
		if ri, ok := any(obj).(retrying); ok && ri.GetRetryInterval() > 0 && !errors.Is(failed, reconcile.TerminalError(nil)) {
			return ctrl.Result{RequeueAfter: ri.GetRetryInterval()}, nil
		}
		// No RequeueAfter with an error: controller-runtime would ignore it (and say so in the
		// log); the rate limiter's back-off decides when to retry.
		return ctrl.Result{}, failed
	}
	return ctrl.Result{RequeueAfter: jitter(obj.GetRequeueAfter())}, nil
}

func (r *Recipe[T]) finalize(ctx context.Context, obj T) error {
	if r.Finalize != nil {
		if err := r.Finalize(ctx, obj); err != nil {
			return err
		}
	}
	if r.Finalizer == "" {
		return nil
	}
	return status.RemoveFinalizer(ctx, r.Client, obj, r.Finalizer)
}

// Builder starts registering the recipe's controller with mgr: it reacts to spec changes and to
// reconcile.fluxcd.io/requestedAt, not to its own status writes, with Flux's retry back-off.
// Add watches, then Complete(r).
func (r *Recipe[T]) Builder(mgr ctrl.Manager, opts Options) *builder.Builder {
	if opts.MinRetryDelay <= 0 {
		opts.MinRetryDelay = MinRetryDelay
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = MaxRetryDelay
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(r.New(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: max(opts.Concurrency, 1),
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](opts.MinRetryDelay, opts.MaxRetryDelay),
		})
}

// jitter spreads requeues of many objects with one interval by up to 5%.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(float64(d)*0.05*rand.Float64())
}
