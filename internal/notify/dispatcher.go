package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Options configure a Dispatcher. The zero value takes the defaults.
type Options struct {
	// NoCrossNamespaceRefs refuses events of objects in another namespace than the Alert's
	// (--no-cross-namespace-refs). Default: false.
	NoCrossNamespaceRefs bool
	// DedupWindow is how long an event drops its duplicates, as Flux's --rate-limit-interval.
	// Default: 5m.
	DedupWindow time.Duration
	// IntakeSize bounds the events waiting to be matched against Alerts. Default: 1000.
	IntakeSize int
	// QueueSize bounds the deliveries waiting for each Provider. Default: 100.
	QueueSize int
	// MaxAttempts is how many times a delivery is tried when its failures can pass. Default: 5.
	MaxAttempts int
	// RetryDelay is the wait before the first retry; it doubles with each failure, up to
	// MaxRetryDelay, and an endpoint's Retry-After wins within that bound. Default: 2s and 30s,
	// as Flux's HTTP client.
	RetryDelay, MaxRetryDelay time.Duration
	// Recorder records the Warning events on Alerts (NotificationDispatchFailed, InvalidConfig).
	// Default: none.
	Recorder events.EventRecorder
	// Objects reads the labels of the objects whose events come over HTTP, for matchLabels.
	// Default: the Dispatcher's reader.
	Objects client.Reader
	// Registerer receives the metrics. Default: none.
	Registerer prometheus.Registerer
	// Logger logs deliveries that fail. Default: discard.
	Logger logr.Logger
	// Now is the clock of deduplication. Default: time.Now.
	Now func() time.Time
}

// Errors of Submit.
var (
	// ErrDuplicate: the same event was accepted within the deduplication window.
	ErrDuplicate = errors.New("duplicate event within the rate limit interval")
	// ErrBusy: the intake is full; the event is dropped.
	ErrBusy = errors.New("the event intake is full")
)

// Dispatcher matches events against Alerts and delivers them through their Providers. It is safe
// for concurrent use; Start runs it.
type Dispatcher struct {
	client  client.Reader
	access  *access.Resolver
	opts    Options
	log     logr.Logger
	metrics *metrics
	dedup   dedup
	regexps regexps
	exprs   statusExprs
	intake  chan Event

	mu     sync.Mutex
	queues map[types.NamespacedName]*queue
	wg     sync.WaitGroup
	noCRD  sync.Once
}

// queue holds the deliveries of one Provider, sent one at a time, in order, by its worker.
type queue struct {
	ch chan delivery
}

// delivery is an event an Alert sends through a Provider.
type delivery struct {
	event    Event
	alert    *notificationv1.Alert
	provider types.NamespacedName
	typ      string
}

// idleQueue is how long a Provider's worker waits for work before it ends.
const idleQueue = 10 * time.Minute

// New returns a Dispatcher that reads Alerts and Providers through c (a cache, in the manager)
// and the Providers' secrets, connections and credentials through a.
func New(c client.Reader, a *access.Resolver, opts *Options) *Dispatcher {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = 5 * time.Minute
	}
	if o.IntakeSize <= 0 {
		o.IntakeSize = 1000
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 2 * time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 30 * time.Second
	}
	if o.Objects == nil {
		o.Objects = c
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	return &Dispatcher{
		client: c, access: a, opts: o, log: o.Logger, metrics: newMetrics(o.Registerer),
		dedup: dedup{window: int64(o.DedupWindow)}, intake: make(chan Event, o.IntakeSize),
		queues: map[types.NamespacedName]*queue{},
	}
}

// Submit hands an event to the pipeline without waiting: it returns ErrDuplicate for an event
// seen within the window and ErrBusy when the intake is full.
func (d *Dispatcher) Submit(e Event) error {
	clean(&e)
	e.Message = clip.String(e.Message, MaxMessage)
	if !d.dedup.first(key(&e), d.opts.Now().UnixNano()) {
		d.metrics.dropped.WithLabelValues("", DropDuplicate).Inc()
		return ErrDuplicate
	}
	select {
	case d.intake <- e:
		return nil
	default:
		d.metrics.dropped.WithLabelValues("", DropIntakeFull).Inc()
		d.log.Info("dropping an event: the intake is full", "object", objectString(&e))
		return ErrBusy
	}
}

// Start matches the submitted events until ctx ends, then waits for the Providers' workers.
func (d *Dispatcher) Start(ctx context.Context) error {
	defer d.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-d.intake:
			d.route(ctx, &e)
		}
	}
}

