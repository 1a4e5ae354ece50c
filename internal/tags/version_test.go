package tags

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want version
		ok   bool
	}{
		{"1.2.3", version{1, 2, 3, ""}, true},
		{"v1.2.3", version{1, 2, 3, ""}, true},
		{"0.0.0", version{0, 0, 0, ""}, true},
		{"1.2.3-rc.1", version{1, 2, 3, "rc.1"}, true},
		{"1.2.3-rc.1+build.5", version{1, 2, 3, "rc.1"}, true},
		{"1.2.3+build-x.01", version{1, 2, 3, ""}, true},
		{"1.2.3-a-b", version{1, 2, 3, "a-b"}, true},
		{"1.2.3-0a", version{1, 2, 3, "0a"}, true},
		{"18446744073709551615.0.0", version{1<<64 - 1, 0, 0, ""}, true},
		{"", version{}, false},
		{"v", version{}, false},
		{"vv1.2.3", version{}, false},
		{"V1.2.3", version{}, false},
		{"1.2", version{}, false},
		{"1", version{}, false},
		{"1.2.3.4", version{}, false},
		{"01.2.3", version{}, false},
		{"1.02.3", version{}, false},
		{"1.2.03", version{}, false},
		{"1.2.3-01", version{}, false},
		{"1.2.3-", version{}, false},
		{"1.2.3+", version{}, false},
		{"1.2.3-a..b", version{}, false},
		{"1.2.3-a_b", version{}, false},
		{"1.2.3+a+b", version{}, false},
		{"1.2.3 ", version{}, false},
		{"1.2.3a", version{}, false},
		{"18446744073709551616.0.0", version{}, false},
		{"main-abc-123", version{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseVersion(tt.in)
			if ok != tt.ok || ok && got != tt.want {
				t.Fatalf("parseVersion(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if _, refOK := refParseVersion(tt.in); refOK != ok {
				t.Fatalf("parseVersion(%q) ok = %v, Flux's parser says %v", tt.in, ok, refOK)
			}
		})
	}
}

func TestParseVersionLength(t *testing.T) {
	long := "1.2.3-" + strings.Repeat("a", maxVersionLen-len("1.2.3-"))
	if _, ok := parseVersion(long); !ok {
		t.Errorf("a %d-byte version must parse", len(long))
	}
	if _, ok := parseVersion("v" + long); ok {
		t.Errorf("a %d-byte tag must not parse: Flux's NewVersion rejects it", len(long)+1)
	}
}

func TestCompareVersions(t *testing.T) {
	// Each version ranks strictly below the next one.
	ordered := []string{
		"0.0.1", "0.1.0", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10",
		"1.0.0-18446744073709551616", "1.0.0-a", "1.0.0-alpha", "1.0.0-alpha.1",
		"1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
		"1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "10.0.0",
	}
	for i, a := range ordered {
		for j, b := range ordered {
			va, _ := parseVersion(a)
			vb, _ := parseVersion(b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := va.compare(vb); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
	eq := [][2]string{{"1.0.0", "v1.0.0"}, {"1.0.0+a", "1.0.0+b"}, {"1.0.0-rc.1+x", "v1.0.0-rc.1"}}
	for _, p := range eq {
		va, _ := parseVersion(p[0])
		vb, _ := parseVersion(p[1])
		if va.compare(vb) != 0 {
			t.Errorf("compare(%s, %s) != 0", p[0], p[1])
		}
	}
}
