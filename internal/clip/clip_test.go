package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want string
	}{
		{"short", 5, "short"},
		{"", 0, ""},
		{"abcdef", 5, "ab…"},
		{"ééé", 4, "…"},    // "é" is 2 bytes: none fits beside the 3-byte mark
		{"éééé", 7, "éé…"}, // 4 + 3
		{"éééé", 6, "é…"},  // the cut would fall inside the second é
		{"€€€€", 9, "€€…"},
		{"abcdef", 2, "…"}, // the mark alone, even where it overflows a tiny limit
	} {
		if got := String(c.s, c.max); got != c.want {
			t.Errorf("String(%q, %d) = %q, want %q", c.s, c.max, got, c.want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("ü"+strings.Repeat("€", 400), 1024)
	f.Add("abc", 2)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < len(Mark) || max > 1<<20 {
			t.Skip()
		}
		got := String(s, max)
		if len(got) > max {
			t.Fatalf("String(%q, %d) is %d bytes", s, max, len(got))
		}
		if got == s {
			return
		}
		prefix, ok := strings.CutSuffix(got, Mark)
		if !ok || !strings.HasPrefix(s, prefix) {
			t.Fatalf("String(%q, %d) = %q: not a prefix with the mark", s, max, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("String(%q, %d) = %q split a character", s, max, got)
		}
		if len(prefix) < max-len(Mark)-(utf8.UTFMax-1) {
			t.Fatalf("String(%q, %d) = %q cut more than one character short", s, max, got)
		}
	})
}