// route finds the Alerts that select e and queues a delivery for each.
func (d *Dispatcher) route(ctx context.Context, e *Event) {
	var alerts notificationv1.AlertList
	if err := d.client.List(ctx, &alerts); err != nil {
		if apimeta.IsNoMatchError(err) {
			// The Alert CRD is not installed: nothing can select the event.
			d.noCRD.Do(func() { d.log.Info("the Alert kind is not installed: events are not delivered", "error", err.Error()) })
			return
		}
		d.metrics.failed.WithLabelValues("").Inc()
		d.log.Error(err, "listing Alerts failed; the event is not delivered", "object", objectString(e))
		return
	}
	slices.SortFunc(alerts.Items, func(a, b notificationv1.Alert) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	objLabels := d.labels(ctx, e)
	for i := range alerts.Items {
		a := &alerts.Items[i]
		if a.Spec.Suspend || !d.selects(a, e, objLabels) {
			continue
		}
		d.dispatch(ctx, e, a)
	}
}

// selects reports whether Alert a selects e: a source, then the inclusion and exclusion lists.
func (d *Dispatcher) selects(a *notificationv1.Alert, e *Event, objLabels labelsFunc) bool {
	matched := false
	for _, src := range a.Spec.EventSources {
		ok, err := sourceMatches(e, a.Namespace, a.Spec.EventSeverity, src, objLabels)
		if err != nil {
			d.warn(a, notificationv1.InvalidConfigReason, err.Error())
			continue
		}
		if ok {
			matched = true
			break
		}
	}
	return matched && d.regexps.messageAllowed(&a.Spec, e.Message, func(list, expr string, err error) {
		d.warn(a, notificationv1.InvalidConfigReason, fmt.Sprintf("failed to compile %s regex: %s", list, clip.String(expr, 200)))
	})
}

// labels returns the involved object's labels: those the event carries, or a read of the
// object's metadata, once.
func (d *Dispatcher) labels(ctx context.Context, e *Event) labelsFunc {
	var (
		once sync.Once
		l    map[string]string
		err  error
	)
	return func() (map[string]string, error) {
		once.Do(func() {
			if e.labels != nil {
				l = e.labels
				return
			}
			var obj metav1.PartialObjectMetadata
			obj.SetGroupVersionKind(e.InvolvedObject.GroupVersionKind())
			err = d.opts.Objects.Get(ctx, types.NamespacedName{Namespace: e.InvolvedObject.Namespace, Name: e.InvolvedObject.Name}, &obj)
			l = obj.GetLabels()
		})
		return l, err
	}
}

// dispatch queues e for a's Provider.
func (d *Dispatcher) dispatch(ctx context.Context, e *Event, a *notificationv1.Alert) {
	if d.opts.NoCrossNamespaceRefs && e.InvolvedObject.Namespace != a.Namespace {
		d.fail(a, e, "", fmt.Errorf("alert '%s/%s' can't process event from '%s', cross-namespace references have been blocked (--no-cross-namespace-refs): "+
			"move the Alert to namespace '%s'", a.Namespace, a.Name, objectString(e), e.InvolvedObject.Namespace))
		return
	}
	var p notificationv1.Provider
	key := types.NamespacedName{Namespace: a.Namespace, Name: a.Spec.ProviderRef.Name}
	if err := d.client.Get(ctx, key, &p); err != nil {
		if apierrors.IsNotFound(err) {
			err = fmt.Errorf("provider '%s' not found in namespace '%s': create it, or fix spec.providerRef", key.Name, key.Namespace)
		}
		d.fail(a, e, "", fmt.Errorf("failed to read provider: %w", err))
		return
	}
	if p.Spec.Suspend {
		return
	}
	if p.Spec.Type != notificationv1.AzureDevOpsProvider && isCommitStatusUpdate(e) {
		return // meant for commit statuses only
	}
	out, conflicts := combine(e, a.Spec.EventMetadata, a.Spec.Summary)
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		d.log.Info("metadata key conflicts: the event's own value wins", "alert", a.Namespace+"/"+a.Name, "keys", conflicts)
	}
	d.enqueue(ctx, delivery{event: out, alert: a.DeepCopy(), provider: key, typ: p.Spec.Type})
}

func (d *Dispatcher) enqueue(ctx context.Context, dl delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, ok := d.queues[dl.provider]
	if !ok {
		q = &queue{ch: make(chan delivery, d.opts.QueueSize)}
		d.queues[dl.provider] = q
		d.wg.Add(1)
		go d.work(ctx, dl.provider, q)
	}
	select {
	case q.ch <- dl:
	default:
		d.metrics.dropped.WithLabelValues(dl.typ, DropQueueFull).Inc()
		d.fail(dl.alert, &dl.event, dl.typ, fmt.Errorf("provider '%s/%s' has %d events waiting (its endpoint is slow or failing): this one is dropped",
			dl.provider.Namespace, dl.provider.Name, d.opts.QueueSize))
	}
}

