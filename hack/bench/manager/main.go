// Command manager measures the memory and CPU of one `azimuth controller` process against
// PERFORMANCE.md's "Artifacts and the manager" and "The next integrations" figures: its RSS idle,
// its CPU per first OCIRepository reconcile (from creation to Ready), its RSS with many
// OCIRepositories, ImageRepositories and ImagePolicies Ready, its CPU per OCIRepository reconcile
// when nothing changed; then the same for GitRepositories of one Azure DevOps repository: CPU per
// first fetch, RSS with them Ready too, CPU and API writes per reconcile when the remote head did
// not move. Everything runs on 127.0.0.1: Kubernetes, the CRDs and the local Azure (with Azure
// DevOps) in this process (devenv), the controller in a child process so that its RSS is the
// manager's alone.
//
// Each figure is compared with a reference of the same kind only: Flux's idle RSS, its CPU per
// first reconcile and its loaded RSS (PERFORMANCE.md, at this command's default counts); the
// unchanged reconciles are printed against PERFORMANCE.md's own targets. Flux's GitRepository
// figures were measured on a 5,000-file repository over git's http-backend, not on these inputs:
// they are printed with no ratio.
//
//	go run ./hack/bench/manager [-ocirepositories 500 -imagerepositories 100 -tags 1000 -gitrepositories 100]
//
// In docs/architecture.md it measures the whole flow from outside, as a user's cluster would run
// it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/hack/bench/internal/proc"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	pushApplication = "flux-secret-app"
	// nodeIdentity is the client ID of the node's managed identity node-kubelet, which has
	// AcrPull through the management group; the controller reaches IMDS through connect-to.
	nodeIdentity = "4817e33f-6b74-4c56-b006-d543ddff26f0"
	artifactRepo = "bench/manifests"
	artifactTag  = "1.0.0"
	imageRepo    = "bench/image"
	// The built-in directory's Azure DevOps repository and its developer's PAT, which can read
	// it (test/e2e/git_test.go).
	adoOrg, adoProject, adoRepo = "azimuth-local", "fleet", "fleet-infra"
	adoURL                      = "https://dev.azure.com/" + adoOrg + "/" + adoProject + "/_git/" + adoRepo
	adoPAT                      = "azimuthlocalpatdonotuseelsewhere"
	gitSecret                   = "git-pat"
	gitBranch                   = "main"
	clockTicks                  = 100 // USER_HZ: utime and stime in /proc/PID/stat are in 1/100 s on Linux
	objectsInFlight             = 16
	pushesInFlight              = 8
	idleWait                    = 5 * time.Second
	pollEvery                   = 2 * time.Second
	// Flux's figures in PERFORMANCE.md, on a local API server: RSS of source-controller +
	// image-reflector-controller idle; with 500 OCIRepositories + with 100 ImageRepositories
	// of 1,000 tags and 100 ImagePolicies; ms of CPU per OCIRepository reconcile with 500 of
	// them, a first reconcile (an unchanged one has no Flux figure).
	fluxIdleMiB                   = 75 + 50
	fluxLoadedMiB                 = 112 + 148
	fluxMsPerFirstRecon           = 15.6
	fluxOCI, fluxImages, fluxTags = 500, 100, 1000 // the counts of those figures
	// Flux's ms of CPU per unchanged GitRepository reconcile (PERFORMANCE.md, "The next
	// integrations"): of a 5,000-file repository over git's http-backend, so not comparable
	// with this command's few files in the local Azure DevOps.
	fluxMsPerUnchangedGit = 7.8
	// PERFORMANCE.md's targets for Azimuth.
	targetIdleMiB                = 60
	targetLoadedMiB              = 130
	targetMsPerUnchangedRecon    = 5.0
	targetMsPerUnchangedGitRecon = 2.0
)

// Pdeathsig follows the thread that started the child: keep the main goroutine on the main
// thread, which lives as long as the process.
func init() { runtime.LockOSThread() }

