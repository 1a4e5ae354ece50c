// Command shards measures scaling out by sharding (docs/scale-out.md): the same objects
// reconciled by one `azimuth controller` and by several, each selecting one shard with
// --watch-label-selector sharding.fluxcd.io/key=shard-K, beside the main manager
// (!sharding.fluxcd.io/key, which has nothing) as Flux's sharding guide runs it. Every manager
// is a child process of its own, as deployed: leader election on (a Lease per shard), its own
// artifact server advertised on its own address (--storage-adv-addr), every controller.
//
// The objects are OCIRepositories pulling one small artifact from the local ACR (as the node's
// managed identity, through IMDS) and as many Kustomizations applying it, one ConfigMap each,
// each Kustomization in the shard after its source's: it fetches the artifact from another
// shard's server. They are split evenly over the shard keys. Each layout runs at a quarter, a
// half and all of -objects, each on a fresh control plane (internal/testenv) against one local
// Azure in this process; it prints the time from the first creation to all Ready, the peak RSS
// and CPU of every manager, the ratios of the sharded layout to the single one, and how the
// cost per object moves from a quarter to all of the objects (1.0: linear).
//
//	go run ./hack/bench/shards [-objects 5000 -shards 4 -quick]
//
// It exits 1 on a correctness failure only (an object not Ready, an object reconciled by a
// manager whose selector does not select it, a Kustomization without its source's revision),
// never on a time. In docs/architecture.md it measures the whole flow from outside, with
// internal/manager's sharding in several processes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/azimuth-gitops/azimuth/azurelocal"
)

// Pdeathsig follows the thread that started the child: keep the main goroutine on the main
// thread, which lives as long as the process.
func init() { runtime.LockOSThread() }

type config struct {
	objects, shards, namespaces int
	kustomizations, main, keep  bool
	timeout                     time.Duration
}

func main() {
	var c config
	flag.IntVar(&c.objects, "objects", 5000, "objects at the largest size, split evenly over the shards (OCIRepositories and Kustomizations, half each)")
	flag.IntVar(&c.shards, "shards", 4, "shards of the sharded layout")
	flag.IntVar(&c.namespaces, "namespaces", 5, "namespaces to spread the objects over")
	flag.BoolVar(&c.kustomizations, "kustomizations", true, "half the objects are Kustomizations of the OCIRepositories of another shard (false: all OCIRepositories)")
	flag.BoolVar(&c.main, "main", true, "run the main manager (!"+shardLabel+") beside the shards")
	flag.DurationVar(&c.timeout, "ready-timeout", 20*time.Minute, "how long to wait for the objects of one run to become Ready")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory (the managers' logs and storage)")
	quick := flag.Bool("quick", false, "200 objects: a run of a few minutes")
	flag.Parse()
	if *quick {
		c.objects = 200
	}
	if err := c.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "shards:", err)
		os.Exit(2)
	}
	ctrllog.SetLogger(logr.Discard()) // this process's clients log nothing worth reading
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	results, err := run(ctx, c)
	stop()
	report(c, results)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shards:", err)
		os.Exit(1)
	}
	if n := countProblems(results); n > 0 {
		fmt.Fprintf(os.Stderr, "shards: %d correctness problems (above)\n", n)
		os.Exit(1)
	}
}

// sizes are the object counts of the runs: a quarter, a half and all of c.objects.
func (c config) sizes() []int { return []int{c.objects / 4, c.objects / 2, c.objects} }

func (c config) validate() error {
	switch {
	case c.shards < 2 || c.shards > 16:
		return errors.New("-shards must be 2..16")
	case c.namespaces < 1 || c.namespaces > 100:
		return errors.New("-namespaces must be 1..100")
	case c.objects > 20000:
		return errors.New("-objects must be at most 20000")
	case c.objects/4 < 2*c.shards:
		return fmt.Errorf("-objects must be at least %d: a quarter of it must give every shard objects of both kinds", 8*c.shards)
	}
	return nil
}

// run builds the controller, starts the local Azure, pushes the artifact and runs both layouts
// at every size, alternating which goes first. It returns the results so far on error.
func run(ctx context.Context, c config) ([]result, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "azimuth-bench-shards-")
	if err != nil {
		return nil, err
	}
	if c.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	e := env{bin: filepath.Join(tmp, "azimuth"), binDir: filepath.Join(root, "bin"), tmp: tmp, timeout: c.timeout}
	logf("building %s; load average %s", e.bin, loadavg())
	build := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "./cmd/azimuth")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building azimuth: %w", err)
	}
	logf("starting the local Azure")
	if e.az, err = azurelocal.Start(ctx, &azurelocal.Options{StateDir: filepath.Join(tmp, "azure")}); err != nil {
		return nil, fmt.Errorf("starting the local Azure: %w", err)
	}
	defer e.az.Stop()
	if e.host, err = pushArtifact(ctx, e.az); err != nil {
		return nil, err
	}
	var results []result
	for i, n := range c.sizes() {
		layouts := []layout{single(), sharded(c.shards, c.main)}
		if i%2 == 1 {
			layouts[0], layouts[1] = layouts[1], layouts[0]
		}
		for _, l := range layouts {
			w := workload{objects: n, shards: c.shards, namespaces: c.namespaces, kustomizations: c.kustomizations,
				decoys: l.shards > 1, host: e.host}
			r, err := runOnce(ctx, e, w, l)
			if err != nil {
				return results, fmt.Errorf("%s, %d objects: %w", l.name, n, err)
			}
			results = append(results, r)
		}
	}
	return results, nil
}

func countProblems(results []result) int {
	n := 0
	for _, r := range results {
		n += len(r.problems)
	}
	return n
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the azimuth module")
	}
	return filepath.Dir(mod), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func pid() int { return os.Getpid() }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
