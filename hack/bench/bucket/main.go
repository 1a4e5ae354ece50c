// Command bucket measures a Bucket's sync of an Azure Blob Storage container against
// PERFORMANCE.md's "The next integrations" (Bucket, 10,000 blobs of 4 KiB in Azurite): the first
// sync into an empty artifact storage, and an unchanged sync, which must download nothing.
//
// The local Azure runs in this process with its Blob service (Azurite behind the gateway, on
// https://azimuthlocal.blob.core.windows.net, the default directory's account); the blobs are
// uploaded once to a fresh container with the account's shared key, and every side reads them
// with that key. Each side runs in a child process of its own, so that its CPU and memory are its
// own; the sides alternate their order from run to run, and the report gives medians:
//
//   - Azimuth: the Bucket reconciler's steps (internal/controller/bucket's reconcile and store),
//     run here through their exported parts: bucket.Factory.Open (the access.Resolver reading the
//     object's accountKey secret), List, the revision compared with the stored artifact's, then
//     a directory in the storage, Fetch (bucket.Concurrency downloads at once), artifact.Archive
//     into artifact.Storage, Commit (fsync), the index beside it, GarbageCollect. The first sync
//     starts from an empty storage; the unchanged sync lists, finds the stored revision and stops.
//     Neither goes through the Kubernetes API: no control plane, no status patch.
//   - the reference: a plain azblob loop: list with the flat pager, then DownloadStream every
//     blob, bucket.Concurrency at a time (the same as Azimuth), each written to a file of a
//     temporary directory. It keeps no index: its unchanged sync downloads everything again.
//
// Requests are counted by the local Blob service itself (its observer names each REST operation)
// and bytes by a wrapper around it, both attributed to a phase by the child's clock. What each
// side wrote is checked after the phase, untimed, against the uploaded contents.
//
// The program exits 1 when an Azimuth unchanged sync downloaded any blob (a GetBlob request) or
// stored a new artifact, or when a side's files do not hold what was uploaded: correctness
// properties. Times are printed, never asserted.
//
//	go run ./hack/bench/bucket [-blobs 10000 -size 4096 -runs 1 -persist -keep]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	localblob "github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Pdeathsig follows the thread that started the child: keep the main goroutine on the main
// thread, which lives as long as the process.
func init() { runtime.LockOSThread() }

// account is the default directory's storage account.
const account = "azimuthlocal"

func main() {
	var (
		blobs   = flag.Int("blobs", 10000, "blobs in the container")
		size    = flag.Int("size", 4096, "bytes of each blob")
		runs    = flag.Int("runs", 1, "runs of every side, alternating; the report gives medians (one run of 10,000 blobs takes about 5 minutes on 2 CPUs)")
		persist = flag.Bool("persist", false, "Azurite keeps blobs on disk (--location, as `azimuth dev up`) rather than in memory")
		keep    = flag.Bool("keep", false, "keep the temporary directory (artifacts, the reference's files)")
		child   = flag.String("child", "", "internal: run as a child process with these arguments")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if *child != "" {
		err = runChild(ctx, *child)
	} else {
		if *blobs < 1 || *blobs > 50000 || *size < 1 || *size > 1<<20 || *runs < 1 || *runs > 50 {
			fmt.Fprintln(os.Stderr, "bucket: -blobs 1..50000, -size 1..1048576, -runs 1..50")
			os.Exit(2)
		}
		err = run(ctx, config{blobs: *blobs, size: *size, runs: *runs, keep: *keep, persist: *persist})
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bucket:", err)
		os.Exit(1)
	}
}

type config struct {
	blobs, size, runs int
	keep, persist     bool
}

// errIncorrect is the correctness failure: see the package documentation.
var errIncorrect = errors.New("a correctness property failed (see FAIL above)")

func run(ctx context.Context, c config) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	// Azurite is found from the working directory (hack/azurite of the repository).
	if err := os.Chdir(root); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "azimuth-bench-bucket-")
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

	logf("starting the local Azure with Blob (Azurite)")
	azure, err := azurelocal.Start(ctx, &azurelocal.Options{StateDir: filepath.Join(tmp, "local-azure"), Blob: &azurelocal.BlobOptions{Persist: c.persist}})
	if err != nil {
		return err
	}
	defer azure.Stop()
	rec := &recorder{}
	srv, err := localblob.New(azure.Directory(), azure.Entra().Verifier(), azure.Blob().Azurite(), localblob.WithObserver(rec.operation))
	if err != nil {
		return err
	}
	for _, h := range localblob.Hosts() {
		if err := azure.Register(h, rec.wrap(srv)); err != nil {
			return err
		}
	}
	sa, ok := azure.Directory().StorageAccount(account)
	if !ok || len(sa.Keys) == 0 {
		return fmt.Errorf("the default directory has no storage account %s with a key", account)
	}
	servers, err := serverPIDs()
	if err != nil {
		return err
	}
	caFile := filepath.Join(tmp, "ca.pem")
	if err := os.WriteFile(caFile, azure.CAPEM(), 0o644); err != nil {
		return err
	}

	container := fmt.Sprintf("bench-%d", time.Now().Unix())
	base := childArgs{
		Endpoint: "https://" + account + localblob.Suffix, Account: account, Key: sa.Keys[0], Container: container,
		ConnectTo: azure.ConnectTo(), CAFile: caFile, Servers: servers, Blobs: c.blobs, Size: c.size,
	}
	logf("uploading %d blobs of %d bytes to container %s", c.blobs, c.size, container)
	start := time.Now()
	if err := upload(ctx, base); err != nil {
		return err
	}
	logf("uploaded in %.1f s", time.Since(start).Seconds())
	rec.drain()

	sides := []string{sideAzimuth, sideReference}
	results := map[string][]childResult{}
	for r := range c.runs {
		order := append(append([]string{}, sides[r%len(sides):]...), sides[:r%len(sides)]...)
		for _, side := range order {
			args := base
			args.Side = side
			args.Dir = filepath.Join(tmp, fmt.Sprintf("%s-r%d", short[side], r))
			rec.drain()
			start := time.Now()
			res, err := runChildProcess(ctx, self, args)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r+1, side, err)
			}
			end := time.Now().UnixNano()
			events := rec.drain()
			for i, p := range res.Phases {
				until := end
				if i+1 < len(res.Phases) {
					until = res.Phases[i+1].StartNS
				}
				p.Requests, p.Statuses, p.WireBytes = count(events, p.StartNS, until)
			}
			logf("run %d/%d, %s: %s", r+1, c.runs, side, summary(res, time.Since(start)))
			results[side] = append(results[side], res)
			if !c.keep {
				os.RemoveAll(args.Dir)
			}
		}
	}
	return report(c, sides, results)
}