func main() {
	var (
		nOCI      = flag.Int("ocirepositories", 500, "OCIRepositories to create (0: none, and no OCIRepository rows)")
		nImage    = flag.Int("imagerepositories", 100, "ImageRepositories to create, each with one ImagePolicy")
		nTags     = flag.Int("tags", 1000, "tags of the image repository")
		nGit      = flag.Int("gitrepositories", 100, "GitRepositories to create, all of one Azure DevOps repository")
		nNS       = flag.Int("namespaces", 5, "namespaces to spread the objects over")
		readyWait = flag.Duration("ready-timeout", 10*time.Minute, "how long to wait for the objects to become Ready, and for the reconciles")
		keep      = flag.Bool("keep", false, "keep the temporary directory (controller log, artifacts)")
		profiles  = flag.String("cpuprofile", "", "directory to write the controller's CPU profile of each unchanged phase to (from its metrics address), for go tool pprof")
	)
	flag.Parse()
	if *nOCI < 0 || *nImage < 0 || *nGit < 0 || *nTags < 1 || *nNS < 1 || *nOCI > 10000 || *nImage > 10000 || *nGit > 10000 || *nTags > 10000 || *nNS > 10000 {
		fmt.Fprintln(os.Stderr, "manager: counts out of range (0..10000; -tags and -namespaces 1..10000)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, config{oci: *nOCI, images: *nImage, tags: *nTags, git: *nGit, namespaces: *nNS, readyWait: *readyWait, keep: *keep, profiles: *profiles})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

type config struct {
	oci, images, tags, git, namespaces int
	readyWait                          time.Duration
	keep                               bool
	// profiles, when set, is where the controller's CPU profile of each unchanged phase is
	// written (unchanged-PREFIX.pprof), read from /debug/pprof/ on its metrics address.
	profiles string
}

func run(ctx context.Context, c config) (err error) {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "azimuth-bench-manager-")
	if err != nil {
		return err
	}
	if c.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	bin := filepath.Join(root, "bin", "azimuth")
	logf("building %s", bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/azimuth")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building azimuth: %w", err)
	}

	logf("starting Kubernetes, the CRDs and the local Azure")
	env, err := devenv.Start(ctx, &devenv.Options{StateDir: filepath.Join(tmp, "state")})
	if err != nil {
		return err
	}
	defer env.Stop()

	host, err := registryHost(env.Azure.Directory())
	if err != nil {
		return err
	}
	start := time.Now()
	tags := 0
	if c.images > 0 {
		tags = c.tags
	}
	if err := pushSamples(ctx, env, host, c.oci > 0, tags); err != nil {
		return err
	}
	switch {
	case c.oci > 0:
		logf("pushed %s:%s and %d tags of %s in %s", artifactRepo, artifactTag, tags, imageRepo, since(start))
	case c.images > 0:
		logf("pushed %d tags of %s in %s", tags, imageRepo, since(start))
	}
	var head string
	if c.git > 0 {
		start = time.Now()
		if head, err = pushGit(ctx, env, tmp); err != nil {
			return err
		}
		logf("pushed commit %s (%d files) to %s in %s", head, len(gitFiles), adoURL, since(start))
	}

	storage := filepath.Join(tmp, "storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return err
	}
	var metricsAddr string
	if c.profiles != "" {
		if metricsAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	child, err := startController(bin, env, tmp, storage, metricsAddr)
	if err != nil {
		return err
	}
	defer child.Stop()

	logf("controller pid %d; waiting %s for it to settle", child.Pid(), idleWait)
	cpu0, err := cpuTime(child.Pid())
	if err != nil {
		return child.Failed(err)
	}
	if err := sleep(ctx, idleWait); err != nil {
		return err
	}
	if err := child.Alive(); err != nil {
		return err
	}
	idle, err := rss(child.Pid())
	if err != nil {
		return child.Failed(err)
	}
	cpu1, _ := cpuTime(child.Pid())
	logf("idle: %.1f MiB RSS, %.0f ms CPU over %s", mib(idle.rss), ms(cpu1-cpu0), idleWait)
	r := results{idleMiB: mib(idle.rss)}

	namespaces, err := createNamespaces(ctx, env.Client, c.namespaces)
	if err != nil {
		return err
	}
	var want tally // the objects that exist, all to be Ready
	if c.oci > 0 {
		want.oci = c.oci
		cpu, err := firstReconciles(ctx, env.Client, namespaces, ociKind, c.oci, want, c.readyWait, child,
			func() error { return createOCIRepositories(ctx, env.Client, host, namespaces, c.oci) })
		if err != nil {
			return err
		}
		r.msFirstRecon = ms(cpu) / float64(c.oci)
	}
	if c.oci > 0 || c.images > 0 {
		if err := createImageObjects(ctx, env.Client, host, namespaces, c.images); err != nil {
			return err
		}
		want.repos, want.policies = c.images, c.images
		start = time.Now()
		if err := waitReady(ctx, env.Client, namespaces, want, c.readyWait, child); err != nil {
			return err
		}
		logf("all %d objects Ready; the image objects in %s", c.oci+2*c.images, since(start))
		if c.images > 0 {
			if err := checkScans(ctx, env.Client, namespaces, c.tags); err != nil {
				return err
			}
		}
		loaded, err := rss(child.Pid())
		if err != nil {
			return child.Failed(err)
		}
		r.loadedMiB = mib(loaded.rss)
	}
	if c.oci > 0 {
		cpu, writes, err := unchangedReconciles(ctx, env, namespaces, ociKind, c.oci, c.readyWait, child, profiler(metricsAddr, c.profiles))
		if err != nil {
			return err
		}
		r.msUnchangedRecon, r.writesUnchanged = ms(cpu)/float64(c.oci), writes
	}

	if c.git > 0 {
		if err := createGitSecrets(ctx, env.Client, namespaces); err != nil {
			return err
		}
		// Each set's first fetches, then RSS with both sets Ready, then each set's unchanged
		// reconciles.
		for i, set := range gitSets {
			want.git += c.git
			cpu, err := firstReconciles(ctx, env.Client, namespaces, set.kind, c.git, want, c.readyWait, child,
				func() error { return createGitRepositories(ctx, env.Client, namespaces, c.git, set) })
			if err != nil {
				return err
			}
			r.git[i].msFirst = ms(cpu) / float64(c.git)
		}
		stored, err := gitArtifacts(ctx, env.Client, namespaces)
		if err != nil {
			return err
		}
		// The fetches did the work measured: every artifact is of the commit pushed.
		for name, a := range stored {
			if want := gitBranch + "@sha1:" + head; a.Revision != want {
				return fmt.Errorf("GitRepository %s: artifact revision %q, want %q", name, a.Revision, want)
			}
		}
		loaded, err := rss(child.Pid())
		if err != nil {
			return child.Failed(err)
		}
		r.gitLoadedMiB = mib(loaded.rss)
		for i, set := range gitSets {
			cpu, writes, err := unchangedReconciles(ctx, env, namespaces, set.kind, c.git, c.readyWait, child, profiler(metricsAddr, c.profiles))
			if err != nil {
				return err
			}
			r.git[i].msUnchanged, r.git[i].writesUnchanged = ms(cpu)/float64(c.git), writes
		}
		// An unchanged reconcile stores nothing: an artifact written again means the figure
		// measured fetches, not unchanged reconciles.
		after, err := gitArtifacts(ctx, env.Client, namespaces)
		if err != nil {
			return err
		}
		for name, a := range after {
			if b := stored[name]; b.Digest != a.Digest || !b.LastUpdateTime.Equal(&a.LastUpdateTime) || b.Revision != a.Revision {
				r.gitRewritten++
			}
		}
	}
	final, _ := rss(child.Pid())

	report(c, r)
	fmt.Printf("peak RSS (VmHWM) %.1f MiB; RSS at the end %.1f MiB; idle CPU %.0f ms per %s.\n",
		mib(final.hwm), mib(final.rss), ms(cpu1-cpu0), idleWait)
	return child.Alive()
}

// firstReconciles creates n objects of k with create and returns the controller's CPU from
// just before until want (every object that exists then) is Ready: their first reconciles, as
// Flux's figures count them. It also counts the idle CPU of at most one poll interval after the
// last one.
func firstReconciles(ctx context.Context, c client.Client, namespaces []string, k kind, n int, want tally, timeout time.Duration, child *proc.Child, create func() error) (time.Duration, error) {
	before, err := cpuTime(child.Pid())
	if err != nil {
		return 0, child.Failed(err)
	}
	start := time.Now()
	if err := create(); err != nil {
		return 0, err
	}
	if err := waitReady(ctx, c, namespaces, want, timeout, child); err != nil {
		return 0, err
	}
	after, err := cpuTime(child.Pid())
	if err != nil {
		return 0, child.Failed(err)
	}
	logf("%d %s Ready in %s: %.0f ms CPU in all", n, k.plural, since(start), ms(after-before))
	return after - before, nil
}

// unchangedReconciles asks for a reconcile of each of the n objects of k, whose sources did
// not change, and returns the controller's CPU from just before the requests until every one is
// handled, and the API writes per reconcile over that time (-1 when the API server's metrics
// could not be read): writes of every resource but leases, less this command's annotations.
func unchangedReconciles(ctx context.Context, env *devenv.Env, namespaces []string, k kind, n int, timeout time.Duration, child *proc.Child, profile func(name string, n int) func() error) (time.Duration, float64, error) {
	if profile != nil {
		done := profile("unchanged-"+k.prefix, n)
		defer func() {
			if err := done(); err != nil {
				logf("no CPU profile of the unchanged %s: %v", k.plural, err)
			}
		}()
	}
	writes0, werr := apiWrites(ctx, env.Kube.Config)
	start := time.Now()
	before, err := cpuTime(child.Pid())
	if err != nil {
		return 0, 0, child.Failed(err)
	}
	requested := time.Now().UTC().Format(time.RFC3339Nano)
	if err := requestReconciles(ctx, env.Client, namespaces, k, n, requested); err != nil {
		return 0, 0, err
	}
	if err := waitHandled(ctx, env.Client, namespaces, k, n, requested, timeout, child); err != nil {
		return 0, 0, err
	}
	after, err := cpuTime(child.Pid())
	if err != nil {
		return 0, 0, child.Failed(err)
	}
	wall := time.Since(start)
	logf("%d unchanged %s reconciles in %s: %.0f ms CPU in all", n, k.plural, wall.Round(time.Millisecond), ms(after-before))
	writes := -1.0
	if werr == nil {
		var writes1 map[string]float64
		if writes1, werr = apiWrites(ctx, env.Kube.Config); werr == nil {
			total, detail := writesBetween(writes0, writes1, k.resource, n)
			writes = total / float64(n)
			logf("API writes meanwhile, less the %d annotations: %s", n, detail)
		}
	}
	if werr != nil {
		logf("no API write count: %v", werr)
	}
	return after - before, writes, nil
}

type results struct {
	idleMiB, loadedMiB, gitLoadedMiB float64
	msFirstRecon, msUnchangedRecon   float64
	writesUnchanged                  float64 // per reconcile; -1 when unknown
	git                              [len(gitSets)]gitResult
	gitRewritten                     int // artifacts written again by unchanged reconciles
}

// gitResult are the figures of one set of GitRepositories.
type gitResult struct {
	msFirst, msUnchanged float64
	writesUnchanged      float64 // per reconcile; -1 when unknown
}

// report prints each figure beside the reference of the same kind: a Flux figure measured
// at the same counts (with the ratio Flux / Azimuth, higher is better), or PERFORMANCE.md's
// target, or nothing.
func report(c config, r results) {
	atFluxCounts := c.oci == fluxOCI && c.images == fluxImages && c.tags == fluxTags
	fmt.Println()
	fmt.Printf("%-62s %10s   %-50s %s\n", "measure", "azimuth", "reference", "ratio or target")
	row := func(measure, got, ref, verdict string) {
		fmt.Printf("%-62s %10s   %-50s %s\n", measure, got, ref, verdict)
	}
	ratio := func(flux, got float64) string { return fmt.Sprintf("%.1fx", flux/got) }
	target := func(got, max float64) string {
		if got <= max {
			return "meets the target"
		}
		return "misses the target"
	}
	writes := func(w float64) string {
		if w < 0 {
			return "unknown"
		}
		return fmt.Sprintf("%.2f", w)
	}

	row("idle RSS", fmtUnit(r.idleMiB, "MiB"), fmt.Sprintf("Flux %d MiB (source 75 + image-reflector 50)", fluxIdleMiB), ratio(fluxIdleMiB, r.idleMiB))
	row("", "", fmt.Sprintf("target <= %.0f MiB", float64(targetIdleMiB)), target(r.idleMiB, targetIdleMiB))

	if c.oci > 0 {
		first := fmt.Sprintf("ms CPU per first OCIRepository reconcile (%d)", c.oci)
		if c.oci == fluxOCI {
			row(first, fmtUnit(r.msFirstRecon, "ms"), fmt.Sprintf("Flux %.1f ms, first reconciles of 500", fluxMsPerFirstRecon), ratio(fluxMsPerFirstRecon, r.msFirstRecon))
		} else {
			row(first, fmtUnit(r.msFirstRecon, "ms"), "no reference (Flux's is at 500 OCIRepositories)", "")
		}
	}

	if c.oci > 0 || c.images > 0 {
		loaded := fmt.Sprintf("RSS, %d OCIRepos + %d ImageRepos/Policies Ready", c.oci, c.images)
		if atFluxCounts {
			row(loaded, fmtUnit(r.loadedMiB, "MiB"), fmt.Sprintf("Flux %d MiB (source 112 + image-reflector 148)", fluxLoadedMiB), ratio(fluxLoadedMiB, r.loadedMiB))
			row("", "", fmt.Sprintf("target <= %.0f MiB", float64(targetLoadedMiB)), target(r.loadedMiB, targetLoadedMiB))
		} else {
			row(loaded, fmtUnit(r.loadedMiB, "MiB"), "no reference (Flux's and the target are at the defaults)", "")
		}
	}

	if c.oci > 0 {
		row(fmt.Sprintf("ms CPU per unchanged OCIRepository reconcile (%d)", c.oci), fmtUnit(r.msUnchangedRecon, "ms"),
			fmt.Sprintf("target <= %.2f ms (no Flux figure)", targetMsPerUnchangedRecon), target(r.msUnchangedRecon, targetMsPerUnchangedRecon))
		row("API writes per unchanged OCIRepository reconcile", writes(r.writesUnchanged), "1 = the request's lastHandledReconcileAt (no Flux figure)", "")
	}

	if c.git > 0 {
		for i, set := range gitSets {
			row(fmt.Sprintf("ms CPU per first GitRepository fetch, %s (%d)", set.auth, c.git), fmtUnit(r.git[i].msFirst, "ms"),
				"no reference (Flux's: one 5,000-file repository)", "")
		}
		if c.oci > 0 || c.images > 0 {
			row(fmt.Sprintf("RSS, the above + %d GitRepos Ready", len(gitSets)*c.git), fmtUnit(r.gitLoadedMiB, "MiB"), "no reference (none counts GitRepositories)", "")
		} else {
			row(fmt.Sprintf("RSS, %d GitRepos Ready", len(gitSets)*c.git), fmtUnit(r.gitLoadedMiB, "MiB"), "no reference (none counts GitRepositories)", "")
		}
		for i, set := range gitSets {
			row(fmt.Sprintf("ms CPU per unchanged GitRepository reconcile, %s", set.auth), fmtUnit(r.git[i].msUnchanged, "ms"),
				fmt.Sprintf("target <= %.2f ms", targetMsPerUnchangedGitRecon), target(r.git[i].msUnchanged, targetMsPerUnchangedGitRecon))
			row("", "", fmt.Sprintf("Flux %.1f ms: 5,000-file repo, git http-backend", fluxMsPerUnchangedGit), "no ratio: other inputs")
			row(fmt.Sprintf("API writes per unchanged GitRepository reconcile, %s", set.auth), writes(r.git[i].writesUnchanged), "1 = the request's lastHandledReconcileAt", "")
		}
		row("", "", "Flux 5: 5,000-file repo, git http-backend", "no ratio: other inputs")
	}

	fmt.Printf("\nratio: Flux / Azimuth, higher is better, only against a Flux figure of the same kind. Flux's figures\n")
	fmt.Printf("(PERFORMANCE.md, \"Artifacts and the manager\") add source-controller and image-reflector-controller,\n")
	fmt.Printf("measured on a local API server at -ocirepositories %d -imagerepositories %d -tags %d.\n", fluxOCI, fluxImages, fluxTags)
	if c.git > 0 {
		fmt.Printf("Flux's GitRepository figures (\"The next integrations\") are of a 5,000-file repository over git's\n")
		fmt.Printf("http-backend; these %d GitRepositories of each set fetch one %d-file commit from the local Azure DevOps\n", c.git, len(gitFiles))
		fmt.Printf("over HTTPS, one set with a PAT secret, read from the API server at every reconcile (Azimuth\n")
		fmt.Printf("does not cache secrets, so it needs no right to list or watch them), the other with provider\n")
		fmt.Printf("azure, the controller's managed identity, whose token is cached: their figures stand beside the\n")
		fmt.Printf("targets alone. %d of %d artifacts were written\n", r.gitRewritten, len(gitSets)*c.git)
		fmt.Printf("again by the unchanged reconciles (the requests to Azure DevOps are not counted here: devenv does\n")
		fmt.Printf("not pass azurelocal's ObserveDevOps through).\n")
	}
	if c.oci > 0 || c.git > 0 {
		fmt.Printf("API writes: apiserver_request_total's POST, PUT, PATCH and DELETE over the unchanged reconciles,\n")
		fmt.Printf("less the API server's own (leases, endpoints) and this command's annotations. A requested\n")
		fmt.Printf("reconcile must record the request in status.lastHandledReconcileAt: 1 per reconcile is that alone.\n")
	}
}

// pushSamples pushes one OCI artifact if withArtifact and tags tags of one small image, as
// flux-secret-app.
func pushSamples(ctx context.Context, env *devenv.Env, host string, withArtifact bool, tags int) error {
	if !withArtifact && tags == 0 {
		return nil
	}
	tenant, app, err := pushApp(env.Azure.Directory())
	if err != nil {
		return err
	}
	rt, err := transport.New(&env.Transport)
	if err != nil {
		return err
	}
	cred, err := entra.NewProvider(&entra.Options{Transport: &env.Transport}).Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: tenant, ClientID: app.ClientID,
		Secret: identity.Secret{ClientSecret: app.ClientSecrets[0].Value}, Source: "application " + pushApplication,
	}, nil)
	if err != nil {
		return err
	}
	opts := []remote.Option{
		remote.WithAuthFromKeychain(acr.NewKeychain(cred, &acr.KeychainOptions{Transport: rt})),
		remote.WithTransport(rt), remote.WithContext(ctx),
	}
	if withArtifact {
		art, err := artifact()
		if err != nil {
			return err
		}
		ref, err := name.ParseReference(host + "/" + artifactRepo + ":" + artifactTag)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, art, opts...); err != nil {
			return fmt.Errorf("pushing %s: %w", ref, err)
		}
	}
	if tags == 0 {
		return nil
	}
	img, err := image()
	if err != nil {
		return err
	}
	first, err := name.ParseReference(host + "/" + imageRepo + ":" + tagName(0))
	if err != nil {
		return err
	}
	if err := remote.Write(first, img, opts...); err != nil {
		return fmt.Errorf("pushing %s: %w", first, err)
	}
	// The other tags are manifest PUTs of the same image, a few at once.
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next.Store(1)
	for range pushesInFlight {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= tags || ctx.Err() != nil {
					return
				}
				tag := first.Context().Tag(tagName(i))
				if err := remote.Tag(tag, img, opts...); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("tagging %s: %w", tag, err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// gitFiles are the commit pushed to Azure DevOps: a few YAML files, as a fleet repository holds.
var gitFiles = map[string]string{
	"apps/bench/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - configmap.yaml\n  - service.yaml\n",
	"apps/bench/configmap.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  key: value\n",
	"apps/bench/service.yaml":       "apiVersion: v1\nkind: Service\nmetadata:\n  name: bench\nspec:\n  ports:\n    - port: 80\n",
	"clusters/bench/apps.yaml":      "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  interval: 1h\n  path: ./apps/bench\n  sourceRef:\n    kind: GitRepository\n    name: fleet-infra\n",
}

// pushGit commits gitFiles to the local Azure DevOps repository's main branch, as a developer's
// push would (test/e2e/git_test.go), and returns the commit.
func pushGit(ctx context.Context, env *devenv.Env, tmp string) (string, error) {
	bare, err := env.Azure.DevOps().RepoPath(adoOrg, adoProject, adoRepo)
	if err != nil {
		return "", err
	}
	work := filepath.Join(tmp, "git-work")
	for path, content := range gitFiles {
		file := filepath.Join(work, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	git := func(args ...string) (string, error) {
		out, err := testenv.GitCommand(ctx, work, args...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", gitBranch},
		{"add", "."},
		{"commit", "-q", "-m", "bench"},
		{"push", "-q", "--force", bare, "HEAD:" + gitBranch},
	} {
		if _, err := git(args...); err != nil {
			return "", err
		}
	}
	return git("rev-parse", "HEAD")
}

// tagName is the i-th tag: 1.0.0, 1.0.1, ... 1.9.99, all semver.
func tagName(i int) string { return fmt.Sprintf("1.%d.%d", i/100, i%100) }

func pushApp(d *directory.Directory) (string, directory.Application, error) {
	spec := d.Spec()
	for _, app := range spec.Applications {
		if strings.EqualFold(app.Name, pushApplication) && len(app.ClientSecrets) > 0 {
			tenant := app.Tenant
			if tenant == "" && len(spec.Tenants) == 1 {
				tenant = spec.Tenants[0].ID
			}
			return tenant, app, nil
		}
	}
	return "", directory.Application{}, fmt.Errorf("the directory has no application %s with a client secret", pushApplication)
}

func registryHost(d *directory.Directory) (string, error) {
	regs := d.Resources(directory.KindRegistry)
	if len(regs) == 0 {
		return "", errors.New("the directory has no container registry")
	}
	return regs[0].Name + ".azurecr.io", nil
}

// artifact is an OCI artifact as `flux push artifact` makes it: one tar.gz layer of YAML files.
func artifact() (v1.Image, error) {
	return devenv.Artifact(map[string]string{
		"app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  key: value\n",
		"app/service.yaml":   "apiVersion: v1\nkind: Service\nmetadata:\n  name: bench\nspec:\n  ports:\n    - port: 80\n",
	}, nil)
}

func image() (v1.Image, error) {
	layer, err := devenv.TarGz(map[string]string{"VERSION": "bench\n"})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(layer, types.OCILayer))
}

func startController(bin string, env *devenv.Env, tmp, storage, metricsAddr string) (*proc.Child, error) {
	metrics := "0"
	if metricsAddr != "" {
		metrics = metricsAddr // where the profiles are served too
	}
	cmd := exec.Command(bin, "controller",
		"--ca-file", filepath.Join(env.Azure.StateDir(), "ca.pem"),
		"--storage-path", storage, "--storage-addr", "127.0.0.1:0",
		"--metrics-addr", metrics, "--health-addr", "0")
	// Only what a pod would have: no proxies or Azure settings leak in from this shell.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tmp,
		"KUBECONFIG=" + env.Kube.Kubeconfig,
		"AZIMUTH_CONNECT_TO=" + strings.Join(env.Azure.ConnectTo(), "\n"),
		"AZURE_CLIENT_ID=" + nodeIdentity,
	}
	return proc.StartChild(cmd, filepath.Join(tmp, "controller.log"))
}

// profiler returns what starts a CPU profile of the controller, served at addr, into
// dir/NAME.pprof, for a phase of n reconciles, and what waits for it to be written; nil when
// not profiling. The profile runs longer than such a phase (about 2.5 s for 100 at the
// defaults), so that it covers one whole.
func profiler(addr, dir string) func(name string, n int) func() error {
	if addr == "" {
		return nil
	}
	return func(name string, n int) func() error {
		errc := make(chan error, 1)
		go func() {
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, 2+n/30))
			if err != nil {
				errc <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errc <- fmt.Errorf("pprof answered %s", resp.Status)
				return
			}
			data, err := io.ReadAll(resp.Body)
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, name+".pprof"), data, 0o644)
			}
			errc <- err
		}()
		return func() error { return <-errc }
	}
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func createNamespaces(ctx context.Context, c client.Client, n int) ([]string, error) {
	var namespaces []string
	for i := range n {
		ns := fmt.Sprintf("bench-%d", i)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return nil, err
		}
		namespaces = append(namespaces, ns)
	}
	return namespaces, nil
}

