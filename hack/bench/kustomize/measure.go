package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
)

// phase is what one side did in one phase of one run: the figures the report prints.
type phase struct {
	Name string `json:"name"`
	// WallMS is the whole phase: build (or reading the manifests) and apply. BuildMS is its
	// first part.
	WallMS  float64 `json:"wallMS"`
	BuildMS float64 `json:"buildMS"`
	// ClientCPUMS is the CPU (user + system) of the process that applied, over the phase;
	// ServerCPUMS that of kube-apiserver and etcd.
	ClientCPUMS float64 `json:"clientCPUMS"`
	ServerCPUMS float64 `json:"serverCPUMS"`
	// Requests counts the requests sent, by "VERB" ("PATCH dry-run" for dry-runs), Codes by
	// "VERB status".
	Requests map[string]int `json:"requests"`
	Codes    map[string]int `json:"codes"`
	// Writes are the requests that may change the API server's state: neither GET nor dry-run.
	// WriteSample names the first few.
	Writes      int      `json:"writes"`
	DryRuns     int      `json:"dryRuns"`
	WriteSample []string `json:"writeSample,omitempty"`
	// AllocMiB is what the phase allocated on the Go heap; PeakHeapMiB the peak growth of the
	// live heap over its size when the phase began (sampled every few ms); PeakRSSMiB the same
	// for the process's resident set. -1: not measured (another process applied).
	AllocMiB    float64 `json:"allocMiB"`
	PeakHeapMiB float64 `json:"peakHeapMiB"`
	PeakRSSMiB  float64 `json:"peakRSSMiB"`
	// Objects is how many objects the phase applied; Outcome says what the applier reported for
	// them ("1000 created"); Moved how many of the side's objects have another resourceVersion
	// after the phase than before it (-1 in the first phase: they did not exist).
	Objects int    `json:"objects"`
	Outcome string `json:"outcome"`
	Moved   int    `json:"moved"`
}

func (p *phase) requests() int {
	n := 0
	for _, v := range p.Requests {
		n += v
	}
	return n
}

// counter counts the requests a client sends, by verb and by answer, through rest.Config's
// WrapTransport.
type counter struct {
	mu       sync.Mutex
	requests map[string]int
	codes    map[string]int
	writes   []string
	nWrites  int
	dryRuns  int
}

func newCounter() *counter {
	return &counter{requests: map[string]int{}, codes: map[string]int{}}
}

func (c *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		verb := r.Method
		dry := r.URL.Query().Has("dryRun")
		if dry {
			verb += " dry-run"
		}
		resp, err := rt.RoundTrip(r)
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.requests[verb]++
		c.codes[verb+" "+code]++
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
		case dry:
			c.dryRuns++
		default:
			c.nWrites++
			if len(c.writes) < 5 {
				c.writes = append(c.writes, r.Method+" "+r.URL.Path)
			}
		}
		return resp, err
	})
}

// take moves the counts since the last take into p and starts again from zero.
func (c *counter) take(p *phase) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p != nil {
		p.Requests, p.Codes, p.Writes, p.DryRuns, p.WriteSample = c.requests, c.codes, c.nWrites, c.dryRuns, c.writes
	}
	c.requests, c.codes, c.writes, c.nWrites, c.dryRuns = map[string]int{}, map[string]int{}, nil, 0, 0
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// measure runs fn as the phase name of this process, with its requests counted by cnt and the
// CPU of the server processes servers read around it.
func measure(name string, cnt *counter, servers []int, fn func(p *phase) error) (*phase, error) {
	p := &phase{Name: name}
	runtime.GC()
	debug.FreeOSMemory() // so that the phase's RSS growth is its own, not the last phase's garbage
	baseHeap, baseAllocs := proc.HeapStats()
	baseRSS, _ := proc.Status("self", "VmRSS")
	cpu0 := proc.SelfCPU()
	srv0 := proc.CPU(servers)
	cnt.take(nil)

	stop := proc.Sample()
	start := time.Now()
	err := fn(p)
	p.WallMS = proc.MS(time.Since(start))
	peakHeap, peakRSS := stop()

	cnt.take(p)
	p.ClientCPUMS = proc.MS(proc.SelfCPU() - cpu0)
	p.ServerCPUMS = proc.MS(proc.CPU(servers) - srv0)
	_, allocs := proc.HeapStats()
	p.AllocMiB = proc.MiB(int64(allocs - baseAllocs))
	p.PeakHeapMiB = proc.MiB(max(0, int64(peakHeap)-int64(baseHeap)))
	p.PeakRSSMiB = proc.MiB(max(0, peakRSS-baseRSS))
	return p, err
}

// serverPIDs finds this process's kube-apiserver and etcd children, which testenv started.
func serverPIDs() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := strconv.Itoa(os.Getpid())
	var pids []int
	var names []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		comm := string(data[open+1 : end])
		f := strings.Fields(string(data[end+1:]))
		if len(f) > 1 && f[1] == self && (comm == "kube-apiserver" || comm == "etcd") {
			pids = append(pids, pid)
			names = append(names, comm)
		}
	}
	slices.Sort(names)
	if len(pids) != 2 || names[0] != "etcd" || names[1] != "kube-apiserver" {
		return nil, fmt.Errorf("expected kube-apiserver and etcd among this process's children, found %v", names)
	}
	return pids, nil
}
