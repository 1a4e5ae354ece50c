package manager

import (
	"context"
	"fmt"
	"net"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/notify"
)

// NotifyOptions configure the event pipeline: the reconcilers' events, and those other
// controllers post, delivered through Alerts and Providers. Cross-namespace refusal follows
// Kustomize.NoCrossNamespaceRefs (--no-cross-namespace-refs), as in Flux, where the one flag
// configures every controller.
type NotifyOptions struct {
	// EventsAddr serves Flux's event API for other controllers (--events-addr), such as :9690.
	// Default: "", not served; the reconcilers of this process hand their events over in
	// process.
	EventsAddr string
	// Dispatch tunes the pipeline (deduplication window, queues, retries), for tests. Default:
	// notify's defaults, as Flux's.
	Dispatch *notify.Options
}

// setupNotify starts the dispatcher, and the event API when asked. Both run on every replica:
// an event posted to one that is not the leader is delivered too.
func (m *Manager) setupNotify(opts Options, credentials *access.Resolver) error {
	var o notify.Options
	if opts.Notify.Dispatch != nil {
		o = *opts.Notify.Dispatch
	}
	o.NoCrossNamespaceRefs = opts.Kustomize.NoCrossNamespaceRefs
	o.Recorder = m.Manager.GetEventRecorder("notification-controller")
	o.Objects = m.GetAPIReader()
	if o.Registerer == nil && opts.MetricsAddr != "0" {
		o.Registerer = metrics.Registry
	}
	o.Logger = ctrl.Log.WithName("notify")
	m.notifier = notify.New(m.GetClient(), credentials, &o)
	if err := m.Add(everyReplica(m.notifier.Start)); err != nil {
		return err
	}
	if opts.Notify.EventsAddr == "" {
		return nil
	}
	l, err := net.Listen("tcp", opts.Notify.EventsAddr)
	if err != nil {
		return fmt.Errorf("--events-addr: %w", err)
	}
	return m.Add(everyReplica(func(ctx context.Context) error { return m.notifier.ServeListener(ctx, l) }))
}

// GetEventRecorder returns the event recorder of the reconciler named name: it records
// Kubernetes events, and hands the same events to the notification pipeline, as Flux's
// controllers post theirs to notification-controller. The reporting controller is Flux's name
// for the reconciler's controller: azimuth-kustomize reports as kustomize-controller.
func (m *Manager) GetEventRecorder(name string) recorder.EventRecorder {
	inner := m.Manager.GetEventRecorder(name)
	if m.notifier == nil {
		return inner
	}
	return notify.NewRecorder(inner, m.notifier, m.GetScheme(), strings.TrimPrefix(name, "azimuth-")+"-controller")
}

// everyReplica is a runnable that does not wait for leader election.
type everyReplica func(context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }
