package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
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
	baseHeap, baseAllocs := heapStats()
	baseRSS, _ := procStatus("self", "VmRSS")
	cpu0 := selfCPU()
	gw0, az0 := serverCPU(servers[:1]), serverCPU(servers[1:])

	stop := sample()
	start := time.Now()
	p.StartNS = start.UnixNano()
	err := fn(p)
	p.WallMS = ms(time.Since(start))
	peakHeap, peakRSS := stop()

	p.CPUMS = ms(selfCPU() - cpu0)
	p.GatewayCPUMS = ms(serverCPU(servers[:1]) - gw0)
	p.AzuriteCPUMS = ms(serverCPU(servers[1:]) - az0)
	_, allocs := heapStats()
	p.AllocMiB = mib(int64(allocs - baseAllocs))
	p.PeakHeapMiB = mib(max(0, int64(peakHeap)-int64(baseHeap)))
	p.PeakRSSMiB = mib(max(0, peakRSS-baseRSS))
	return p, err
}

// sample reads the live heap and the resident set every 5 ms until stop is called, which
// returns their peaks.
func sample() (stop func() (heap uint64, rss int64)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peakHeap uint64
	var peakRSS int64
	read := func() {
		if h, _ := heapStats(); h > peakHeap {
			peakHeap = h
		}
		if r, err := procStatus("self", "VmRSS"); err == nil && r > peakRSS {
			peakRSS = r
		}
	}
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() (uint64, int64) {
		close(done)
		wg.Wait()
		read()
		return peakHeap, peakRSS
	}
}

var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"}, // live and not yet swept objects
	{Name: "/gc/heap/allocs:bytes"},              // allocated since the process began
}

var heapMu sync.Mutex

// heapStats returns the bytes of heap objects and of all allocations so far, without stopping
// the world as runtime.ReadMemStats does.
func heapStats() (objects, allocs uint64) {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSamples)
	return heapSamples[0].Value.Uint64(), heapSamples[1].Value.Uint64()
}

// procStatus reads a "kB" field of /proc/<pid>/status, in bytes.
func procStatus(pid, field string) (int64, error) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%s/status", field, pid)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const clockTicks = 100 // USER_HZ: utime and stime in /proc/PID/stat are in 1/100 s on Linux

// serverCPU adds the CPU time of pids, from /proc/PID/stat.
func serverCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		f, err := statFields(pid)
		if err != nil || len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of stat
		st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
		total += time.Duration(ut+st) * time.Second / clockTicks
	}
	return total
}

// statFields returns the fields of /proc/PID/stat after the command name, the third first.
func statFields(pid int) ([]string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return strings.Fields(string(data[i+1:])), nil
}

func mib(b int64) float64        { return float64(b) / (1 << 20) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
