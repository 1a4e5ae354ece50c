package tags

import (
	"regexp"
	"testing"
)

func TestCompileLinear(t *testing.T) {
	tests := []struct {
		pattern string
		linear  bool
	}{
		{`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, true},
		{`(?P<ts>.*)`, true},
		{`^(?P<v>.*)$`, true},
		{`^v?[0-9]+\.[0-9]+\.[0-9]+$`, true},
		{`-rc`, true},
		{`(?i)^RELEASE\.(?P<ts>\d{4}-\d{2}-\d{2})`, true},
		{`^[a-z]{2,5}[0-9]*$`, true},
		{`\d+\.\d+`, true},
		{`^[a-z]+[a-z0-9]*$`, false},   // the repeat could give back a letter
		{`^.*-(?P<ts>[0-9]+)$`, false}, // .* overlaps what follows
		{`^(a|bc)`, false},             // alternation
		{`^a+?`, false},                // non-greedy
		{`(?m)^a`, false},              // multi-line anchor
		{`\bword`, false},              // word boundary
		{`(ab)+`, false},               // repeat of a group
		{`a^b`, false},                 // ^ not at the start
	}
	for _, tt := range tests {
		if got := compileLinear(tt.pattern) != nil; got != tt.linear {
			t.Errorf("compileLinear(%q) linear = %v, want %v", tt.pattern, got, tt.linear)
		}
	}
}

// FuzzLinear checks every group of every linear pattern against regexp.
func FuzzLinear(f *testing.F) {
	f.Add(`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "main-abc-123x")
	f.Add(`(?P<ts>.*)`, "a\nb")
	f.Add(`x(y)(z*)$`, "axyzzxyz")
	f.Add(`(?i)k(\d{2,3})`, "\u212a12345")
	f.Add(`[^a]+(b)`, "\xffb")
	f.Add(`\d+\.\d+`, "v1.22.3")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		m := compileLinear(pattern)
		if m == nil || len(s) > maxLinearInput {
			return
		}
		re := regexp.MustCompile(pattern)
		loc := re.FindStringSubmatchIndex(s)
		for g := 0; g <= re.NumSubexp(); g++ {
			lo, hi, ok := m.match(s, g)
			if ok != (loc != nil) {
				t.Fatalf("%q on %q: linear ok = %v, regexp %v", pattern, s, ok, loc)
			}
			if ok && (lo != loc[2*g] || hi != loc[2*g+1]) {
				t.Fatalf("%q on %q group %d: linear [%d,%d], regexp %v", pattern, s, g, lo, hi, loc)
			}
		}
	})
}