func createOCIRepositories(ctx context.Context, c client.Client, host string, namespaces []string, n int) error {
	objs := make([]client.Object, n)
	for i := range objs {
		objs[i] = &sourcev1.OCIRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespaces[i%len(namespaces)], Name: ociKind.name(i)},
			Spec: sourcev1.OCIRepositorySpec{
				URL:       "oci://" + host + "/" + artifactRepo,
				Reference: &sourcev1.OCIRepositoryRef{Tag: artifactTag},
				Provider:  sourcev1.AzureOCIProvider,
				Interval:  metav1.Duration{Duration: time.Hour},
			},
		}
	}
	logf("creating %d OCIRepositories in %d namespaces", n, len(namespaces))
	return forEach(len(objs), func(i int) error { return c.Create(ctx, objs[i]) })
}

// createGitSecrets creates the developer's PAT secret in every namespace, as the e2e tests do.
func createGitSecrets(ctx context.Context, c client.Client, namespaces []string) error {
	for _, ns := range namespaces {
		if err := c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: gitSecret},
			StringData: map[string]string{"username": "git", "password": adoPAT},
		}); err != nil {
			return err
		}
	}
	return nil
}

func createGitRepositories(ctx context.Context, c client.Client, namespaces []string, n int, set gitSet) error {
	objs := make([]client.Object, n)
	for i := range objs {
		spec := sourcev1.GitRepositorySpec{
			URL:       adoURL,
			Reference: &sourcev1.GitRepositoryRef{Branch: gitBranch},
			Interval:  metav1.Duration{Duration: time.Hour},
		}
		if set.secret {
			spec.SecretRef = &meta.LocalObjectReference{Name: gitSecret}
		} else {
			spec.Provider = sourcev1.AzureGitProvider
		}
		objs[i] = &sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespaces[i%len(namespaces)], Name: set.kind.name(i)},
			Spec:       spec,
		}
	}
	logf("creating %d GitRepositories of %s in %d namespaces, %s", n, adoURL, len(namespaces), set.auth)
	return forEach(len(objs), func(i int) error { return c.Create(ctx, objs[i]) })
}

