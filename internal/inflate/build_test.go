package inflate

import (
	"bytes"
	"testing"
)

// BenchmarkBuild builds the tables of a dynamic block of hex text, as the bench layers have
// thousands of.
func BenchmarkBuild(b *testing.B) {
	var d decoder
	d.init(bytes.NewReader(deflate(b, samples()["hex"], compressors()["go/-1"])))
	if err := d.header(); err != nil || d.lit != &d.tables.lit {
		b.Fatalf("not a dynamic block: %v", err)
	}
	t := d.tables
	lit, dist := append([]uint8{}, t.codes[:t.nlit]...), append([]uint8{}, t.codes[t.nlit:]...)
	for b.Loop() {
		build(t.lit[:], lit, litRootBits, litLenCodes)
		build(t.dist[:], dist, distRootBits, distanceCodes)
	}
}
