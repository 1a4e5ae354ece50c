package inflate

import (
	"bytes"
	"testing"
)

// BenchmarkBuild reads the first block header of a stream of hex text, a dynamic one: its
// codes read and its tables built, as for each of the thousands of blocks of the bench layers.
func BenchmarkBuild(b *testing.B) {
	stream := deflate(b, samples()["hex"], compressors()["go/-1"])
	var d decoder
	for b.Loop() {
		d.init(bytes.NewReader(stream))
		if err := d.header(); err != nil || d.lit != &d.tables.lit {
			b.Fatalf("not a dynamic block: %v", err)
		}
	}
}
