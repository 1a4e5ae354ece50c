// Package proc measures what the benchmarks under hack/bench report of a process: its CPU
// time, heap and resident set, and the CPU time of the servers it drives, read from the Go
// runtime and /proc (Linux).
package proc

import (
	"bytes"
	"fmt"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sample reads the live heap and the resident set every 5 ms until stop is called, which
// returns their peaks.
func Sample() (stop func() (heap uint64, rss int64)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peakHeap uint64
	var peakRSS int64
	read := func() {
		if h, _ := HeapStats(); h > peakHeap {
			peakHeap = h
		}
		if r, err := Status("self", "VmRSS"); err == nil && r > peakRSS {
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

// HeapStats returns the bytes of heap objects and of all allocations so far, without stopping
// the world as runtime.ReadMemStats does.
func HeapStats() (objects, allocs uint64) {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSamples)
	return heapSamples[0].Value.Uint64(), heapSamples[1].Value.Uint64()
}

// Status reads a "kB" field of /proc/<pid>/status, in bytes.
func Status(pid, field string) (int64, error) {
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

func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const clockTicks = 100 // USER_HZ: utime and stime in /proc/PID/stat are in 1/100 s on Linux

// CPU adds the CPU time of the processes pids, from /proc/PID/stat.
func CPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		f, err := StatFields(pid)
		if err != nil || len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of stat
		st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
		total += time.Duration(ut+st) * time.Second / clockTicks
	}
	return total
}

// StatFields returns the fields of /proc/PID/stat after the command name, the third first.
func StatFields(pid int) ([]string, error) {
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

func MiB(b int64) float64        { return float64(b) / (1 << 20) }
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func Median(v []float64) float64 {
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
