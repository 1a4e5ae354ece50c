package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
)

// yamlLayer is a layer like a real manifests artifact: n ConfigMaps of size bytes, each with
// blob bytes of random hex (which compresses about 2:1) and the rest repeated text.
func yamlLayer(b *testing.B, n, size, blob int) []byte {
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
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%04x.yaml", i), Mode: 0o644, Size: int64(len(doc)), Typeflag: tar.TypeReg, Format: tar.FormatPAX})
		io.WriteString(tw, doc)
	}
	tw.Close()
	gz.Close()
	return data.Bytes()
}

// hashSpool is a Spool that keeps what it is given and hashes it when asked, so that a
// benchmark consumes every byte it measures.
type hashSpool struct{ memSpool }

func (h *hashSpool) sum() [32]byte { return sha256.Sum256(h.Bytes()) }

// BenchmarkRepack measures Repack in memory on the layers of PERFORMANCE.md (400 files, 0.9 MB;
// 1,000 files, 34 MB), stored as they are, rebuilt for an ignore rule that matches their last
// file, and rebuilt into a plain writer. MB/s are of the layer as compressed.
func BenchmarkRepack(b *testing.B) {
	for _, l := range []struct {
		name string
		data []byte
		last string
	}{{"0.9MB", yamlLayer(b, 400, 16<<10, 4<<10), "/018f.yaml"}, {"34MB", yamlLayer(b, 1000, 64<<10, 64<<10), "/03e7.yaml"}} {
		for _, c := range []struct {
			name   string
			ignore string
			spool  bool
		}{{"asItIs", "", true}, {"ignoreLast", l.last, true}, {"rebuild", "", false}} {
			b.Run(l.name+"/"+c.name, func(b *testing.B) {
				opts := &RepackOptions{Ignore: ParseIgnore(c.ignore)}
				b.SetBytes(int64(len(l.data)))
				b.ReportAllocs()
				for b.Loop() {
					var out hashSpool
					out.Grow(len(l.data) * 5 / 4)
					var dst io.Writer = &out
					if !c.spool {
						dst = &out.Buffer
					}
					if err := Repack(dst, bytes.NewReader(l.data), opts); err != nil {
						b.Fatal(err)
					}
					if out.sum() == [32]byte{} || out.Len() == 0 {
						b.Fatal("no artifact")
					}
				}
			})
		}
	}
}
