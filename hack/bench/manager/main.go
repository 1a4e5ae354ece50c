// Command manager measures the memory and CPU of one `azimuth controller` process against
// PERFORMANCE.md's "Artifacts and the manager" figures: its RSS idle, its CPU per first
// OCIRepository reconcile (from creation to Ready), its RSS with many OCIRepositories,
// ImageRepositories and ImagePolicies Ready, and its CPU per OCIRepository reconcile when
// nothing changed. Everything runs on 127.0.0.1: Kubernetes, the CRDs and the local Azure in
// this process (devenv), the controller in a child process so that its RSS is the manager's
// alone.
//
// Each figure is compared with a reference of the same kind only: Flux's idle RSS, its CPU per
// first reconcile and its loaded RSS (PERFORMANCE.md, at this command's default counts); the
// unchanged reconcile has no Flux figure and is printed against PERFORMANCE.md's own target.
//
//	go run ./hack/bench/manager [-ocirepositories 500 -imagerepositories 100 -tags 1000]
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
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
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
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	pushApplication = "flux-secret-app"
	// nodeIdentity is the client ID of the node's managed identity node-kubelet, which has
	// AcrPull through the management group; the controller reaches IMDS through connect-to.
	nodeIdentity    = "4817e33f-6b74-4c56-b006-d543ddff26f0"
	artifactRepo    = "bench/manifests"
	artifactTag     = "1.0.0"
	imageRepo       = "bench/image"
	clockTicks      = 100 // USER_HZ: utime and stime in /proc/PID/stat are in 1/100 s on Linux
	objectsInFlight = 16
	pushesInFlight  = 8
	idleWait        = 5 * time.Second
	pollEvery       = 2 * time.Second
	// Flux's figures in PERFORMANCE.md, on a local API server: RSS of source-controller +
	// image-reflector-controller idle; with 500 OCIRepositories + with 100 ImageRepositories
	// of 1,000 tags and 100 ImagePolicies; ms of CPU per OCIRepository reconcile with 500 of
	// them, a first reconcile (an unchanged one has no Flux figure).
	fluxIdleMiB                   = 75 + 50
	fluxLoadedMiB                 = 112 + 148
	fluxMsPerFirstRecon           = 15.6
	fluxOCI, fluxImages, fluxTags = 500, 100, 1000 // the counts of those figures
	// PERFORMANCE.md's targets for Azimuth.
	targetIdleMiB             = 60
	targetLoadedMiB           = 130
	targetMsPerUnchangedRecon = 5.0
)

// Pdeathsig follows the thread that started the child: keep the main goroutine on the main
// thread, which lives as long as the process.
func init() { runtime.LockOSThread() }

