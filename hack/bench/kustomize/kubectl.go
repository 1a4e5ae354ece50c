package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
	"github.com/azimuth-gitops/azimuth/internal/kustomize"
)

// kubectl runs the real `kubectl apply --server-side -k`, a process per phase.
type kubectl struct {
	path, kubeconfig, cacheDir string
	// validate keeps kubectl's default --validate=strict; otherwise --validate=false. Strict
	// makes kubectl (1.32, 1.33) spend some 30 CPU seconds on 1,000 objects before it sends them (it
	// reads the OpenAPI schema again for each): a real cost of kubectl's, but half a minute per
	// apply puts a run well past the bench's budget.
	validate bool
}

// validation is the --validate flag the applies are run with.
func (k *kubectl) validation() string {
	if k.validate {
		return "--validate=strict"
	}
	return "--validate=false"
}

func (k *kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.path, append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// warm fills kubectl's discovery cache and says which kubectl answers: a running cluster's
// users have that cache already, as the controller has its mapper.
func (k *kubectl) warm(ctx context.Context) (string, error) {
	if out, err := k.command(ctx, "api-resources").CombinedOutput(); err != nil {
		return "", fmt.Errorf("kubectl api-resources: %w: %s", err, out)
	}
	out, err := k.command(ctx, "version", "--output=yaml").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("kubectl version: %w: %s", err, out)
	}
	m := regexp.MustCompile(`(?m)^  gitVersion: (\S+)`).FindSubmatch(out)
	if m == nil {
		return "unknown version", nil
	}
	return string(m[1]), nil
}

// requestLine matches kubectl's -v=6 line for each response, in the klog formats of recent
// versions: `"Response" verb="PATCH" url="..." status="200 OK"` or `PATCH https://... 200 OK`.
var requestLine = regexp.MustCompile(`(?:verb="([A-Z]+)" url="([^"]+)" status="(\d+)|\] ([A-Z]+) (https://\S+) (\d+) )`)

// run applies dir with kubectl as the phase name: its requests come from its -v=6 log, its
// CPU and peak RSS from the kernel's accounting of the process.
func (k *kubectl) run(ctx context.Context, name, dir string, servers []int, n int) (*phase, float64, error) {
	p := &phase{Name: name, Requests: map[string]int{}, Codes: map[string]int{}, BuildMS: -1, AllocMiB: -1, PeakHeapMiB: -1, PeakRSSMiB: -1}
	cmd := k.command(ctx, "apply", "--server-side", "--force-conflicts", "--field-manager=kubectl", k.validation(), "-k", dir, "-v=6")
	stdout := &lineCounter{match: func(l []byte) bool { return bytes.HasSuffix(l, []byte(" serverside-applied")) }}
	stderr := &requestParser{p: p}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	srv0 := proc.CPU(servers)
	start := time.Now()
	err := cmd.Run()
	p.WallMS = proc.MS(time.Since(start))
	p.ServerCPUMS = proc.MS(proc.CPU(servers) - srv0)
	stderr.flush()
	if err != nil {
		return nil, 0, fmt.Errorf("kubectl apply: %w: %s", err, stderr.tail())
	}
	p.ClientCPUMS = proc.MS(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
	var peak float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = float64(ru.Maxrss) / 1024 // KiB
	}
	p.Objects = stdout.n
	p.Outcome = fmt.Sprintf("%d serverside-applied: %s", stdout.n, patchOutcome(p.Codes))
	if stdout.n != n {
		return nil, 0, fmt.Errorf("kubectl %s: %d objects serverside-applied, want %d", name, stdout.n, n)
	}
	return p, peak, nil
}

// lineCounter counts the lines written to it that match.
type lineCounter struct {
	match func(line []byte) bool
	buf   []byte
	n     int
}

func (c *lineCounter) Write(b []byte) (int, error) {
	c.buf = append(c.buf, b...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if c.match(c.buf[:i]) {
			c.n++
		}
		c.buf = c.buf[i+1:]
	}
}

// requestParser counts the requests of kubectl's -v=6 log into p, keeping its last lines for
// an error.
type requestParser struct {
	mu    sync.Mutex
	p     *phase
	buf   []byte
	last  []string
	lines int
}

