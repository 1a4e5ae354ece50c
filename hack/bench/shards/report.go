package main

import (
	"fmt"
	"time"

	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
)

// totals are a run's figures over its managers.
type totals struct {
	cpu                 time.Duration
	idle, peak, maxPeak int64 // bytes: sums of idle RSS and of peaks; the largest peak of a shard
}

func (r result) totals() totals {
	var t totals
	for _, m := range r.managers {
		t.cpu += m.cpu()
		t.idle += m.idle.rss
		t.peak += m.end.peak
		if m.shard && m.end.peak > t.maxPeak {
			t.maxPeak = m.end.peak
		}
	}
	return t
}

// perObject are the costs of one object: wall ms, manager CPU ms, and KiB of RSS beyond idle.
func (r result) perObject() (wall, cpu, kib float64) {
	t, n := r.totals(), float64(r.objects)
	return proc.MS(r.ready) / n, proc.MS(t.cpu) / n, float64(t.peak-t.idle) / 1024 / n
}

func report(c config, results []result) {
	if len(results) == 0 {
		return
	}
	fmt.Printf("\nEach run: a fresh kube-apiserver + etcd, the managers as child processes, %d namespaces; objects: ", c.namespaces)
	if c.kustomizations {
		fmt.Printf("half OCIRepositories, half Kustomizations of another shard's source.\n")
	} else {
		fmt.Printf("OCIRepositories.\n")
	}
	fmt.Printf("\n%-16s %7s %8s %8s %9s %9s %9s %9s %9s %8s %8s  %s\n", "layout", "objects", "ready s", "create s",
		"mgr CPU s", "RSS idle", "RSS peak", "max peak", "KiB/obj", "k8s CPU", "bench", "load")
	for _, r := range results {
		t := r.totals()
		_, _, kib := r.perObject()
		fmt.Printf("%-16s %7d %8.1f %8.1f %9.1f %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f  %s\n", r.layout.name, r.objects,
			r.ready.Seconds(), r.created.Seconds(), t.cpu.Seconds(), proc.MiB(t.idle), proc.MiB(t.peak), proc.MiB(t.maxPeak), kib,
			r.controlPlane.Seconds(), r.bench.Seconds(), r.loadavg)
	}
	fmt.Printf("(RSS in MiB, summed over the managers; max peak: the largest of one shard, the main manager apart;\n")
	fmt.Printf("KiB/obj: (sum of peaks - sum idle) / objects; k8s CPU: etcd + kube-apiserver; bench: this process,\n")
	fmt.Printf("the local Azure and the polling; CPU from the first creation until all Ready, seen within %s.)\n", pollEvery)

	fmt.Printf("\n%-16s %7s %-8s %10s %10s %10s\n", "layout", "objects", "manager", "idle MiB", "peak MiB", "CPU s")
	for _, r := range results {
		for _, m := range r.managers {
			fmt.Printf("%-16s %7d %-8s %10.1f %10.1f %10.1f\n", r.layout.name, r.objects, m.name, proc.MiB(m.idle.rss), proc.MiB(m.end.peak), m.cpu().Seconds())
		}
	}
	ratios(results)
	linearity(c, results)
	problems(results)
}

// ratios prints sharded / single at every size both ran.
func ratios(results []result) {
	fmt.Printf("\n%-8s %-18s %12s %14s %12s %12s %14s\n", "objects", "sharded / single", "time", "after create", "CPU", "sum of RSS", "max shard RSS")
	for _, s := range results {
		if s.layout.shards == 1 {
			continue
		}
		for _, o := range results {
			if o.layout.shards != 1 || o.objects != s.objects {
				continue
			}
			st, ot := s.totals(), o.totals()
			fmt.Printf("%-8d %-18s %11.2fx %13.2fx %11.2fx %11.2fx %13.2fx\n", s.objects, s.layout.name, s.ready.Seconds()/o.ready.Seconds(),
				(s.ready-s.created).Seconds()/(o.ready-o.created).Seconds(), st.cpu.Seconds()/ot.cpu.Seconds(), float64(st.peak)/float64(ot.peak), float64(st.maxPeak)/float64(ot.maxPeak))
		}
	}
	fmt.Printf("(time: from the first creation to all Ready; after create: from the last creation to all Ready, the\n")
	fmt.Printf("reconciles that did not overlap the creation; RSS: peaks, VmHWM. Below 1: the shards take less.)\n")
}

// linearity prints each layout's cost per object at the largest size over the smallest: 1.0
// is linear, below it the fixed costs are spread thinner, above it each object costs more
// when there are more.
func linearity(c config, results []result) {
	sizes := c.sizes()
	fmt.Printf("\n%-16s %-22s %10s %10s %8s\n", "layout", "per object", fmt.Sprintf("at %d", sizes[0]), fmt.Sprintf("at %d", sizes[2]), "ratio")
	for _, small := range results {
		if small.objects != sizes[0] {
			continue
		}
		for _, large := range results {
			if large.objects != sizes[2] || large.layout.name != small.layout.name {
				continue
			}
			sw, sc, sk := small.perObject()
			lw, lc, lk := large.perObject()
			row := func(what string, s, l float64) {
				fmt.Printf("%-16s %-22s %10.2f %10.2f %7.2fx %s\n", small.layout.name, what, s, l, l/s, verdict(l/s))
			}
			row("ms to Ready", sw, lw)
			row("ms of manager CPU", sc, lc)
			row("KiB of RSS beyond idle", sk, lk)
		}
	}
}

func verdict(ratio float64) string {
	if ratio <= 1.25 {
		return "linear or better"
	}
	return "grows faster than linear"
}

func problems(results []result) {
	fmt.Println()
	for _, r := range results {
		fmt.Printf("%s, %d objects: all Ready, %d correctness problems; %d of %d objects named in the managers' logs (each checked\n",
			r.layout.name, r.objects, len(r.problems), r.logged, r.objects)
		fmt.Printf("  to be in its own manager's only); every artifact checked in its own manager's storage and URL only.\n")
	}
	for _, r := range results {
		if len(r.problems) == 0 {
			continue
		}
		fmt.Printf("\n%s, %d objects: %d correctness problems\n", r.layout.name, r.objects, len(r.problems))
		for i, p := range r.problems {
			if i == 20 {
				fmt.Printf("  ... and %d more\n", len(r.problems)-i)
				break
			}
			fmt.Printf("  %s\n", p)
		}
	}
}