func main() {
	var (
		nOCI      = flag.Int("ocirepositories", 500, "OCIRepositories to create")
		nImage    = flag.Int("imagerepositories", 100, "ImageRepositories to create, each with one ImagePolicy")
		nTags     = flag.Int("tags", 1000, "tags of the image repository")
		nNS       = flag.Int("namespaces", 5, "namespaces to spread the objects over")
		readyWait = flag.Duration("ready-timeout", 10*time.Minute, "how long to wait for the objects to become Ready, and for the reconciles")
		keep      = flag.Bool("keep", false, "keep the temporary directory (controller log, artifacts)")
	)
	flag.Parse()
	if *nOCI < 1 || *nImage < 0 || *nTags < 1 || *nNS < 1 || *nOCI > 10000 || *nImage > 10000 || *nTags > 10000 {
		fmt.Fprintln(os.Stderr, "manager: counts out of range (1..10000)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, config{oci: *nOCI, images: *nImage, tags: *nTags, namespaces: *nNS, readyWait: *readyWait, keep: *keep})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

type config struct {
	oci, images, tags, namespaces int
	readyWait                     time.Duration
	keep                          bool
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
	if err := pushSamples(ctx, env, host, c.tags); err != nil {
		return err
	}
	logf("pushed %s:%s and %d tags of %s in %s", artifactRepo, artifactTag, c.tags, imageRepo, since(start))

	storage := filepath.Join(tmp, "storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return err
	}
	child, err := startController(bin, env, tmp, storage)
	if err != nil {
		return err
	}
	defer child.stop()

	logf("controller pid %d; waiting %s for it to settle", child.cmd.Process.Pid, idleWait)
	cpu0, err := cpuTime(child.pid())
	if err != nil {
		return child.failed(err)
	}
	if err := sleep(ctx, idleWait); err != nil {
		return err
	}
	if err := child.alive(); err != nil {
		return err
	}
	idle, err := rss(child.pid())
	if err != nil {
		return child.failed(err)
	}
	cpu1, _ := cpuTime(child.pid())
	logf("idle: %.1f MiB RSS, %.0f ms CPU over %s", mib(idle.rss), ms(cpu1-cpu0), idleWait)

	namespaces, err := createNamespaces(ctx, env.Client, c.namespaces)
	if err != nil {
		return err
	}
	firstCPU, err := firstReconciles(ctx, env.Client, host, namespaces, c, child)
	if err != nil {
		return err
	}
	if err := createImageObjects(ctx, env.Client, host, namespaces, c.images); err != nil {
		return err
	}
	start = time.Now()
	if err := waitReady(ctx, env.Client, namespaces, c, child); err != nil {
		return err
	}
	logf("all %d objects Ready; the image objects in %s", c.oci+2*c.images, since(start))
	if err := checkScans(ctx, env.Client, namespaces, c.tags); err != nil {
		return err
	}
	loaded, err := rss(child.pid())
	if err != nil {
		return child.failed(err)
	}

	start = time.Now()
	before, err := cpuTime(child.pid())
	if err != nil {
		return child.failed(err)
	}
	requested := time.Now().UTC().Format(time.RFC3339Nano)
	if err := requestReconciles(ctx, env.Client, namespaces, c.oci, requested); err != nil {
		return err
	}
	if err := waitHandled(ctx, env.Client, namespaces, c, requested, child); err != nil {
		return err
	}
	after, err := cpuTime(child.pid())
	if err != nil {
		return child.failed(err)
	}
	wall := time.Since(start)
	logf("%d unchanged reconciles in %s: %.0f ms CPU in all", c.oci, wall.Round(time.Millisecond), ms(after-before))
	final, _ := rss(child.pid())

	report(c, results{
		idleMiB:          mib(idle.rss),
		loadedMiB:        mib(loaded.rss),
		msFirstRecon:     ms(firstCPU) / float64(c.oci),
		msUnchangedRecon: ms(after-before) / float64(c.oci),
	})
	fmt.Printf("peak RSS (VmHWM) %.1f MiB; RSS after the reconciles %.1f MiB; idle CPU %.0f ms per %s.\n",
		mib(final.hwm), mib(final.rss), ms(cpu1-cpu0), idleWait)
	return child.alive()
}

// firstReconciles creates the OCIRepositories alone and returns the controller's CPU from
// just before until every one is Ready: their first reconciles, as Flux's figure counts them.
// It also counts the idle CPU of at most one poll interval after the last one.
func firstReconciles(ctx context.Context, c client.Client, host string, namespaces []string, cfg config, child *controller) (time.Duration, error) {
	before, err := cpuTime(child.pid())
	if err != nil {
		return 0, child.failed(err)
	}
	start := time.Now()
	if err := createOCIRepositories(ctx, c, host, namespaces, cfg.oci); err != nil {
		return 0, err
	}
	onlyOCI := cfg
	onlyOCI.images = 0 // none exist yet
	if err := waitReady(ctx, c, namespaces, onlyOCI, child); err != nil {
		return 0, err
	}
	after, err := cpuTime(child.pid())
	if err != nil {
		return 0, child.failed(err)
	}
	logf("%d OCIRepositories Ready in %s: %.0f ms CPU in all", cfg.oci, since(start), ms(after-before))
	return after - before, nil
}

type results struct {
	idleMiB, loadedMiB             float64
	msFirstRecon, msUnchangedRecon float64
}

// report prints each figure beside the reference of the same kind: a Flux figure measured
// at the same counts (with the ratio Flux / Azimuth, higher is better), or PERFORMANCE.md's
// target, or nothing.
func report(c config, r results) {
	atFluxCounts := c.oci == fluxOCI && c.images == fluxImages && c.tags == fluxTags
	fmt.Println()
	fmt.Printf("%-52s %10s   %-50s %s\n", "measure", "azimuth", "reference", "ratio or target")
	row := func(measure, got, ref, verdict string) {
		fmt.Printf("%-52s %10s   %-50s %s\n", measure, got, ref, verdict)
	}
	ratio := func(flux, got float64) string { return fmt.Sprintf("%.1fx", flux/got) }
	target := func(got, max float64) string {
		if got <= max {
			return "meets the target"
		}
		return "misses the target"
	}

	row("idle RSS", fmtUnit(r.idleMiB, "MiB"), fmt.Sprintf("Flux %d MiB (source 75 + image-reflector 50)", fluxIdleMiB), ratio(fluxIdleMiB, r.idleMiB))
	row("", "", fmt.Sprintf("target <= %.0f MiB", float64(targetIdleMiB)), target(r.idleMiB, targetIdleMiB))

	first := fmt.Sprintf("ms CPU per first OCIRepository reconcile (%d)", c.oci)
	if c.oci == fluxOCI {
		row(first, fmtUnit(r.msFirstRecon, "ms"), fmt.Sprintf("Flux %.1f ms, first reconciles of 500", fluxMsPerFirstRecon), ratio(fluxMsPerFirstRecon, r.msFirstRecon))
	} else {
		row(first, fmtUnit(r.msFirstRecon, "ms"), "no reference (Flux's is at 500 OCIRepositories)", "")
	}

	loaded := fmt.Sprintf("RSS, %d OCIRepos + %d ImageRepos/Policies Ready", c.oci, c.images)
	if atFluxCounts {
		row(loaded, fmtUnit(r.loadedMiB, "MiB"), fmt.Sprintf("Flux %d MiB (source 112 + image-reflector 148)", fluxLoadedMiB), ratio(fluxLoadedMiB, r.loadedMiB))
		row("", "", fmt.Sprintf("target <= %.0f MiB", float64(targetLoadedMiB)), target(r.loadedMiB, targetLoadedMiB))
	} else {
		row(loaded, fmtUnit(r.loadedMiB, "MiB"), "no reference (Flux's and the target are at the defaults)", "")
	}

	row(fmt.Sprintf("ms CPU per unchanged OCIRepository reconcile (%d)", c.oci), fmtUnit(r.msUnchangedRecon, "ms"),
		fmt.Sprintf("target <= %.2f ms (no Flux figure)", targetMsPerUnchangedRecon), target(r.msUnchangedRecon, targetMsPerUnchangedRecon))

	fmt.Printf("\nratio: Flux / Azimuth, higher is better, only against a Flux figure of the same kind. Flux's figures\n")
	fmt.Printf("(PERFORMANCE.md, \"Artifacts and the manager\") add source-controller and image-reflector-controller,\n")
	fmt.Printf("measured on a local API server at -ocirepositories %d -imagerepositories %d -tags %d.\n", fluxOCI, fluxImages, fluxTags)
}

// pushSamples pushes one OCI artifact and tags tags of one small image, as flux-secret-app.
func pushSamples(ctx context.Context, env *devenv.Env, host string, tags int) error {
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

// controller is the `azimuth controller` child process.
type controller struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startController(bin string, env *devenv.Env, tmp, storage string) (*controller, error) {
	logPath := filepath.Join(tmp, "controller.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "controller",
		"--ca-file", filepath.Join(env.Azure.StateDir(), "ca.pem"),
		"--storage-path", storage, "--storage-addr", "127.0.0.1:0",
		"--metrics-addr", "0", "--health-addr", "0")
	// Only what a pod would have: no proxies or Azure settings leak in from this shell.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tmp,
		"KUBECONFIG=" + env.Kube.Kubeconfig,
		"AZIMUTH_CONNECT_TO=" + strings.Join(env.Azure.ConnectTo(), "\n"),
		"AZURE_CLIENT_ID=" + nodeIdentity,
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s controller: %w", bin, err)
	}
	c := &controller{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	return c, nil
}

func (c *controller) pid() int { return c.cmd.Process.Pid }

// alive is nil while the child runs, else its exit and the end of its log.
func (c *controller) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("the controller exited (%v); end of its log:\n%s", c.err, tail(c.log, 20))
	default:
		return nil
	}
}

func (c *controller) failed(err error) error {
	if dead := c.alive(); dead != nil {
		return dead
	}
	return err
}

// stop ends the child's process group: SIGTERM, then SIGKILL after 10 s.
func (c *controller) stop() {
	pgid := c.pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.done
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
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
			ObjectMeta: metav1.ObjectMeta{Namespace: namespaces[i%len(namespaces)], Name: fmt.Sprintf("oci-%d", i)},
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

// counts lists every kind and counts the objects that pass ok.
func counts(ctx context.Context, c client.Client, namespaces []string, ok func(conditioned) bool) (oci, repos, policies int, notOK string, err error) {
	for _, ns := range namespaces {
		var ol sourcev1.OCIRepositoryList
		var rl imagev1.ImageRepositoryList
		var pl imagev1.ImagePolicyList
		for _, l := range []client.ObjectList{&ol, &rl, &pl} {
			if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
				return 0, 0, 0, "", err
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
			count(&ol.Items[i], &oci)
		}
		for i := range rl.Items {
			count(&rl.Items[i], &repos)
		}
		for i := range pl.Items {
			count(&pl.Items[i], &policies)
		}
	}
	return oci, repos, policies, notOK, nil
}

func describe(o conditioned) string {
	s := fmt.Sprintf("%T %s/%s", o, o.GetNamespace(), o.GetName())
	if r := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition); r != nil {
		s += fmt.Sprintf(": Ready=%s %s: %s", r.Status, r.Reason, r.Message)
	}
	return s
}

func waitReady(ctx context.Context, c client.Client, namespaces []string, cfg config, child *controller) error {
	ready := func(o conditioned) bool { return apimeta.IsStatusConditionTrue(o.GetConditions(), meta.ReadyCondition) }
	return poll(ctx, cfg.readyWait, child, func() (bool, string, error) {
		oci, repos, policies, notReady, err := counts(ctx, c, namespaces, ready)
		if err != nil {
			return false, "", err
		}
		msg := fmt.Sprintf("Ready: %d/%d OCIRepositories, %d/%d ImageRepositories, %d/%d ImagePolicies", oci, cfg.oci, repos, cfg.images, policies, cfg.images)
		if notReady != "" {
			msg += "; e.g. " + notReady
		}
		return oci == cfg.oci && repos == cfg.images && policies == cfg.images, msg, nil
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

func requestReconciles(ctx context.Context, c client.Client, namespaces []string, n int, requested string) error {
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, requested))
	logf("annotating %d OCIRepositories with %s=%s", n, meta.ReconcileRequestAnnotation, requested)
	return forEach(n, func(i int) error {
		o := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: namespaces[i%len(namespaces)], Name: fmt.Sprintf("oci-%d", i)}}
		return c.Patch(ctx, o, client.RawPatch(client.Merge.Type(), patch))
	})
}

func waitHandled(ctx context.Context, c client.Client, namespaces []string, cfg config, requested string, child *controller) error {
	return poll(ctx, cfg.readyWait, child, func() (bool, string, error) {
		handled := 0
		for _, ns := range namespaces {
			var l sourcev1.OCIRepositoryList
			if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
				return false, "", err
			}
			for _, o := range l.Items {
				if o.Status.LastHandledReconcileAt == requested {
					handled++
				}
			}
		}
		return handled == cfg.oci, fmt.Sprintf("handled: %d/%d OCIRepositories", handled, cfg.oci), nil
	})
}

// poll calls check every pollEvery until it is done, the child exits or timeout passes,
// logging its message when it changes.
func poll(ctx context.Context, timeout time.Duration, child *controller, check func() (bool, string, error)) error {
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
		if err := child.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after %s: %s; end of the controller's log:\n%s", timeout, msg, tail(child.log, 10))
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
