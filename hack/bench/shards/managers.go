package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
)

const (
	// nodeIdentity is the client ID of the node's managed identity node-kubelet, which has
	// AcrPull through the management group; the controllers reach IMDS through connect-to.
	nodeIdentity = "4817e33f-6b74-4c56-b006-d543ddff26f0"
	// leaseNamespace holds the managers' Leases, as flux-system does in a cluster.
	leaseNamespace = "flux-system"
)

// shardManager is one `azimuth controller` child process of a layout.
type shardManager struct {
	name, selector string
	addr           string // its artifact server, as its artifact URLs name it
	storage        string // its --storage-path
	*proc.Child
}

// startManagers starts one child per selector of l, each as deployed: leader election on
// (its own Lease, named after its selector), its own artifact server advertised on its own
// address, every controller.
func startManagers(bin string, cl *cluster, az *azurelocal.Azure, l layout, dir string) ([]*shardManager, error) {
	var ms []*shardManager
	for i, sel := range l.selectors {
		m, err := startManager(bin, cl, az, l.managerName(i), sel, dir)
		if err != nil {
			stopManagers(ms)
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func startManager(bin string, cl *cluster, az *azurelocal.Azure, name, selector, dir string) (*shardManager, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &shardManager{name: name, selector: selector, addr: fmt.Sprintf("127.0.0.1:%d", port),
		storage: filepath.Join(dir, "storage-"+name)}
	if err := os.MkdirAll(m.storage, 0o700); err != nil {
		return nil, err
	}
	args := []string{"controller",
		"--ca-file", filepath.Join(az.StateDir(), "ca.pem"),
		"--storage-path", m.storage, "--storage-addr", m.addr, "--storage-adv-addr", m.addr,
		"--metrics-addr", "0", "--health-addr", "0",
		"--enable-leader-election", "--leader-election-namespace", leaseNamespace}
	if selector != "" {
		args = append(args, "--watch-label-selector", selector)
	}
	cmd := exec.Command(bin, args...)
	// Only what a pod would have: no proxies or Azure settings leak in from this shell.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"KUBECONFIG=" + cl.kube.Kubeconfig,
		"AZIMUTH_CONNECT_TO=" + strings.Join(az.ConnectTo(), "\n"),
		"AZURE_CLIENT_ID=" + nodeIdentity,
	}
	if m.Child, err = proc.StartChild(cmd, filepath.Join(dir, "controller-"+name+".log")); err != nil {
		return nil, err
	}
	return m, nil
}

func stopManagers(ms []*shardManager) {
	for _, m := range ms {
		m.Stop()
	}
}

// waitLeaders waits until every manager's Lease has a holder: each shard elected its leader,
// and none waits for another's.
func waitLeaders(ctx context.Context, c client.Client, ms []*shardManager, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var leases coordinationv1.LeaseList
		if err := c.List(ctx, &leases, client.InNamespace(leaseNamespace)); err != nil {
			return err
		}
		held := 0
		for _, l := range leases.Items {
			if strings.HasPrefix(l.Name, "azimuth-controller-leader") && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
				held++
			}
		}
		if held == len(ms) {
			return nil
		}
		for _, m := range ms {
			if err := m.Alive(); err != nil {
				return fmt.Errorf("manager %s: %w", m.name, err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d managers elected a leader within %s: see their logs in %s", held, len(ms), timeout, filepath.Dir(ms[0].Log()))
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// usage is what a manager used: CPU time and resident set.
type usage struct {
	cpu       time.Duration
	rss, peak int64 // bytes: VmRSS now, VmHWM
}

func (m *shardManager) usage() (usage, error) {
	rss, peak, err := proc.Memory(m.Pid())
	if err != nil {
		return usage{}, m.Failed(fmt.Errorf("manager %s: %w", m.name, err))
	}
	return usage{cpu: proc.CPU([]int{m.Pid()}), rss: rss, peak: peak}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