// work delivers the Provider's events in order until ctx ends or it has been idle a while.
func (d *Dispatcher) work(ctx context.Context, key types.NamespacedName, q *queue) {
	defer d.wg.Done()
	idle := time.NewTimer(idleQueue)
	defer idle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case dl := <-q.ch:
			d.deliver(ctx, dl)
			idle.Reset(idleQueue)
		case <-idle.C:
			d.mu.Lock()
			if len(q.ch) == 0 {
				delete(d.queues, key)
				d.mu.Unlock()
				d.exprs.forget(key) // compiled again when the Provider's events come back
				return
			}
			d.mu.Unlock()
			idle.Reset(idleQueue)
		}
	}
}

// deliver tries a delivery until it succeeds, fails for good, or has used its attempts.
func (d *Dispatcher) deliver(ctx context.Context, dl delivery) {
	delay := d.opts.RetryDelay
	for attempt := 1; ; attempt++ {
		typ, mask, err := d.attempt(ctx, dl)
		if typ != "" {
			dl.typ = typ
		}
		switch {
		case err == nil:
			d.metrics.sent.WithLabelValues(dl.typ).Inc()
			return
		case errors.Is(err, errSkipped):
			return
		case ctx.Err() != nil:
			return
		case !retryable(err) || attempt >= d.opts.MaxAttempts:
			if retryable(err) {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			d.fail(dl.alert, &dl.event, dl.typ, maskErr(err, mask))
			return
		}
		d.metrics.retries.WithLabelValues(dl.typ).Inc()
		wait := min(max(delay, retryAfter(err)), d.opts.MaxRetryDelay)
		delay = min(2*delay, d.opts.MaxRetryDelay)
		d.log.V(1).Info("delivery failed; retrying", "provider", dl.provider.String(), "in", wait.String(), "error", maskErr(err, mask).Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt reads the Provider as it is now and sends the event within the Provider's timeout.
func (d *Dispatcher) attempt(ctx context.Context, dl delivery) (typ string, mask []string, err error) {
	var p notificationv1.Provider
	if err := d.client.Get(ctx, dl.provider, &p); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil, terminalf("provider '%s' not found in namespace '%s'", dl.provider.Name, dl.provider.Namespace)
		}
		return "", nil, fmt.Errorf("failed to read provider: %w", err)
	}
	if p.Spec.Suspend {
		return p.Spec.Type, nil, errSkipped
	}
	ctx, cancel := context.WithTimeout(ctx, p.GetTimeout())
	defer cancel()
	c, err := d.config(ctx, &p)
	if err != nil {
		return p.Spec.Type, nil, err
	}
	s, err := d.sender(ctx, &p, c, dl.alert)
	if err != nil {
		return p.Spec.Type, c.secrets(), err
	}
	err = s.send(ctx, dl.event)
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within the provider's timeout of %s (spec.timeout): %w", p.GetTimeout(), err)
	}
	return p.Spec.Type, c.secrets(), err
}

// fail reports an event that is not delivered: the metric, a log line and a Warning event on the
// Alert, as Flux's NotificationDispatchFailed.
func (d *Dispatcher) fail(a *notificationv1.Alert, e *Event, typ string, err error) {
	d.metrics.failed.WithLabelValues(typ).Inc()
	d.log.Error(err, "failed to send notification", "alert", a.Namespace+"/"+a.Name, "object", objectString(e))
	d.warn(a, notificationv1.NotificationDispatchFailedReason, fmt.Sprintf("failed to send notification for %s: %s", objectString(e), transport.ExplainTLS(err)))
}

func (d *Dispatcher) warn(a *notificationv1.Alert, reason, message string) {
	if d.opts.Recorder == nil {
		return
	}
	d.opts.Recorder.Eventf(a, nil, "Warning", reason, "Notify", "%s", clip.String(message, clip.EventNote))
}

func objectString(e *Event) string {
	return e.InvolvedObject.Kind + "/" + e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
}

// maskErr replaces the secrets in err's message, as Flux masks a provider's token.
func maskErr(err error, secrets []string) error {
	msg := err.Error()
	masked := msg
	for _, s := range secrets {
		masked = strings.ReplaceAll(masked, s, "*****")
	}
	if masked == msg {
		return err
	}
	return errors.New(masked)
}
