package main

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// cluster is a fresh control plane for one run: no object, cache or Lease of another run
// weighs on it.
type cluster struct {
	kube   *testenv.Env
	client client.Client
	// pids are etcd's and kube-apiserver's, whose CPU the report adds up.
	pids []int
}

// startCluster starts etcd and kube-apiserver, installs the CRDs and creates the namespaces.
func startCluster(ctx context.Context, binDir string, namespaces int) (cl *cluster, err error) {
	before := proc.Children(pid())
	kube, err := testenv.Start(ctx, &testenv.Options{BinDir: binDir})
	if err != nil {
		return nil, fmt.Errorf("starting Kubernetes: %w", err)
	}
	cl = &cluster{kube: kube}
	defer func() {
		if err != nil {
			cl.stop()
		}
	}()
	for p, name := range proc.Children(pid()) {
		if _, old := before[p]; !old && (name == "etcd" || name == "kube-apiserver") {
			cl.pids = append(cl.pids, p)
		}
	}
	slices.Sort(cl.pids)
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		return nil, err
	}
	if err := kube.InstallCRDsFS(ctx, bases); err != nil {
		return nil, fmt.Errorf("installing the CRDs: %w", err)
	}
	scheme, err := manager.Scheme()
	if err != nil {
		return nil, err
	}
	if cl.client, err = client.New(kube.Config, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	names := []string{leaseNamespace}
	for i := range namespaces {
		names = append(names, fmt.Sprintf("bench-%d", i))
	}
	for _, ns := range names {
		if err := cl.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	return cl, nil
}

// cpu is the CPU time etcd and kube-apiserver used so far.
func (cl *cluster) cpu() time.Duration { return proc.CPU(cl.pids) }

func (cl *cluster) stop() {
	if cl != nil && cl.kube != nil {
		_ = cl.kube.Stop()
	}
}
