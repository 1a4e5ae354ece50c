package tags

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// Fuzz targets compare the fast paths with the reference model (Flux's
// algorithm on Masterminds and regexp) and check invariants: nothing panics,
// and a winner is one of the inputs and passes the filter.

// splitTags turns fuzz input into a tag list: one tag per line.
func splitTags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.2.3-rc.1+b", "01.2.3", "1.2.3-01", "1.2", "v", "1.2.3-a..b", "1.2.3+", "99999999999999999999.0.0"} {
		f.Add(s, "1.2.3")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, okA := parseVersion(a)
		ra, refA := refParseVersion(a)
		if okA != refA {
			t.Fatalf("parseVersion(%q) ok = %v, Flux's parser says %v", a, okA, refA)
		}
		if !okA {
			return
		}
		if va.major != ra.Major() || va.minor != ra.Minor() || va.patch != ra.Patch() || va.pre != ra.Prerelease() {
			t.Fatalf("parseVersion(%q) = %+v, Masterminds %v", a, va, ra)
		}
		vb, okB := parseVersion(b)
		rb, _ := refParseVersion(b)
		if okB && va.compare(vb) != ra.Compare(rb) {
			t.Fatalf("compare(%q, %q) = %d, Masterminds %d", a, b, va.compare(vb), ra.Compare(rb))
		}
	})
}

func FuzzConstraint(f *testing.F) {
	for _, r := range []string{">=1.0.0", "1.0.x", "~1.2", "^0.0.3", "!=1.2.x-beta", "1 - 2", ">=1.0.0-0 <2 || 3.x", "", "=>1.2, =<2"} {
		f.Add(r, "1.2.3")
		f.Add(r, "1.2.0-beta")
	}
	f.Fuzz(func(t *testing.T, r, s string) {
		mc, mErr := semver.NewConstraint(r)
		p, err := NewSemver(r)
		if (err == nil) != (mErr == nil) {
			t.Fatalf("NewSemver(%q) error = %v, Masterminds %v", r, err, mErr)
		}
		if err != nil {
			return
		}
		v, ok := parseVersion(s)
		if !ok {
			return
		}
		mv, _ := refParseVersion(s)
		if got, want := p.c.check(v), mc.Check(mv); got != want {
			t.Fatalf("range %q, version %q: check = %v, Masterminds %v", r, s, got, want)
		}
	})
}

