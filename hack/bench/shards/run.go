package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
)

const (
	settle       = 3 * time.Second
	leaderWithin = time.Minute
)

// result is what one run of one layout at one size measured.
type result struct {
	layout  layout
	objects int
	// created is the time to create the objects; ready, from the first creation until all
	// were seen Ready (within pollEvery).
	created, ready time.Duration
	managers       []managerResult
	// controlPlane is the CPU of etcd and kube-apiserver, bench that of this process (the
	// local Azure: gateway, Entra, IMDS, ACR; and the polling), from the first creation until
	// all were Ready.
	controlPlane, bench time.Duration
	loadavg             string // at the end of the run
	problems            []string
	// logged counts the objects some manager's log names: the log check covers those.
	logged int
}

type managerResult struct {
	name      string
	shard     bool  // selects a shard key (not the main manager)
	idle, end usage // before the objects, once all are Ready
}

func (m managerResult) cpu() time.Duration { return m.end.cpu - m.idle.cpu }

// env is what every run shares: the local Azure, the binary, the registry holding the
// artifact.
type env struct {
	az          *azurelocal.Azure
	bin, binDir string
	tmp         string
	host        string
	timeout     time.Duration
}

// runOnce runs layout l on a fresh control plane with w's objects.
func runOnce(ctx context.Context, e env, w workload, l layout) (r result, err error) {
	r = result{layout: l, objects: w.objects}
	dir := filepath.Join(e.tmp, fmt.Sprintf("run-%d-%s", w.objects, strings.ReplaceAll(l.name, " ", "")))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	logf("%s, %d objects: starting Kubernetes", l.name, w.objects)
	cl, err := startCluster(ctx, e.binDir, w.namespaces)
	if err != nil {
		return r, err
	}
	defer cl.stop()
	ms, err := startManagers(e.bin, cl, e.az, l, dir)
	if err != nil {
		return r, err
	}
	defer stopManagers(ms)
	if err := waitLeaders(ctx, cl.client, ms, leaderWithin); err != nil {
		return r, err
	}
	logf("%d managers elected; settling %s", len(ms), settle)
	if err := sleep(ctx, settle); err != nil {
		return r, err
	}
	for i, m := range ms {
		idle, err := m.usage()
		if err != nil {
			return r, err
		}
		r.managers = append(r.managers, managerResult{name: m.name, shard: ms[i].selector != "!"+shardLabel, idle: idle})
	}
	cp0, self0 := cl.cpu(), proc.SelfCPU()
	start := time.Now()
	if err := create(ctx, cl.client, w.build()); err != nil {
		return r, err
	}
	r.created = time.Since(start)
	logf("created %d objects in %s", w.objects, r.created.Round(100*time.Millisecond))
	if err := waitReady(ctx, cl.client, w, ms, e.timeout); err != nil {
		return r, err
	}
	r.ready = time.Since(start)
	r.controlPlane, r.bench = cl.cpu()-cp0, proc.SelfCPU()-self0
	for i, m := range ms {
		if r.managers[i].end, err = m.usage(); err != nil {
			return r, err
		}
	}
	r.loadavg = loadavg()
	logf("all %d Ready in %s; load average %s", w.objects, r.ready.Round(100*time.Millisecond), r.loadavg)
	if r.problems, r.logged, err = check(ctx, cl.client, w, l, ms); err != nil {
		return r, err
	}
	for _, m := range ms {
		if err := m.Alive(); err != nil {
			return r, fmt.Errorf("manager %s: %w", m.name, err)
		}
	}
	return r, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
