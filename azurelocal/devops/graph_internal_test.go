package devops

import (
	"strings"
	"testing"
)

// FuzzParseDescriptor: a descriptor that parses is bounded, and its canonical form parses back
// to the same subject type and key.
func FuzzParseDescriptor(f *testing.F) {
	for _, s := range []string{"aadsp.MDAwMA", "vssgp.YWJj", "scp.", ".", "x", "aad.!!", "AADSP.YQ==", strings.Repeat("a", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, key, ok := parseDescriptor(s)
		if !ok {
			return
		}
		if len(s) > 512 || kind != strings.ToLower(kind) {
			t.Fatalf("parsed %q as %q", s, kind)
		}
		k2, key2, ok := parseDescriptor(descriptor(kind, key))
		if !ok || k2 != kind || key2 != key {
			t.Fatalf("%q: %q %q does not round-trip: %q %q %v", s, kind, key, k2, key2, ok)
		}
	})
}
