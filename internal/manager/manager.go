// Package manager assembles Azimuth's controllers into one controller-runtime manager: the
// scheme, the identity resolver and Entra ID provider every reconciler shares, the artifact
// storage and its HTTP server, leader election, health and metrics endpoints. The `azimuth
// controller` command and `azimuth dev up` both run it.
//
// In docs/architecture.md's flow it wires each step to the next once per process: identity
// resolver, Entra provider, access resolver, protocol packages and the recipes.
package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/notify"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Controllers are the reconcilers the manager can run, by the names --controllers takes.
var Controllers = []string{"ocirepository", "gitrepository", "bucket", "imagerepository", "imagepolicy", "imageupdateautomation", "kustomization"}

// errImagePolicyAlone: the policies read the tags the repositories' reconciler keeps in memory.
var errImagePolicyAlone = errors.New("--controllers: imagepolicy needs imagerepository in the same process, which keeps the scanned tags")

// Options configure the manager. Zero values take the documented defaults.
type Options struct {
	// Controllers to run. Default: all of Controllers.
	Controllers []string
	Identity    identity.Options
	Entra       entra.Options
	Transport   transport.Options
	// StoragePath is where artifacts are kept. Required.
	StoragePath string
	// StorageAddr is the artifact server's listen address. Default: :9090.
	StorageAddr string
	// StorageAdvAddr is the address artifact URLs name. Default: StorageAddr as served.
	StorageAdvAddr string
	// MetricsAddr serves Prometheus metrics; "0" disables. Default: :8080.
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz; "0" disables. Default: :9440.
	HealthAddr string
	// LeaderElection makes only one replica reconcile. Default: false.
	LeaderElection          bool
	LeaderElectionNamespace string
	// LeaderElectionID names the Lease the replicas share. Default: DefaultLeaderElectionID; a
	// shard's (WatchLabelSelector) adds a hash of its selector, as Flux does.
	LeaderElectionID string
	// LeaseDuration, RenewDeadline and RetryPeriod time the election
	// (--leader-election-lease-duration, --leader-election-renew-deadline,
	// --leader-election-retry-period). Default: 35s, 30s and 5s, as Flux.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// WatchLabelSelector restricts the objects reconciled to those its labels select
	// (--watch-label-selector), such as "sharding.fluxcd.io/key in (shard1)", so that several
	// managers share a cluster's objects. Default: "", every object.
	WatchLabelSelector string
	// WatchNamespaces limits the objects reconciled to these namespaces, so several managers
	// with different controller identities can share a cluster. Default: all namespaces.
	WatchNamespaces []string
	// Concurrency is the number of objects each controller reconciles at once. Default: 4.
	Concurrency int
	// Kustomize configures the Kustomization controller.
	Kustomize KustomizeOptions
	// Notify configures the event pipeline of Alerts and Providers.
	Notify NotifyOptions
	// MinRetryDelay and MaxRetryDelay bound the back-off of a failing object
	// (--min-retry-delay, --max-retry-delay). Default: 750ms and 15m, as Flux.
	MinRetryDelay, MaxRetryDelay time.Duration
}

// KustomizeOptions configure the Kustomization controller. Its lockdown is
// Identity.DefaultServiceAccount (--default-service-account), which it applies for impersonation
// whether or not object-level workload identity is on, as kustomize-controller does.
type KustomizeOptions struct {
	// NoCrossNamespaceRefs refuses sources and dependencies in another namespace
	// (--no-cross-namespace-refs). Default: false.
	NoCrossNamespaceRefs bool
	// StrictSubstitutions fails a build on a variable with neither value nor default
	// (--feature-gates=StrictPostBuildSubstitutions=true). Default: false.
	StrictSubstitutions bool
	// HealthPollInterval is how often health checks look at the objects. Default: 2s.
	HealthPollInterval time.Duration
}

// Scheme returns a scheme with Kubernetes' kinds and Azimuth's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, sourcev1.AddToScheme, imagev1.AddToScheme, kustomizev1.AddToScheme, notificationv1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (o *Options) defaults() error {
	if len(o.Controllers) == 0 {
		o.Controllers = Controllers
	}
	for _, c := range o.Controllers {
		if !slices.Contains(Controllers, c) {
			return fmt.Errorf("unknown controller %q in --controllers: choose from %s", c, strings.Join(Controllers, ", "))
		}
	}
	if o.StoragePath == "" {
		return errors.New("--storage-path is required")
	}
	if o.StorageAddr == "" {
		o.StorageAddr = ":9090"
	}
	if o.MetricsAddr == "" {
		o.MetricsAddr = ":8080"
	}
	if o.HealthAddr == "" {
		o.HealthAddr = ":9440"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = 35 * time.Second
	}
	if o.RenewDeadline <= 0 {
		o.RenewDeadline = 30 * time.Second
	}
	if o.RetryPeriod <= 0 {
		o.RetryPeriod = 5 * time.Second
	}
	// client-go's elector needs retry period × 1.2 < renew deadline < lease duration.
	if o.LeaderElection && (o.RenewDeadline >= o.LeaseDuration || o.RetryPeriod*6/5 >= o.RenewDeadline) {
		return fmt.Errorf("leader election: want --leader-election-retry-period %s × 1.2 < --leader-election-renew-deadline %s < --leader-election-lease-duration %s", o.RetryPeriod, o.RenewDeadline, o.LeaseDuration)
	}
	if o.MinRetryDelay > 0 && o.MaxRetryDelay > 0 && o.MinRetryDelay > o.MaxRetryDelay {
		return fmt.Errorf("--min-retry-delay %s is longer than --max-retry-delay %s: lower the first or raise the second", o.MinRetryDelay, o.MaxRetryDelay)
	}
	return nil
}