// gitArtifacts returns the artifact of every GitRepository by namespace/name.
func gitArtifacts(ctx context.Context, c client.Client, namespaces []string) (map[string]meta.Artifact, error) {
	artifacts := map[string]meta.Artifact{}
	for _, ns := range namespaces {
		var l sourcev1.GitRepositoryList
		if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		for _, o := range l.Items {
			if o.Status.Artifact == nil {
				return nil, fmt.Errorf("GitRepository %s/%s has no artifact", ns, o.Name)
			}
			artifacts[ns+"/"+o.Name] = *o.Status.Artifact
		}
	}
	return artifacts, nil
}

// createImageObjects creates n ImageRepositories, each with one ImagePolicy.
func createImageObjects(ctx context.Context, c client.Client, host string, namespaces []string, n int) error {
	var objs []client.Object
	for i := range n {
		ns, name := namespaces[i%len(namespaces)], fmt.Sprintf("image-%d", i)
		objs = append(objs, &imagev1.ImageRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: imagev1.ImageRepositorySpec{
				Image:    host + "/" + imageRepo,
				Provider: imagev1.AzureProvider,
				Interval: metav1.Duration{Duration: time.Hour},
			},
		}, &imagev1.ImagePolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: imagev1.ImagePolicySpec{
				ImageRepositoryRef: meta.NamespacedObjectReference{Name: name},
				Policy:             imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
			},
		})
	}
	logf("creating %d ImageRepositories and %d ImagePolicies", n, n)
	return forEach(len(objs), func(i int) error { return c.Create(ctx, objs[i]) })
}

