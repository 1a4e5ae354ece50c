package main

import (
	"runtime"
	"runtime/debug"
	"time"

	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
)

// phase is what one side did in one phase of one run: the figures the report prints.
type phase struct {
	Name string `json:"name"`
	// StartNS is when the phase began, by the child's clock (Unix ns): the parent attributes
	// the Blob service's requests to phases by it.
	StartNS int64   `json:"startNS"`
	WallMS  float64 `json:"wallMS"`
	// CPUMS is the CPU (user + system) of the side's process over the phase; GatewayCPUMS that
	// of the parent, which serves the blobs (the gateway's TLS, the Blob service's checks, the
	// proxy to Azurite), and AzuriteCPUMS Azurite's.
	CPUMS        float64 `json:"cpuMS"`
	GatewayCPUMS float64 `json:"gatewayCPUMS"`
	AzuriteCPUMS float64 `json:"azuriteCPUMS"`
	// AllocMiB is what the phase allocated on the Go heap; PeakHeapMiB the peak growth of the
	// live heap over its size when the phase began, PeakRSSMiB the same for the resident set
	// (sampled every 5 ms).
	AllocMiB    float64 `json:"allocMiB"`
	PeakHeapMiB float64 `json:"peakHeapMiB"`
	PeakRSSMiB  float64 `json:"peakRSSMiB"`
	// Listed is how many blobs the listing gave; Downloaded how many the side says it
	// downloaded; Bytes the bytes of blobs it wrote to files; ArtifactBytes the size of the
	// artifact written (Azimuth), ArtifactWritten whether one was.
	Listed          int    `json:"listed"`
	Downloaded      int    `json:"downloaded"`
	Bytes           int64  `json:"bytes"`
	ArtifactBytes   int64  `json:"artifactBytes"`
	ArtifactWritten bool   `json:"artifactWritten"`
	Outcome         string `json:"outcome"`
	// CheckError is what the check after the phase found wrong: the files (or the artifact)
	// must hold every uploaded blob with its content. "" when they do.
	CheckError string `json:"checkError,omitempty"`

	// Filled by the parent from the Blob service: requests by operation, by "operation
	// status", and the bytes of the answers.
	Requests  map[string]int `json:"requests"`
	Statuses  map[string]int `json:"statuses"`
	WireBytes int64          `json:"wireBytes"`
}

func (p *phase) requests() int {
	n := 0
	for _, v := range p.Requests {
		n += v
	}
	return n
}

// measure runs fn as the phase name of this process, with the CPU of the server processes
// servers (the parent first, then Azurite's) read around it.
func measure(name string, servers []int, fn func(p *phase) error) (*phase, error) {
	p := &phase{Name: name}
	runtime.GC()
	debug.FreeOSMemory() // so that the phase's RSS growth is its own, not the last phase's garbage
	baseHeap, baseAllocs := proc.HeapStats()
	baseRSS, _ := proc.Status("self", "VmRSS")
	cpu0 := proc.SelfCPU()
	gw0, az0 := proc.CPU(servers[:1]), proc.CPU(servers[1:])

	stop := proc.Sample()
	start := time.Now()
	p.StartNS = start.UnixNano()
	err := fn(p)
	p.WallMS = proc.MS(time.Since(start))
	peakHeap, peakRSS := stop()

	p.CPUMS = proc.MS(proc.SelfCPU() - cpu0)
	p.GatewayCPUMS = proc.MS(proc.CPU(servers[:1]) - gw0)
	p.AzuriteCPUMS = proc.MS(proc.CPU(servers[1:]) - az0)
	_, allocs := proc.HeapStats()
	p.AllocMiB = proc.MiB(int64(allocs - baseAllocs))
	p.PeakHeapMiB = proc.MiB(max(0, int64(peakHeap)-int64(baseHeap)))
	p.PeakRSSMiB = proc.MiB(max(0, peakRSS-baseRSS))
	return p, err
}