func FuzzFilter(f *testing.F) {
	f.Add(`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", "main-abc-123")
	f.Add(`(?P<ts>.*)`, "${ts}", "anything")
	f.Add(`^(\d+)\.(\d+)`, "$2$$$1", "1.2")
	f.Add(`(?P<a>x)?(?P<a>y)`, "$a", "y")
	f.Add(`^v`, "", "v1")
	f.Add("", "", "x")
	f.Fuzz(func(t *testing.T, pattern, extract, tag string) {
		flt, err := NewFilter(pattern, extract)
		if err != nil {
			return
		}
		value, ok := flt.Match(tag)
		if pattern == "" {
			if !ok || value != tag {
				t.Fatalf("empty pattern: Match(%q) = %q, %v", tag, value, ok)
			}
			return
		}
		re := regexp.MustCompile(pattern)
		loc := re.FindStringSubmatchIndex(tag)
		if ok != (loc != nil) {
			t.Fatalf("Match(%q) ok = %v, regexp says %v", tag, ok, loc != nil)
		}
		want := ""
		if ok {
			want = tag
			if extract != "" {
				want = string(re.ExpandString(nil, extract, tag, loc))
			}
		}
		if value != want {
			t.Fatalf("pattern %q extract %q: Match(%q) = %q, regexp.Expand gives %q", pattern, extract, tag, value, want)
		}
	})
}

func FuzzSemverPolicy(f *testing.F) {
	f.Add(">=1.0.0", "", "", "1.0.0\nv1.0.0\n1.1.0-rc.1\n2.0.0+b\n2.0.0+a\nlatest")
	f.Add("^1", `^app-(?P<v>.*)$`, "$v", "app-1.0.0\napp-1.2.0\nx-1.3.0\napp-v1.2.0")
	f.Add(">=0.0.0-0", "", "", "0.0.0-a.1\n0.0.0-a.01\n0.0.0-a.b")
	f.Fuzz(func(t *testing.T, rng, pattern, extract, list string) {
		p, err := NewSemver(rng)
		if err != nil {
			return
		}
		flt, err := NewFilter(pattern, extract)
		if err != nil {
			return
		}
		tags := splitTags(list)
		got, err := p.Latest(tags, flt)
		want, found := refSemver(tags, rng, pattern, extract)
		if (err == nil) != found || got != want {
			t.Fatalf("Latest = %q, %v; reference %q (found %v)", got, err, want, found)
		}
		if err == nil {
			checkWinner(t, got, tags, flt)
		}
	})
}

func FuzzOrderPolicies(f *testing.F) {
	f.Add(false, true, "", "", "", "1\n1.0\n01\n-0\n0\nNaN\n+Inf")
	f.Add(true, false, "desc", `^(?P<ts>.*)-\w$`, "$ts", "b-1\na-1\nc-2")
	f.Add(false, false, "asc", `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", "main-a-2\nmain-b-10\nlatest")
	f.Add(false, false, "", "", "", "0123\n123\n1606234201\n01606234201\n999999999999999\n1000000000000000")
	f.Add(false, true, "desc", "", "", "9007199254740993\n9007199254740992\n9007199254740994\n12345678\n012345678")
	f.Add(true, false, "asc", "", "", "ab\n\na\nb\xff\nb")
	f.Fuzz(func(t *testing.T, alphabetical, desc bool, order, pattern, extract, list string) {
		flt, err := NewFilter(pattern, extract)
		if err != nil {
			return
		}
		tags := splitTags(list)
		var p Policy
		var want string
		var found, notNumber bool
		if alphabetical {
			p, err = NewAlphabetical(order)
			if err != nil {
				return
			}
			want, found = refAlphabetical(tags, p.(*Alphabetical).Order() == Descending, pattern, extract)
		} else {
			p, err = NewNumerical(order)
			if err != nil {
				return
			}
			want, found, notNumber = refNumerical(tags, p.(*Numerical).Order() == Descending, pattern, extract)
		}
		got, err := p.Latest(tags, flt)
		switch {
		case notNumber:
			if err == nil || !strings.Contains(err.Error(), "is not a number") {
				t.Fatalf("Latest = %q, %v; want a not-a-number error", got, err)
			}
		case (err == nil) != found || got != want:
			t.Fatalf("Latest = %q, %v; reference %q (found %v)", got, err, want, found)
		case err == nil:
			checkWinner(t, got, tags, flt)
		}
	})
}

func FuzzRefSelection(f *testing.F) {
	f.Add("", "", "", "", "latest\n1.0.0")
	f.Add("v1", ">=1.0.0", "", "", "1.0.0\n1.1.0\nv2.0.0")
	f.Add("v1", ">=1.0.0", "-alpine$", "", "1.0.0-alpine\n1.1.0-alpine\n1.2.0")
	f.Add("v1", "", "", "sha256:"+strings.Repeat("a", 64), "")
	f.Fuzz(func(t *testing.T, tag, rng, filter, digest, list string) {
		s, err := NewRefSelector(RefSpec{Tag: tag, SemVer: rng, SemverFilter: filter, Digest: digest})
		if err != nil {
			return
		}
		tags := splitTags(list)
		ref, err := s.Select(tags)
		switch {
		case digest != "":
			if err != nil || ref != (Ref{Digest: digest}) {
				t.Fatalf("digest set: Select = %v, %v", ref, err)
			}
		case rng != "":
			if err != nil {
				return
			}
			flt, _ := NewFilter(filter, "")
			checkWinner(t, ref.Tag, tags, flt)
			v, ok := parseVersion(ref.Tag)
			if !ok || !s.semver.c.check(v) {
				t.Fatalf("Select = %q, not a version within %q", ref.Tag, rng)
			}
		case tag != "":
			if err != nil || ref != (Ref{Tag: tag}) {
				t.Fatalf("tag set: Select = %v, %v", ref, err)
			}
		default:
			if err != nil || ref != (Ref{Tag: DefaultTag}) {
				t.Fatalf("nothing set: Select = %v, %v", ref, err)
			}
		}
	})
}

// checkWinner asserts the invariants every winner keeps.
func checkWinner(t *testing.T, got string, tags []string, f *Filter) {
	t.Helper()
	if !slices.Contains(tags, got) {
		t.Fatalf("winner %q is not one of the tags", got)
	}
	if _, ok := f.Match(got); !ok {
		t.Fatalf("winner %q does not pass the filter", got)
	}
}
