package ocirepository

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/inflate"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The whole pull side by side with crane's, in one binary, from one registry: go-containerregistry's
// registry with its blobs on disk, served over loopback HTTP in this process. Azimuth's side is
// the reconciler's own plan and pull (tag HEAD, manifest, layer, artifact committed to storage
// with fsync); crane's is `crane pull REF FILE` (crane.Pull and crane.Save: manifest, config and
// layer into a tarball), followed by an fsync of its file, so that both leave a durable file.
// hack/bench/pull.sh runs these and prints the ratios.

// benchRegistry serves a registry with the given layers pushed as NAME:1.0.0, one per name.
// With rate > 0, it sends each response at most rate bytes a second.
func benchRegistry(b *testing.B, layers map[string]v1.Layer, rate int64) string {
	b.Helper()
	var handler http.Handler = registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(b.TempDir())), registry.Logger(log.New(io.Discard, "", 0)))
	if rate > 0 {
		handler = paced(handler, rate)
	}
	srv := httptest.NewServer(handler)
	b.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for repo, layer := range layers {
		img, err := mutate.AppendLayers(empty.Image, layer)
		if err != nil {
			b.Fatal(err)
		}
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		ref, err := name.ParseReference(host+"/"+repo+":1.0.0", name.Insecure)
		if err != nil {
			b.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			b.Fatal(err)
		}
	}
	return host
}

// benchReconciler is a reconciler with storage in a temporary directory and registry access
// for provider generic, as the manager builds them.
func benchReconciler(b *testing.B) *Reconciler {
	b.Helper()
	storage, err := artifact.NewStorage(b.TempDir(), "http://bench")
	if err != nil {
		b.Fatal(err)
	}
	return &Reconciler{Storage: storage, Access: oci.NewFactory(access.NewResolver(nil, nil, nil, transport.Options{}))}
}

// benchFetch is the pull of a reconcile whose artifact is not stored yet.
func (r *Reconciler) benchFetch(ctx context.Context, b *testing.B, obj *sourcev1.OCIRepository) int64 {
	obj.Status.Artifact = nil
	p, err := r.plan(ctx, obj)
	if err != nil {
		b.Fatal(err)
	}
	a, err := r.pull(ctx, obj, p, artifactDir(obj))
	if err != nil {
		b.Fatal(err)
	}
	return *a.Size
}

func benchObject(host, repo, operation string, ignore *string) *sourcev1.OCIRepository {
	obj := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: repo + "-" + operation},
		Spec: sourcev1.OCIRepositorySpec{
			URL: "oci://" + host + "/" + repo, Insecure: true, Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"},
			Interval: metav1.Duration{Duration: time.Minute}, Ignore: ignore,
		},
	}
	if operation == sourcev1.OCILayerCopy {
		obj.Spec.LayerSelector = &sourcev1.OCILayerSelector{Operation: sourcev1.OCILayerCopy}
	}
	return obj
}