// forEach runs f(0..n-1), objectsInFlight at once, and returns the first error.
func forEach(n int, f func(int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range objectsInFlight {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

type conditioned interface {
	client.Object
	meta.ObjectWithConditions
}

// kind is what the unchanged reconciles need of a kind of object.
type kind struct {
	plural   string // as logged: "OCIRepositories"
	prefix   string // the i-th object is prefix-i
	resource string // the API server's resource
	// object is an object of the kind, to patch; handled counts the objects of ns whose
	// status.lastHandledReconcileAt is requested.
	object  func(ns, name string) client.Object
	handled func(ctx context.Context, c client.Client, ns, requested string) (int, error)
}

func (k kind) name(i int) string { return fmt.Sprintf("%s-%d", k.prefix, i) }

var (
	ociKind = kind{
		plural: "OCIRepositories", prefix: "oci", resource: "ocirepositories",
		object: func(ns, name string) client.Object {
			return &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		},
		handled: func(ctx context.Context, c client.Client, ns, requested string) (int, error) {
			var l sourcev1.OCIRepositoryList
			if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
				return 0, err
			}
			n := 0
			for _, o := range l.Items {
				if o.Status.LastHandledReconcileAt == requested {
					n++
				}
			}
			return n, nil
		},
	}
	gitKind      = gitRepositories("git")
	gitAzureKind = gitRepositories("gitaz")
)

// gitSet is a set of GitRepositories of one way to authenticate.
type gitSet struct {
	auth   string // as reported
	kind   kind
	secret bool // spec.secretRef with the developer's PAT; else provider azure
}

// gitSets are the GitRepositories created, as many of each: the developer's PAT, and the
// controller's managed identity (node-kubelet is a reader of the project).
var gitSets = [...]gitSet{
	{auth: "PAT secret", kind: gitKind, secret: true},
	{auth: "provider azure", kind: gitAzureKind},
}

// gitRepositories is the kind of GitRepositories whose names start with prefix.
func gitRepositories(prefix string) kind {
	return kind{
		plural: "GitRepositories (" + prefix + "-*)", prefix: prefix, resource: "gitrepositories",
		object: func(ns, name string) client.Object {
			return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		},
		handled: func(ctx context.Context, c client.Client, ns, requested string) (int, error) {
			var l sourcev1.GitRepositoryList
			if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
				return 0, err
			}
			n := 0
			for _, o := range l.Items {
				if o.Status.LastHandledReconcileAt == requested {
					n++
				}
			}
			return n, nil
		},
	}
}

// tally counts objects of each kind.
type tally struct{ oci, repos, policies, git int }

// counts lists every kind and counts the objects that pass ok.
func counts(ctx context.Context, c client.Client, namespaces []string, ok func(conditioned) bool) (t tally, notOK string, err error) {
	for _, ns := range namespaces {
		var ol sourcev1.OCIRepositoryList
		var rl imagev1.ImageRepositoryList
		var pl imagev1.ImagePolicyList
		var gl sourcev1.GitRepositoryList
		for _, l := range []client.ObjectList{&ol, &rl, &pl, &gl} {
			if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
				return tally{}, "", err
			}
		}
		count := func(o conditioned, n *int) {
			if ok(o) {
				*n++
			} else if notOK == "" {
				notOK = describe(o)
			}
		}
		for i := range ol.Items {
			count(&ol.Items[i], &t.oci)
		}
		for i := range rl.Items {
			count(&rl.Items[i], &t.repos)
		}
		for i := range pl.Items {
			count(&pl.Items[i], &t.policies)
		}
		for i := range gl.Items {
			count(&gl.Items[i], &t.git)
		}
	}
	return t, notOK, nil
}

