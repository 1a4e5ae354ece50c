package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/residency"
)

// newControllerCmd runs the controllers, as the Deployment in a cluster does.
func newControllerCmd() *cobra.Command {
	var (
		ids         identityFlags
		opts        manager.Options
		controllers string
		logDev      bool
	)
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run the controllers (OCIRepository, GitRepository, ImageRepository, ImagePolicy, Kustomization)",
		Long: `Run Azimuth's controllers in one manager until interrupted, against the cluster of the
current kubeconfig (or the in-cluster configuration).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseDevMode(logDev)))
			ctrl.Log.Info("starting azimuth", "version", binaryVersion())
			if controllers != "" {
				opts.Controllers = strings.Split(controllers, ",")
			}
			if err := configureIdentity(&opts, &ids); err != nil {
				return err
			}
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return fmt.Errorf("reaching the cluster: %w", err)
			}
			m, err := manager.New(cfg, opts)
			if err != nil {
				return err
			}
			// Every package's init has run: give back the pages of code only they used.
			if n, err := residency.Release(); err != nil {
				ctrl.Log.Info("could not release the executable's start-up pages", "error", err.Error())
			} else {
				ctrl.Log.V(1).Info("released the executable's start-up pages", "mappedBytes", n)
			}
			return m.Start(cmd.Context())
		},
	}
	fs := cmd.Flags()
	ids.bind(fs)
	fs.StringVar(&controllers, "controllers", "", "controllers to run, comma-separated, from "+strings.Join(manager.Controllers, ", ")+" (default all)")
	fs.StringVar(&opts.StoragePath, "storage-path", "/data", "directory for artifacts")
	fs.StringVar(&opts.StorageAddr, "storage-addr", ":9090", "listen address of the artifact server")
	fs.StringVar(&opts.StorageAdvAddr, "storage-adv-addr", "", "address artifact URLs name, such as azimuth.flux-system.svc.cluster.local (default: the listen address)")
	fs.StringVar(&opts.MetricsAddr, "metrics-addr", ":8080", `listen address of the Prometheus metrics endpoint, /metrics, and of Go's profiles, /debug/pprof/ ("0" disables)`)
	fs.StringVar(&opts.HealthAddr, "health-addr", ":9440", `listen address of /healthz and /readyz ("0" disables)`)
	fs.BoolVar(&opts.LeaderElection, "enable-leader-election", false, "run the controllers in one replica at a time")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election lease (default: the pod's)")
	fs.DurationVar(&opts.LeaseDuration, "leader-election-lease-duration", 35*time.Second, "how long a replica waits for a leader that stopped renewing before it takes over")
	fs.DurationVar(&opts.RenewDeadline, "leader-election-renew-deadline", 30*time.Second, "how long the leader retries renewing its lease before it gives up leading")
	fs.DurationVar(&opts.RetryPeriod, "leader-election-retry-period", 5*time.Second, "how often replicas try to acquire or renew the lease")
	fs.StringVar(&opts.WatchLabelSelector, "watch-label-selector", "", `reconcile only the objects this label selector selects, such as "sharding.fluxcd.io/key in (shard1)" on a shard and "!sharding.fluxcd.io/key" on the main manager (default: every object)`)
	fs.IntVar(&opts.Concurrency, "concurrent", 4, "objects each controller reconciles at once")
	fs.DurationVar(&opts.MinRetryDelay, "min-retry-delay", recipe.MinRetryDelay, "the first delay before a failed object is retried; it doubles with each failure")
	fs.DurationVar(&opts.MaxRetryDelay, "max-retry-delay", recipe.MaxRetryDelay, "the longest delay before a failed object is retried")
	fs.BoolVar(&opts.Kustomize.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, "refuse references to another namespace: Kustomization sources and dependencies, ImageUpdateAutomation sources, ImagePolicy image repositories (whatever their spec.accessFrom), Alert event sources (multi-tenancy lockdown)")
	fs.StringVar(&opts.Notify.EventsAddr, "events-addr", "", `listen address of Flux's event API, where other controllers post events for Alerts, such as ":9690" (default: not served)`)
	fs.BoolVar(&logDev, "log-dev", false, "human-readable logs instead of JSON")
	return cmd
}

// configureIdentity fills the manager's identity, token and transport options from the flags,
// and the service adapters the reconcilers need.
func configureIdentity(opts *manager.Options, ids *identityFlags) error {
	entraOpts, err := ids.entraOptions()
	if err != nil {
		return err
	}
	entraOpts.Registerer = metrics.Registry
	opts.Identity = ids.identityOptions()
	opts.Kustomize.StrictSubstitutions = ids.featureGates.enabled(strictSubstitutionsGate)
	opts.Transport = *entraOpts.Transport
	opts.Entra = entraOpts
	return nil
}
