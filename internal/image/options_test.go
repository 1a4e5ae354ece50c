package image

import (
	"strings"
	"testing"
	"time"
)

func TestParsePlatforms(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "linux/amd64,linux/arm64", want: "linux/amd64 linux/arm64"},
		{in: " linux/arm64 ", want: "linux/arm64"},
		{in: "linux/amd64,linux/amd64", err: "twice"},
		{in: "darwin/arm64", err: "linux only"},
		{in: "linux/mips", err: "not one of amd64, arm64"},
		{in: "linux/arm64/v8", err: "os/arch"},
		{in: "amd64", err: "os/arch"},
		{in: "", err: "os/arch"},
		{in: strings.Repeat("linux/amd64,", 20), err: "at most 16"},
	}
	for _, tc := range tests {
		got, err := ParsePlatforms(tc.in)
		var names []string
		for _, p := range got {
			names = append(names, p.String())
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePlatforms(%q) = %v, %v; want an error saying %q", tc.in, names, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(names, " ") != tc.want {
			t.Errorf("ParsePlatforms(%q) = %v, %v; want %s", tc.in, names, err, tc.want)
		}
	}
}

func TestParseEpoch(t *testing.T) {
	got, err := ParseEpoch("1796102346\n")
	if err != nil || !got.Equal(time.Date(2026, 12, 1, 5, 19, 6, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("ParseEpoch = %v, %v", got, err)
	}
	for _, bad := range []string{"", "-1", "1.5", "2025-01-01", "253402300800"} {
		if _, err := ParseEpoch(bad); err == nil || !strings.Contains(err.Error(), "git log -1 --format=%ct") {
			t.Errorf("ParseEpoch(%q) error %v, want one saying how to set it", bad, err)
		}
	}
}

// FuzzParsePlatforms: any list gives platforms Build accepts, each once, or an error.
func FuzzParsePlatforms(f *testing.F) {
	for _, s := range []string{"linux/amd64,linux/arm64", "linux/arm64", "windows/amd64", "linux//", ",,", "linux/amd64,linux/amd64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePlatforms(s)
		if err != nil {
			return
		}
		if len(ps) == 0 || len(ps) > maxPlatforms {
			t.Fatalf("%q: %d platforms", s, len(ps))
		}
		seen := map[string]bool{}
		for _, p := range ps {
			if err := checkPlatform(p); err != nil || seen[p.String()] {
				t.Fatalf("%q: platform %s accepted (%v, seen %v)", s, p.String(), err, seen[p.String()])
			}
			seen[p.String()] = true
		}
	})
}

// FuzzParseEpoch: an accepted epoch is a whole second in UTC that prints as RFC 3339 and parses
// back to itself.
func FuzzParseEpoch(f *testing.F) {
	for _, s := range []string{"0", "1796102346", "-5", "253402300799", "9999999999999999999", " 12 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEpoch(s)
		if err != nil {
			return
		}
		back, err := time.Parse(time.RFC3339, got.Format(time.RFC3339))
		if err != nil || !back.Equal(got) || got.Nanosecond() != 0 || got.Location() != time.UTC {
			t.Fatalf("%q: %v does not round-trip (%v, %v)", s, got, back, err)
		}
	})
}