func (r *requestParser) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, b...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		r.line(string(r.buf[:i]))
		r.buf = r.buf[i+1:]
	}
}

func (r *requestParser) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) > 0 {
		r.line(string(r.buf))
		r.buf = nil
	}
}

func (r *requestParser) line(l string) {
	r.lines++
	r.last = append(r.last, l)
	if len(r.last) > 20 {
		r.last = r.last[1:]
	}
	m := requestLine.FindStringSubmatch(l)
	if m == nil {
		return
	}
	verb, url, code := m[1], m[2], m[3]
	if verb == "" {
		verb, url, code = m[4], m[5], m[6]
	}
	dry := strings.Contains(url, "dryRun=")
	key := verb
	if dry {
		key += " dry-run"
	}
	r.p.Requests[key]++
	r.p.Codes[key+" "+code]++
	switch {
	case verb == "GET" || verb == "HEAD":
	case dry:
		r.p.DryRuns++
	default:
		r.p.Writes++
		if len(r.p.WriteSample) < 5 {
			r.p.WriteSample = append(r.p.WriteSample, verb+" "+url)
		}
	}
}

func (r *requestParser) tail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.last, "\n")
}

// buildTimes are the medians of the build comparison, in ms, and what each build allocated.
type buildTimes struct {
	objects                         int
	azimuth, krusty, kubectl        float64
	azimuthAllocMiB, krustyAllocMiB float64
	kubectlVersion                  string
}

// compareBuilds builds dir count times each, alternating: Azimuth's kustomize.Build (which
// also converts the output to the objects it applies), kustomize's own build in this process
// (krusty with `kustomize build`'s default options, to YAML as it prints it), and `kubectl
// kustomize` (a process: its start and YAML output included) when kubectl is there.
func compareBuilds(ctx context.Context, dir string, count int, k *kubectl) (buildTimes, error) {
	var az, kr, kc, azAlloc, krAlloc []float64
	bt := buildTimes{}
	for i := range count {
		steps := []func() error{
			func() error {
				_, a0 := proc.HeapStats()
				start := time.Now()
				objs, err := kustomize.Build(dir, "", kustomize.Options{})
				az = append(az, proc.MS(time.Since(start)))
				_, a1 := proc.HeapStats()
				azAlloc = append(azAlloc, proc.MiB(int64(a1-a0)))
				bt.objects = len(objs)
				return err
			},
			func() error {
				_, a0 := proc.HeapStats()
				start := time.Now()
				m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
				if err != nil {
					return err
				}
				out, err := m.AsYaml()
				kr = append(kr, proc.MS(time.Since(start)))
				_, a1 := proc.HeapStats()
				krAlloc = append(krAlloc, proc.MiB(int64(a1-a0)))
				if m.Size() != bt.objects && bt.objects != 0 || len(out) == 0 {
					return fmt.Errorf("kustomize built %d objects (%d bytes), Azimuth %d", m.Size(), len(out), bt.objects)
				}
				return err
			},
		}
		if k != nil {
			steps = append(steps, func() error {
				cmd := k.command(ctx, "kustomize", dir)
				out := &lineCounter{match: func(l []byte) bool { return bytes.HasPrefix(l, []byte("kind: ")) }}
				cmd.Stdout = out
				var errBuf bytes.Buffer
				cmd.Stderr = &errBuf
				start := time.Now()
				err := cmd.Run()
				kc = append(kc, proc.MS(time.Since(start)))
				if err != nil {
					return fmt.Errorf("kubectl kustomize: %w: %s", err, errBuf.String())
				}
				if out.n != bt.objects && bt.objects != 0 {
					return fmt.Errorf("kubectl kustomize printed %d objects, Azimuth built %d", out.n, bt.objects)
				}
				return nil
			})
		}
		if i%2 == 1 {
			for l, r := 0, len(steps)-1; l < r; l, r = l+1, r-1 {
				steps[l], steps[r] = steps[r], steps[l]
			}
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return bt, err
			}
		}
	}
	bt.azimuth, bt.krusty, bt.kubectl = proc.Median(az), proc.Median(kr), proc.Median(kc)
	bt.azimuthAllocMiB, bt.krustyAllocMiB = proc.Median(azAlloc), proc.Median(krAlloc)
	return bt, nil
}