// Manager is a configured, not yet started, manager.
type Manager struct {
	manager.Manager
	Storage *artifact.Storage
	// notifier receives the reconcilers' events (GetEventRecorder) for Alerts.
	notifier *notify.Dispatcher
	// StorageURL is where the artifact server listens, once started.
	storageListener net.Listener
	// selector is the shard's --watch-label-selector; nil selects every object.
	selector labels.Selector
}

// New builds the manager and registers the chosen reconcilers.
func New(cfg *rest.Config, opts Options) (*Manager, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	selector, err := parseSelector(opts.WatchLabelSelector)
	if err != nil {
		return nil, err
	}
	var cacheOpts cache.Options
	shardCache(&cacheOpts, selector)
	if len(opts.WatchNamespaces) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.WatchNamespaces {
			cacheOpts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Cache:  cacheOpts,
		// Several managers may run in one process (azimuth dev up shards namespaces between
		// controller identities); controller names need only be unique within a manager.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		// Secrets, service accounts and config maps (postBuild's) are read when a reconcile needs them, not cached: caching
		// would hold every secret of the cluster in memory and need cluster-wide watch rights.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ServiceAccount{}, &corev1.ConfigMap{}}}},
		// Go's profiles beside the metrics, where Flux's debugging guide finds them.
		Metrics:                 metricsserver.Options{BindAddress: opts.MetricsAddr, ExtraHandlers: pprofHandlers()},
		HealthProbeBindAddress:  opts.HealthAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        leaderElectionID(opts.LeaderElectionID, opts.WatchLabelSelector),
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// A replica that stops hands the Lease over at once, as Flux's do; one that dies leaves
		// it to expire after LeaseDuration.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &opts.LeaseDuration,
		RenewDeadline:                 &opts.RenewDeadline,
		RetryPeriod:                   &opts.RetryPeriod,
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", opts.StorageAddr)
	if err != nil {
		return nil, fmt.Errorf("artifact server: %w", err)
	}
	adv := opts.StorageAdvAddr
	if adv == "" {
		adv = listener.Addr().String()
	}
	storage, err := artifact.NewStorage(opts.StoragePath, "http://"+strings.TrimPrefix(adv, "http://"))
	if err != nil {
		listener.Close()
		return nil, err
	}
	m := &Manager{Manager: mgr, Storage: storage, storageListener: listener, selector: selector}
	if err := mgr.Add(manager.RunnableFunc(m.serveArtifacts)); err != nil {
		return nil, err
	}
	if err := m.setupReconcilers(opts); err != nil {
		return nil, err
	}
	return m, nil
}

// StorageAddr is the artifact server's address.
func (m *Manager) StorageAddr() string { return m.storageListener.Addr().String() }

func (m *Manager) serveArtifacts(ctx context.Context) error {
	srv := &http.Server{Handler: m.Storage.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(m.storageListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (m *Manager) setupReconcilers(opts Options) error {
	resolver, err := identity.NewResolver(m.GetClient(), &opts.Identity)
	if err != nil {
		return err
	}
	entraOpts := opts.Entra
	entraOpts.Transport = &opts.Transport
	if entraOpts.Registerer == nil && opts.MetricsAddr != "0" {
		entraOpts.Registerer = metrics.Registry
	}
	credentials := access.NewResolver(m.GetClient(), resolver, entra.NewProvider(&entraOpts), opts.Transport)
	if err := m.setupNotify(opts, credentials); err != nil {
		return err
	}
	return m.setup(opts, credentials)
}

// pprofHandlers serve Go's profiles under /debug/pprof/.
func pprofHandlers() map[string]http.Handler {
	h := map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
	for _, p := range []string{"heap", "goroutine", "allocs", "threadcreate", "block", "mutex"} {
		h["/debug/pprof/"+p] = pprof.Handler(p)
	}
	return h
}