func describe(o conditioned) string {
	s := fmt.Sprintf("%T %s/%s", o, o.GetNamespace(), o.GetName())
	if r := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition); r != nil {
		s += fmt.Sprintf(": Ready=%s %s: %s", r.Status, r.Reason, r.Message)
	}
	return s
}

// waitReady waits until the objects of want are all Ready.
func waitReady(ctx context.Context, c client.Client, namespaces []string, want tally, timeout time.Duration, child *proc.Child) error {
	ready := func(o conditioned) bool { return apimeta.IsStatusConditionTrue(o.GetConditions(), meta.ReadyCondition) }
	return poll(ctx, timeout, child, func() (bool, string, error) {
		got, notReady, err := counts(ctx, c, namespaces, ready)
		if err != nil {
			return false, "", err
		}
		msg := fmt.Sprintf("Ready: %d/%d OCIRepositories, %d/%d ImageRepositories, %d/%d ImagePolicies", got.oci, want.oci, got.repos, want.repos, got.policies, want.policies)
		if want.git > 0 {
			msg += fmt.Sprintf(", %d/%d GitRepositories", got.git, want.git)
		}
		if notReady != "" {
			msg += "; e.g. " + notReady
		}
		return got == want, msg, nil
	})
}

// checkScans makes sure the image objects did the work measured: every ImageRepository saw
// every tag and every ImagePolicy chose the highest.
func checkScans(ctx context.Context, c client.Client, namespaces []string, tags int) error {
	want := tagName(tags - 1)
	for _, ns := range namespaces {
		var rl imagev1.ImageRepositoryList
		var pl imagev1.ImagePolicyList
		if err := c.List(ctx, &rl, client.InNamespace(ns)); err != nil {
			return err
		}
		if err := c.List(ctx, &pl, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, r := range rl.Items {
			if r.Status.LastScanResult == nil || r.Status.LastScanResult.TagCount != tags {
				return fmt.Errorf("ImageRepository %s/%s: last scan %+v, want %d tags", ns, r.Name, r.Status.LastScanResult, tags)
			}
		}
		for _, p := range pl.Items {
			if p.Status.LatestRef == nil || p.Status.LatestRef.Tag != want {
				return fmt.Errorf("ImagePolicy %s/%s: latest %+v, want tag %s", ns, p.Name, p.Status.LatestRef, want)
			}
		}
	}
	return nil
}

func requestReconciles(ctx context.Context, c client.Client, namespaces []string, k kind, n int, requested string) error {
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, requested))
	logf("annotating %d %s with %s=%s", n, k.plural, meta.ReconcileRequestAnnotation, requested)
	return forEach(n, func(i int) error {
		return c.Patch(ctx, k.object(namespaces[i%len(namespaces)], k.name(i)), client.RawPatch(client.Merge.Type(), patch))
	})
}

