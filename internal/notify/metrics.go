package notify

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count deliveries by provider type; no label holds an address, a name or a secret.
type metrics struct {
	sent    *prometheus.CounterVec
	failed  *prometheus.CounterVec
	dropped *prometheus.CounterVec
	retries *prometheus.CounterVec
}

// Reasons an event is dropped, the reason label of azimuth_notification_events_dropped_total.
const (
	// DropDuplicate: the same event within the deduplication window.
	DropDuplicate = "duplicate"
	// DropIntakeFull: more events arrived than the pipeline could match.
	DropIntakeFull = "intake_full"
	// DropQueueFull: the Provider's queue was full (its endpoint slow or failing).
	DropQueueFull = "queue_full"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azimuth_notification_events_sent_total",
			Help: "Events delivered, by provider type.",
		}, []string{"type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azimuth_notification_events_failed_total",
			Help: "Events not delivered: refused, misconfigured, or still failing after the retries; by provider type (empty before a Provider was found).",
		}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azimuth_notification_events_dropped_total",
			Help: "Events dropped, by provider type (empty before an Alert matched) and reason: duplicate, intake_full, queue_full.",
		}, []string{"type", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azimuth_notification_delivery_retries_total",
			Help: "Delivery attempts retried after a failure that can pass, by provider type.",
		}, []string{"type"}),
	}
	if reg == nil {
		return m
	}
	m.sent = register(reg, m.sent)
	m.failed = register(reg, m.failed)
	m.dropped = register(reg, m.dropped)
	m.retries = register(reg, m.retries)
	return m
}

// register registers c, or returns the collector already registered under its name (several
// managers in one process share the metrics).
func register(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
	}
	return c
}
