package entra

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azimuth-gitops/azimuth/internal/expiring"
)

// Metrics count the token cache's work. Labels never hold an identity or a token: only outcomes
// and Entra ID's error codes.
type Metrics struct {
	requests     *prometheus.CounterVec
	hits, misses prometheus.Counter
	fetches      *prometheus.CounterVec
	latency      prometheus.Histogram
	items        prometheus.Gauge
	evictions    prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg, when reg is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azimuth_token_cache_requests_total",
			Help: "Token requests served by the Entra ID token cache, by result (hit or miss).",
		}, []string{"result"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azimuth_token_fetches_total",
			Help: "Tokens fetched from Entra ID, by outcome and AADSTS error code (empty when none).",
		}, []string{"outcome", "aadsts"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "azimuth_token_fetch_duration_seconds",
			Help:    "Time to fetch a token from Entra ID, including the Kubernetes token request.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		items: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azimuth_token_cached_items", Help: "Tokens held in the cache.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azimuth_token_cache_evictions_total", Help: "Tokens evicted from the full cache.",
		}),
	}
	m.hits, m.misses = m.requests.WithLabelValues("hit"), m.requests.WithLabelValues("miss")
	if reg != nil {
		reg.MustRegister(m.requests, m.fetches, m.latency, m.items, m.evictions)
	}
	return m
}

// cacheHooks report the token cache's hits, misses, evictions and size.
func (m *Metrics) cacheHooks() expiring.Hooks {
	return expiring.Hooks{
		Hit: m.hits.Inc, Miss: m.misses.Inc, Evicted: m.evictions.Inc,
		Size: func(n int) { m.items.Set(float64(n)) },
	}
}

func (m *Metrics) fetched(start time.Time, code int, err error) {
	m.latency.Observe(time.Since(start).Seconds())
	outcome, aadsts := "success", ""
	if err != nil {
		outcome = "failure"
		if code != 0 {
			aadsts = strconv.Itoa(code)
		}
	}
	m.fetches.WithLabelValues(outcome, aadsts).Inc()
}
