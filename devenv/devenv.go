// Package devenv runs the whole system on one machine: a real Kubernetes control plane
// (internal/testenv), the local Azure (azurelocal) trusting that cluster as an OIDC issuer, the
// CRDs, and Azimuth's controllers wired to the local Azure through the connect-to map and the
// local CA only. `azimuth dev up` and the end-to-end tests run it.
//
// In docs/architecture.md it is the room that assembles the flow end to end on one machine; the
// engine never imports it.
package devenv

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Options configure Start. The zero value runs with the built-in directory in temporary
// directories.
type Options struct {
	// StateDir keeps the local Azure's CA, the kubeconfig and the artifacts. Default: a new
	// temporary directory, removed by Stop.
	StateDir string
	// Directory is the local Azure's directory. Default: the built-in one.
	Directory *directory.Directory
	// BinDir holds etcd and kube-apiserver. Default: testenv's lookup.
	BinDir string
	// Step is called as each part starts ("etcd and kube-apiserver", "the CRDs", "the local
	// Azure"); the function it returns is called when that part is ready or has failed, for
	// progress reports. Default: none.
	Step func(part string) (done func(error))
}

// Env is the running system.
type Env struct {
	Kube   *testenv.Env
	Azure  *azurelocal.Azure
	Client client.Client
	// Transport reaches the local Azure: its connect-to map and CA, nothing else.
	Transport transport.Options
	stateDir  string
	// clusterRules send the directory's AKS clusters' hosts to the control plane.
	clusterRules []string
}

// Start brings up Kubernetes and the local Azure and installs the CRDs. Controllers start with
// RunControllers. On error nothing is left running.
func Start(ctx context.Context, opts *Options) (env *Env, err error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	step := o.Step
	if step == nil {
		step = func(string) func(error) { return func(error) {} }
	}
	env = &Env{stateDir: o.StateDir}
	defer func() {
		if err != nil {
			env.Stop()
			env = nil
		}
	}()
	// The control plane also serves as the directory's AKS clusters: its certificate names their
	// hosts, and it reads Entra ID's keys through the local Azure's proxy, whose port is chosen
	// now since the local Azure starts after it. The local Azure is still given o.Directory, so
	// that it writes the default directory's certificate application when that is the one.
	dir := o.Directory
	if dir == nil {
		dir = directory.Default()
	}
	proxyAddr, err := freeAddr()
	if err != nil {
		return env, err
	}
	kubeOpts := &testenv.Options{BinDir: o.BinDir, HTTPSProxy: "http://" + proxyAddr}
	for _, c := range dir.ManagedClusters() {
		kubeOpts.ServingNames = append(kubeOpts.ServingNames, c.Host())
	}
	if o.StateDir != "" {
		kubeOpts.Dir = filepath.Join(o.StateDir, "kube")
		if err := os.MkdirAll(kubeOpts.Dir, 0o700); err != nil {
			return env, err
		}
	}
	done := step("etcd and kube-apiserver")
	env.Kube, err = testenv.Start(ctx, kubeOpts)
	if done(err); err != nil {
		return env, fmt.Errorf("starting Kubernetes: %w", err)
	}
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		return env, err
	}
	done = step("the CRDs")
	err = env.Kube.InstallCRDsFS(ctx, bases)
	if done(err); err != nil {
		return env, fmt.Errorf("installing the CRDs: %w", err)
	}
	azureDir := filepath.Join(env.Kube.Dir, "azure")
	if o.StateDir != "" {
		azureDir = filepath.Join(o.StateDir, "azure")
	}
	done = step("the local Azure")
	// Blob Storage (Azurite) too: kept in the state directory when there is one to keep.
	blob := &azurelocal.BlobOptions{Persist: o.StateDir != ""}
	env.Azure, err = azurelocal.Start(ctx, &azurelocal.Options{StateDir: azureDir, Directory: o.Directory, ProxyListen: proxyAddr, IssuerCAs: [][]byte{env.Kube.CAPEM}, Blob: blob})
	if err == nil {
		err = env.serveClusters(ctx)
	}
	if done(err); err != nil {
		return env, fmt.Errorf("starting the local Azure: %w", err)
	}
	rules, err := transport.ParseConnectToList(strings.Join(append(env.Azure.ConnectTo(), env.clusterRules...), "\n"))
	if err != nil {
		return env, err
	}
	env.Transport = transport.Options{ConnectTo: rules, RootCAs: env.Azure.CAPool()}
	scheme, err := manager.Scheme()
	if err != nil {
		return env, err
	}
	env.Client, err = client.New(env.Kube.Config, client.Options{Scheme: scheme})
	return env, err
}

// Stop stops the local Azure and Kubernetes.
func (e *Env) Stop() {
	if e == nil {
		return
	}
	if e.Azure != nil {
		e.Azure.Stop()
	}
	if e.Kube != nil {
		e.Kube.Stop()
	}
}

// Controllers configure one manager of RunControllers.
type Controllers struct {
	// ObjectLevelWorkloadIdentity turns the feature gate on.
	ObjectLevelWorkloadIdentity bool
	// Env is the controller's environment (AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE, ...),
	// as a pod would have it; nothing else is read from the process environment.
	Env map[string]string
	// Namespaces limits the manager to these namespaces. Default: all.
	Namespaces []string
	// StoragePath keeps the artifacts. Required.
	StoragePath string
}

// RunControllers starts a manager with every controller, reaching the local Azure through the
// connect-to map and CA only, and returns once it is started. It stops when ctx ends; wait on
// the returned channel for its error.
func (e *Env) RunControllers(ctx context.Context, c Controllers) (*manager.Manager, <-chan error, error) {
	m, err := manager.New(e.Kube.Config, manager.Options{
		Identity:    identityOptions(c),
		Transport:   e.Transport,
		StoragePath: c.StoragePath, StorageAddr: "127.0.0.1:0",
		MetricsAddr: "0", HealthAddr: "0",
		WatchNamespaces: c.Namespaces,
	})
	if err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	if !m.GetCache().WaitForCacheSync(ctx) {
		return nil, nil, fmt.Errorf("the controllers' caches did not sync")
	}
	return m, done, nil
}