var short = map[string]string{sideAzimuth: "az", sideReference: "ref"}

// upload creates the container and puts the blobs, 32 at a time, with the account's key.
func upload(ctx context.Context, a childArgs) error {
	hc, err := httpClient(a)
	if err != nil {
		return err
	}
	cred, err := azblob.NewSharedKeyCredential(a.Account, a.Key)
	if err != nil {
		return err
	}
	c, err := azblob.NewClientWithSharedKeyCredential(a.Endpoint+"/", cred, &azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc}})
	if err != nil {
		return err
	}
	if _, err := c.CreateContainer(ctx, a.Container, nil); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	names := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range names {
				if _, err := c.UploadBuffer(ctx, a.Container, blobName(i), content(i, a.Size), nil); err != nil {
					cancel(fmt.Errorf("uploading %s: %w", blobName(i), err))
				}
			}
		})
	}
	for i := range a.Blobs {
		select {
		case names <- i:
		case <-ctx.Done():
		}
	}
	close(names)
	wg.Wait()
	return context.Cause(ctx)
}

// httpClient is Azimuth's transport to the local Azure: its connect-to map and CA.
func httpClient(a childArgs) (*http.Client, error) {
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo, "\n"))
	if err != nil {
		return nil, err
	}
	rt, err := transport.New(a.transportOptions(rules))
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// recorder counts the requests the local Blob service answers, by operation (its observer's
// names) and status, and the bytes of the answers, each with the time it was answered.
type recorder struct {
	mu     sync.Mutex
	events []event
}

type event struct {
	at     int64
	op     string // "" for the bytes of an answer
	status int
	bytes  int64
}

func (r *recorder) operation(rec localblob.Record) {
	op := rec.Operation
	if op == "" {
		op = "other"
	}
	r.add(event{at: time.Now().UnixNano(), op: op, status: rec.Status})
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// wrap counts the bytes of h's answers.
func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, req)
		r.add(event{at: time.Now().UnixNano(), bytes: cw.n})
	})
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection, for the proxy's flushes.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// drain returns the events recorded so far, and forgets them.
func (r *recorder) drain() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// count counts the events answered in [from, until): requests by operation and by "operation
// status", and the bytes of the answers.
func count(events []event, from, until int64) (ops map[string]int, statuses map[string]int, wire int64) {
	ops, statuses = map[string]int{}, map[string]int{}
	for _, e := range events {
		if e.at < from || e.at >= until {
			continue
		}
		if e.op == "" {
			wire += e.bytes
			continue
		}
		ops[e.op]++
		statuses[e.op+" "+strconv.Itoa(e.status)]++
	}
	return ops, statuses, wire
}

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

func summary(res childResult, took time.Duration) string {
	var parts []string
	for _, p := range res.Phases {
		parts = append(parts, fmt.Sprintf("%s %.0f ms, %d GetBlob, %d requests", p.Name, p.WallMS, p.Requests["GetBlob"], p.requests()))
	}
	return strings.Join(parts, "; ") + fmt.Sprintf(" (%.1f s with the process)", took.Seconds())
}

// serverPIDs are the processes that serve the blobs: this one (the gateway and the Blob
// service's checks) and Azurite's, which this one started.
func serverPIDs() ([]int, error) {
	self := os.Getpid()
	pids := []int{self}
	parent := map[int]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := proc.StatFields(pid)
		if err != nil || len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			parent[pid] = ppid
		}
	}
	// Azurite's descendants of this process (azurite-blob may be a script that starts node).
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == self {
				cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				if bytes.Contains(cmdline, []byte("azurite")) {
					pids = append(pids, pid)
				}
				break
			}
		}
	}
	if len(pids) < 2 {
		return nil, errors.New("found no Azurite process among this process's descendants")
	}
	return pids, nil
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
