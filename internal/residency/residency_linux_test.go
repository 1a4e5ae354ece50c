package residency

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadOnlyMapping(t *testing.T) {
	const exe = "/usr/bin/azimuth"
	tests := []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"00400000-0331e000 r-xp 00000000 08:01 1234 /usr/bin/azimuth", 0x400000, 0x331e000, true},
		{"0331e000-04509000 r--p 02f1e000 08:01 1234 /usr/bin/azimuth", 0x331e000, 0x4509000, true},
		{"04509000-0459c000 rw-p 04109000 08:01 1234 /usr/bin/azimuth", 0, 0, false}, // data: written
		{"7f0000000000-7f0000021000 r-xp 00000000 08:01 99 /usr/lib/libc.so.6", 0, 0, false},
		{"7ffd1000-7ffd3000 r--p 00000000 00:00 0 [vvar]", 0, 0, false},
		{"c000000000-c004000000 rw-p 00000000 00:00 0", 0, 0, false},
		{"00400000-00300000 r-xp 00000000 08:01 1234 /usr/bin/azimuth", 0, 0, false}, // end before start
		{"zz-0331e000 r-xp 00000000 08:01 1234 /usr/bin/azimuth", 0, 0, false},
		{"00400000-0331e000 r-xp 00000000 08:01 1234 /usr/bin/azimuth (deleted)", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		start, end, ok := readOnlyMapping(tt.line, exe)
		if start != tt.start || end != tt.end || ok != tt.ok {
			t.Errorf("%q: %#x-%#x %v, want %#x-%#x %v", tt.line, start, end, ok, tt.start, tt.end, tt.ok)
		}
	}
}

// rssFile is the process's resident file-backed memory, in KiB.
func rssFile(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestRelease: the test binary's start-up pages leave its resident set, and it goes on running
// (the code it needs faults back in).
func TestRelease(t *testing.T) {
	before := rssFile(t)
	advised, err := Release()
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel has no MADV_PAGEOUT (Linux 5.4 and later)")
	}
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if advised == 0 || after >= before {
		t.Errorf("advised %d bytes; RssFile %d KiB before, %d KiB after", advised, before, after)
	}
	t.Logf("advised %d MiB of mappings; RssFile %d KiB → %d KiB", advised>>20, before, after)
}