func waitHandled(ctx context.Context, c client.Client, namespaces []string, k kind, n int, requested string, timeout time.Duration, child *proc.Child) error {
	return poll(ctx, timeout, child, func() (bool, string, error) {
		handled := 0
		for _, ns := range namespaces {
			h, err := k.handled(ctx, c, ns, requested)
			if err != nil {
				return false, "", err
			}
			handled += h
		}
		return handled == n, fmt.Sprintf("handled: %d/%d %s", handled, n, k.plural), nil
	})
}

// poll calls check every pollEvery until it is done, the child exits or timeout passes,
// logging its message when it changes.
func poll(ctx context.Context, timeout time.Duration, child *proc.Child, check func() (bool, string, error)) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		done, msg, err := check()
		if err != nil {
			return err
		}
		if msg != last {
			logf("%s", msg)
			last = msg
		}
		if done {
			return nil
		}
		if err := child.Alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s: %s; end of the controller's log:\n%s", timeout, msg, proc.Tail(child.Log(), 10))
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return err
		}
	}
}

type memory struct{ rss, hwm int64 } // bytes

// rss reads VmRSS and VmHWM from /proc/PID/status.
func rss(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.rss = kb << 10
		case "VmHWM":
			m.hwm = kb << 10
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, sc.Err()
}

