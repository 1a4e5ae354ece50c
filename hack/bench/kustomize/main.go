// Command kustomize measures a Kustomization's build and apply of 1,000 objects against
// PERFORMANCE.md's "The next integrations" (Kustomization applying 1,000 ConfigMaps): the first
// apply, and a reconcile that changes nothing, which must not write to the API server. Azimuth
// runs as the Kustomization controller runs it: internal/kustomize.Build on the directory, then
// internal/apply.Manager.Apply with the process's apply.Cache (internal/manager/setup.go) and a
// client reading the API server directly. The references, on the same manifests in the same run:
//
//   - a client-go loop of what `kubectl apply --server-side --force-conflicts -f <dir>` sends:
//     read and decode the manifests, then one server-side apply PATCH per object, one at a time;
//     unchanged, it sends them all again (the API server makes them no-ops, but serves them);
//   - the real `kubectl apply --server-side -k <dir>` when kubectl is on the PATH: kustomize build
//     and apply, like Azimuth's two steps, its requests read from its -v=6 log; with
//     --validate=false unless -kubectl-validate (its default validation costs it about 30 s of
//     CPU per 1,000 objects).
//
// Everything talks to one real kube-apiserver and etcd (internal/testenv, binaries in bin/ from
// `make tools`). Each run gives every side fresh namespaces and its own copy of the manifests;
// the sides alternate their order from run to run, and the report gives medians. Azimuth and the
// client-go loop each run in a child process of their own, so that the memory figures are each
// side's alone; kubectl is a process per phase. Then the build alone: kustomize.Build beside
// kustomize's own build (krusty, in this process) and `kubectl kustomize`.
//
// The program exits 1 when an Azimuth no-change apply sent any write, a dry-run included
// (PERFORMANCE.md counts dry-runs as writes), or moved any object's resourceVersion: a
// correctness property. Times are printed, never asserted.
//
//	go run ./hack/bench/kustomize [-objects 1000 -namespaces 4 -runs 3 -builds 5 -kubectl kubectl -kubectl-validate]
package main

