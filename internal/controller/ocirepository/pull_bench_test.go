package ocirepository

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/azimuth-gitops/azimuth/internal/artifact"
)

// The layers below are held in memory, so these benchmarks measure what Azimuth does with a
// layer once its bytes arrive, not the registry or the network: hack/bench/pull compares the
// whole pull with crane's. Every benchmark writes to a storage Writer, as pull does, which
// writes each byte to a file and hashes it; MB/s are of the layer as the registry stores it
// (compressed), the figure crane's throughput is given in.

// yamlLayer is a layer like a real manifests artifact: n ConfigMaps of size bytes, each with
// blob bytes of random hex (which compresses about 2:1) and the rest repeated text.
func yamlLayer(b *testing.B, n, size, blob int) v1.Layer {
	var data bytes.Buffer
	gz := gzip.NewWriter(&data)
	tw := tar.NewWriter(gz)
	random := make([]byte, blob/2)
	for i := range n {
		rand.Read(random)
		doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  blob: " + hex.EncodeToString(random) + "\n"
		for len(doc) < size {
			doc += "  padding: the quick brown fox jumps over the lazy dog\n"
		}
		hdr := &tar.Header{Name: fmt.Sprintf("%04x.yaml", i), Mode: 0o644, Size: int64(len(doc)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			b.Fatal(err)
		}
		io.WriteString(tw, doc)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		b.Fatal(err)
	}
	return static.NewLayer(data.Bytes(), types.OCILayer)
}

// benchLayers are the two sizes of PERFORMANCE.md: 400 files of 16 KiB, 0.9 MB compressed; and
// 1,000 files of 64 KiB, 34 MB compressed.
func benchLayers(b *testing.B) []struct {
	name  string
	layer v1.Layer
} {
	return []struct {
		name  string
		layer v1.Layer
	}{
		{"0.9MB", yamlLayer(b, 400, 16<<10, 4<<10)},
		{"34MB", yamlLayer(b, 1000, 64<<10, 64<<10)},
	}
}

// benchmarkPull runs op on layer into a storage Writer. The Writer hashes and writes every
// byte; each run's is discarded with Close, not committed, so that fsync's cost (tens of ms on
// this kind of VM, which crane does not pay) does not drown the figures. One committed run
// first checks that op stores something.
func benchmarkPull(b *testing.B, layer v1.Layer, op func(v1.Layer, io.Writer) error) {
	s, err := artifact.NewStorage(b.TempDir(), "http://bench")
	if err != nil {
		b.Fatal(err)
	}
	size, err := layer.Size()
	if err != nil {
		b.Fatal(err)
	}
	run := func() *artifact.Writer {
		w, err := s.Create("ocirepository/ns/bench/artifact.tar.gz")
		if err != nil {
			b.Fatal(err)
		}
		if err := op(layer, w); err != nil {
			b.Fatal(err)
		}
		return w
	}
	if a, err := run().Commit("bench"); err != nil || *a.Size == 0 {
		b.Fatalf("the artifact: %+v, %v", a, err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := run().Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLayerCopy is what `crane pull` does with a layer once downloaded: copy its bytes.
func BenchmarkLayerCopy(b *testing.B) {
	for _, l := range benchLayers(b) {
		b.Run(l.name, func(b *testing.B) { benchmarkPull(b, l.layer, (&Reconciler{}).copyLayer) })
	}
}

// BenchmarkLayerExtract is the default layerSelector operation, without spec.ignore and with
// rules that leave out the layer's last file (the worst case: all of it is read before the
// artifact must be rebuilt).
func BenchmarkLayerExtract(b *testing.B) {
	r := &Reconciler{}
	for _, l := range benchLayers(b) {
		for _, rules := range []struct {
			name   string
			ignore *string
		}{{"noIgnore", nil}, {"ignoreMatchesNothing", new("*.md\nsecrets/\n")}, {"ignoreLast", new("*.md\n/018f.yaml\n/03e7.yaml\n")}} {
			b.Run(l.name+"/"+rules.name, func(b *testing.B) {
				benchmarkPull(b, l.layer, func(l v1.Layer, w io.Writer) error { return r.extractLayer(l, w, rules.ignore) })
			})
		}
	}
}