// cpuTime is utime+stime of /proc/PID/stat, every thread of the process.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may hold spaces:
	// state is field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		t, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
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

func mib(b int64) float64             { return float64(b) / (1 << 20) }
func ms(d time.Duration) float64      { return float64(d) / float64(time.Millisecond) }
func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }

func fmtUnit(v float64, unit string) string {
	if unit == "ms" {
		return fmt.Sprintf("%.2f %s", v, unit)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// apiServerOwn are the resources the API server writes by itself, left out of the writes counted.
var apiServerOwn = []string{"leases", "endpoints", "endpointslices"}

// apiWrites reads the API server's apiserver_request_total and returns the requests that
// write, by "VERB resource[/subresource]"; dry runs count, as PERFORMANCE.md counts them.
func apiWrites(ctx context.Context, cfg *rest.Config) (map[string]float64, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	base := cfg.Host
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	const metric = "apiserver_request_total{"
	writes := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric) {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		labels := parseLabels(line[len(metric):end])
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		key := labels["verb"] + " " + labels["resource"]
		if sub := labels["subresource"]; sub != "" {
			key += "/" + sub
		}
		writes[key] += v
	}
	return writes, sc.Err()
}

// parseLabels parses Prometheus text-format labels: name="value",...
func parseLabels(s string) map[string]string {
	labels := map[string]string{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			break
		}
		name, rest := s[:eq], s[eq+2:]
		var value strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			value.WriteByte(rest[i])
		}
		labels[name] = value.String()
		s = strings.TrimPrefix(rest[min(i+1, len(rest)):], ",")
	}
	return labels
}

// writesBetween returns the writes from before to after but the API server's own bookkeeping
// (leases, endpoints, on a clock, not by reconciles) and this command's own n merge patches of
// resource, and the writes by kind.
func writesBetween(before, after map[string]float64, resource string, n int) (float64, string) {
	var (
		total  float64
		detail []string
	)
	for key, v := range after {
		d := v - before[key]
		if key == "PATCH "+resource {
			d -= float64(n)
		}
		if d <= 0 || slices.Contains(apiServerOwn, key[strings.IndexByte(key, ' ')+1:]) {
			continue
		}
		total += d
		detail = append(detail, fmt.Sprintf("%s %.0f", key, d))
	}
	if len(detail) == 0 {
		return 0, "none"
	}
	slices.Sort(detail)
	return total, strings.Join(detail, ", ")
}