// cranePull is `crane pull REF PATH`, with the file synced as Storage syncs an artifact.
func cranePull(b *testing.B, ref, path string) {
	img, err := crane.Pull(ref, crane.Insecure)
	if err != nil {
		b.Fatal(err)
	}
	if err := crane.Save(img, ref, path); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPull: for each artifact size, crane's pull and Azimuth's with copy, extract, and
// extract with ignore rules that leave out one file (the first: the artifact is rebuilt from the
// start), from a registry on loopback, whose bandwidth is that of memory: what Azimuth does
// with the bytes is all that differs from crane. MB/s are of the layer as the registry stores
// it.
func BenchmarkPull(b *testing.B) { benchmarkPullFrom(b, 0) }

// BenchmarkPullLink is BenchmarkPull from a registry that sends at most 125 MB/s (a 1 Gbit/s
// link, a fast one for a registry outside the cluster): what a pull costs where the network,
// not the CPU, sets the pace.
func BenchmarkPullLink(b *testing.B) { benchmarkPullFrom(b, 125_000_000) }

func benchmarkPullFrom(b *testing.B, rate int64) {
	// Repository names are the sizes, as registries take them: lower case.
	layers := map[string]v1.Layer{"0.2kb": tinyLayer(b)}
	for _, l := range benchLayers(b) {
		layers[strings.ToLower(l.name)] = l.layer
	}
	host := benchRegistry(b, layers, rate)
	r := benchReconciler(b)
	firstFile := "0000.yaml\n"
	for _, repo := range []string{"0.2kb", "0.9mb", "34mb"} {
		size, err := layers[repo].Size()
		if err != nil {
			b.Fatal(err)
		}
		ref := host + "/" + repo + ":1.0.0"
		b.Run(repo+"/crane", func(b *testing.B) {
			b.SetBytes(size)
			path := filepath.Join(b.TempDir(), "image.tar")
			cpu := cpuTime()
			for b.Loop() {
				cranePull(b, ref, path)
			}
			reportCPU(b, cpu)
		})
		if rate == 0 {
			b.Run(repo+"/inflate", func(b *testing.B) { benchmarkInflate(b, layers[repo]) })
		}
		for _, op := range []struct {
			name, operation string
			ignore          *string
		}{
			{"copy", sourcev1.OCILayerCopy, nil},
			{"extract", sourcev1.OCILayerExtract, nil},
			{"extract-ignore", sourcev1.OCILayerExtract, &firstFile},
		} {
			b.Run(repo+"/"+op.name, func(b *testing.B) {
				b.SetBytes(size)
				obj := benchObject(host, repo, op.operation, op.ignore)
				cpu := cpuTime()
				for b.Loop() {
					if r.benchFetch(b.Context(), b, obj) == 0 {
						b.Fatal("an empty artifact")
					}
				}
				reportCPU(b, cpu)
			})
		}
	}
}

// benchmarkInflate is the floor of extract's time on one core: only decompressing the layer,
// from memory, with Azimuth's decoder (which checks the gzip CRC and size, so every byte is
// produced), no request, tarball, check or file. Extract decompresses the layer as one serial
// stream, so where this alone takes longer than crane's whole pull, no extract can keep up
// with crane however the rest of it is done.
func benchmarkInflate(b *testing.B, layer v1.Layer) {
	rc, err := layer.Compressed()
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	want, err := io.Copy(io.Discard, zr) // the size, by the standard library's decoder
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var z inflate.Reader
	buf := make([]byte, 64<<10)
	cpu := cpuTime()
	for b.Loop() {
		if err := z.Reset(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if n, err := io.CopyBuffer(io.Discard, &z, buf); err != nil || n != want {
			b.Fatalf("inflated %d bytes of %d: %v", n, want, err)
		}
	}
	reportCPU(b, cpu)
}

// tinyLayer is a 0.2 KB manifests layer: one small file.
func tinyLayer(b *testing.B) v1.Layer {
	return yamlLayer(b, 1, 128, 0)
}

// BenchmarkPullLarge pulls a layer of about 1 GiB (AZIMUTH_BENCH_LARGE=1 enables it: writing the
// layer takes a minute) and reports the peak of the heap's growth while pulling, which streaming
// keeps flat: a pull that buffered the layer would grow by its size.
func BenchmarkPullLarge(b *testing.B) {
	if os.Getenv("AZIMUTH_BENCH_LARGE") == "" {
		b.Skip("set AZIMUTH_BENCH_LARGE=1 to pull a 1 GiB layer")
	}
	path := filepath.Join(b.TempDir(), "layer.tar.gz")
	if err := writeLargeLayer(path, 1000<<20); err != nil {
		b.Fatal(err)
	}
	layer, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		b.Fatal(err)
	}
	size, _ := layer.Size()
	host := benchRegistry(b, map[string]v1.Layer{"large": layer}, 0)
	r := benchReconciler(b)
	r.MaxArtifactSize = 2 << 30
	for _, operation := range []string{sourcev1.OCILayerCopy, sourcev1.OCILayerExtract} {
		b.Run(operation, func(b *testing.B) {
			b.SetBytes(size)
			obj := benchObject(host, "large", operation, nil)
			var peakHeap, peakRSS float64
			for b.Loop() {
				heap, rss := growth(func() { r.benchFetch(b.Context(), b, obj) })
				peakHeap, peakRSS = max(peakHeap, heap), max(peakRSS, rss)
			}
			b.ReportMetric(peakHeap/(1<<20), "peak-heap-growth-MiB")
			b.ReportMetric(peakRSS/(1<<20), "peak-rss-growth-MiB")
		})
	}
}

// growth runs f and returns the peak growth, while it ran, of the heap's live objects and of
// the process's resident memory (RSS), sampled every 10 ms.
func growth(f func()) (heap, rss float64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	readHeap := func() float64 { metrics.Read(sample); return float64(sample[0].Value.Uint64()) }
	baseHeap, baseRSS := readHeap(), residentBytes()
	var peakHeap, peakRSS atomic.Uint64
	note := func(peak *atomic.Uint64, g float64) {
		if g > float64(peak.Load()) {
			peak.Store(uint64(g))
		}
	}
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				note(&peakHeap, readHeap()-baseHeap)
				note(&peakRSS, residentBytes()-baseRSS)
			}
		}
	}()
	f()
	close(done)
	<-sampled
	return float64(peakHeap.Load()), float64(peakRSS.Load())
}

// residentBytes is the process's resident memory, from /proc/self/statm; 0 where it cannot be
// read.
func residentBytes() float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseFloat(fields[1], 64)
	if err != nil {
		return 0
	}
	return pages * float64(os.Getpagesize())
}

// writeLargeLayer writes a gzipped tarball of about n compressed bytes to path, without holding
// it in memory: files of 1 MiB of base64 text, which gzip hardly shrinks.
func writeLargeLayer(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	rng := rand.NewChaCha8([32]byte{7})
	raw := make([]byte, 768<<10)
	text := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	for i := 0; int64(i)*int64(len(text))*3/4 < n; i++ {
		rng.Read(raw)
		base64.StdEncoding.Encode(text, raw)
		hdr := &tar.Header{Name: fmt.Sprintf("data/%05d.yaml", i), Mode: 0o644, Size: int64(len(text)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(text); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return f.Sync()
}

// paced sends h's responses at most rate bytes a second each, as a link of that bandwidth
// would.
func paced(h http.Handler, rate int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&pacedWriter{ResponseWriter: w, rate: rate, start: time.Now()}, r)
	})
}

type pacedWriter struct {
	http.ResponseWriter
	rate  int64
	start time.Time
	sent  int64
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n, err := p.ResponseWriter.Write(b[:min(len(b), 32<<10)])
		written += n
		p.sent += int64(n)
		if err != nil {
			return written, err
		}
		b = b[n:]
		time.Sleep(time.Until(p.start.Add(time.Duration(p.sent * int64(time.Second) / p.rate))))
	}
	return written, nil
}

// cpuTime is the CPU time the process has used, in user and system mode: the registry's
// share, which serves crane and Azimuth alike, included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per pull since start: unlike the time per pull, which other
// load on the machine inflates, it compares alike on a busy machine.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
}