import (
	"bytes"
	"context"
	"encoding/json"
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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// Pdeathsig follows the thread that started the child: keep the main goroutine on the main
// thread, which lives as long as the process.
func init() { runtime.LockOSThread() }

func main() {
	var (
		objects    = flag.Int("objects", 1000, "objects in the manifests")
		namespaces = flag.Int("namespaces", 4, "namespaces the objects are spread over (fresh ones for each side and run)")
		runs       = flag.Int("runs", 3, "runs of every side; the report gives medians")
		builds     = flag.Int("builds", 5, "builds of each kind in the build comparison (0: none)")
		kubectlBin = flag.String("kubectl", "kubectl", `kubectl to run as a third side, looked up in PATH ("": none)`)
		validate   = flag.Bool("kubectl-validate", false, "run kubectl with its default --validate=strict (about 30 s of its CPU per apply of 1,000 objects) rather than --validate=false")
		keep       = flag.Bool("keep", false, "keep the temporary directory with the manifests")
		child      = flag.String("child", "", "internal: run as a child process with these arguments")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if *child != "" {
		err = runChild(ctx, *child)
	} else {
		if *objects < 1 || *objects > 10000 || *namespaces < 1 || *namespaces > 100 || *runs < 1 || *runs > 50 || *builds < 0 || *builds > 100 {
			fmt.Fprintln(os.Stderr, "kustomize: -objects 1..10000, -namespaces 1..100, -runs 1..50, -builds 0..100")
			os.Exit(2)
		}
		err = run(ctx, config{objects: *objects, namespaces: *namespaces, runs: *runs, builds: *builds, kubectl: *kubectlBin, validate: *validate, keep: *keep})
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kustomize:", err)
		os.Exit(1)
	}
}

type config struct {
	objects, namespaces, runs, builds int
	kubectl                           string
	validate, keep                    bool
}

// errWrote is the correctness failure: a no-change apply of Azimuth's wrote.
var errWrote = errors.New("an Azimuth no-change apply wrote to the API server (a dry-run counts as a write)")

func run(ctx context.Context, c config) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "azimuth-bench-kustomize-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	logf("starting kube-apiserver and etcd")
	env, err := testenv.Start(ctx, &testenv.Options{BinDir: filepath.Join(root, "bin")})
	if err != nil {
		return err
	}
	defer env.Stop()
	servers, err := serverPIDs()
	if err != nil {
		return err
	}
	admin, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		return err
	}
	snapCfg := rest.CopyConfig(env.Config)
	snapCfg.QPS = -1
	snap, err := newSnapshotter(snapCfg)
	if err != nil {
		return err
	}

	sides := []string{sideAzimuth, sideReference}
	var kc *kubectl
	kubectlVersion := ""
	if c.kubectl != "" {
		if path, err := exec.LookPath(c.kubectl); err != nil {
			logf("no kubectl (%v): the kubectl side is skipped", err)
		} else {
			kc = &kubectl{path: path, kubeconfig: env.Kubeconfig, cacheDir: filepath.Join(tmp, "kubectl-cache"), validate: c.validate}
			if kubectlVersion, err = kc.warm(ctx); err != nil {
				return err
			}
			sides = append(sides, sideKubectl)
		}
	}

	results := map[string][]childResult{}
	for r := range c.runs {
		order := append(append([]string{}, sides[r%len(sides):]...), sides[:r%len(sides)]...)
		for _, side := range order {
			ns := make([]string, c.namespaces)
			for i := range ns {
				ns[i] = fmt.Sprintf("%s-r%d-%d", short[side], r, i)
				if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns[i]}}, metav1.CreateOptions{}); err != nil {
					return err
				}
			}
			dir := filepath.Join(tmp, fmt.Sprintf("%s-r%d", short[side], r))
			if err := writeManifests(dir, c.objects, ns); err != nil {
				return err
			}
			start := time.Now()
			var res childResult
			if side == sideKubectl {
				res, err = runKubectl(ctx, kc, snap, dir, ns, servers, c.objects)
			} else {
				res, err = runChildProcess(ctx, self, childArgs{Side: side, Dir: dir, Kubeconfig: env.Kubeconfig, Namespaces: ns, Servers: servers, Objects: c.objects})
			}
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, side, err)
			}
			logf("run %d/%d, %s: %s", r+1, c.runs, side, summary(res, time.Since(start)))
			results[side] = append(results[side], res)
		}
	}

	var bt buildTimes
	if c.builds > 0 {
		logf("comparing builds")
		dir := filepath.Join(tmp, "build")
		if err := writeManifests(dir, c.objects, []string{"build-0"}); err != nil {
			return err
		}
		if bt, err = compareBuilds(ctx, dir, c.builds, kc); err != nil {
			return err
		}
		bt.kubectlVersion = kubectlVersion
	}
	return report(c, sides, results, bt, kubectlVersion)
}

var short = map[string]string{sideAzimuth: "az", sideReference: "ref", sideKubectl: "kubectl"}

// runChildProcess runs one side in a child process of this program and reads its result.
func runChildProcess(ctx context.Context, self string, args childArgs) (childResult, error) {
	encoded, err := json.Marshal(args)
	if err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-child", string(encoded))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, err
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return childResult{}, fmt.Errorf("the child's result: %w: %q", err, out.String())
	}
	return res, nil
}

// runKubectl applies dir with the real kubectl, first and unchanged.
func runKubectl(ctx context.Context, kc *kubectl, snap *snapshotter, dir string, ns []string, servers []int, n int) (childResult, error) {
	res := childResult{Side: sideKubectl, BaseRSSMiB: -1}
	var before map[string]string
	for _, name := range []string{"first", "no-change"} {
		p, peak, err := kc.run(ctx, name, dir, servers, n)
		if err != nil {
			return res, err
		}
		after, err := snap.take(ctx, ns)
		if err != nil {
			return res, err
		}
		if len(after) != n {
			return res, fmt.Errorf("after %s: %d objects in the namespaces, want %d", name, len(after), n)
		}
		p.Moved, before = moved(before, after), after
		res.HWMMiB = max(res.HWMMiB, peak)
		res.Phases = append(res.Phases, p)
	}
	return res, nil
}

func summary(res childResult, took time.Duration) string {
	var parts []string
	for _, p := range res.Phases {
		parts = append(parts, fmt.Sprintf("%s %.0f ms, %d requests, %d writes", p.Name, p.WallMS, p.requests(), p.Writes))
	}
	return strings.Join(parts, "; ") + fmt.Sprintf(" (%.1f s with setup)", took.Seconds())
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

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
