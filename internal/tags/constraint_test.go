package tags

import (
	"testing"

	"github.com/Masterminds/semver/v3"
)

// versionsForRanges covers boundaries and prereleases of the ranges below.
var versionsForRanges = []string{
	"0.0.0", "0.0.1", "0.0.2", "0.1.0", "0.1.5", "0.2.0", "0.9.9",
	"1.0.0-0", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.2.0-beta", "1.2.0",
	"1.2.3-alpha", "1.2.3", "1.2.4", "1.3.0", "1.9.9", "2.0.0-rc.1", "2.0.0",
	"2.1.0", "3.0.0", "10.0.0",
}

func TestConstraintMatchesMasterminds(t *testing.T) {
	ranges := []string{
		">=1.0.0", ">1.0.0", "<1.2.3", "<=1.2.3", "=1.2.3", "1.2.3", "!=1.2.3", "v1.2.3",
		"1.0.x", "1.x", "1.2.*", "*", "x", "X", ">1", ">1.2", ">=1.2", "<=1", "<=1.2", "<1.x",
		"!=1.x", "!=1.2.x", "!=1.2.x-beta", "~1.2.3", "~1.2", "~1", "~0", "~0.0.0", "~>1.2", "~1.2.x",
		"^1.2.3", "^1.2", "^1", "^0.2.3", "^0.2", "^0.0.3", "^0.0", "^0", "^0.x", "^1.x",
		">=1.0.0-0", ">=1.0.0-0 <2.0.0", ">= 1.0.0, < 2.0.0", ">=1.0.0 || <0.1.0",
		"1.0.0 - 1.2.3", "1 - 2", "1.2 - 1.3 || 3.0.0", ">=1.2.0-beta <1.3", "=1.2.0-beta",
		"<2.0.0-rc.2", ">01.2.3", "=>1.2, =<2", ">1.2.3+build",
	}
	for _, r := range ranges {
		mc, err := semver.NewConstraint(r)
		if err != nil {
			t.Fatalf("Masterminds rejects %q: %v", r, err)
		}
		c, err := compileConstraint(r)
		if err != nil {
			t.Fatalf("compileConstraint(%q): %v", r, err)
		}
		for _, s := range versionsForRanges {
			v, _ := parseVersion(s)
			want := mc.Check(semver.MustParse(s))
			if got := c.check(v); got != want {
				t.Errorf("%q.check(%s) = %v, Masterminds says %v", r, s, got, want)
			}
		}
	}
}

func TestNewSemverRejects(t *testing.T) {
	for _, r := range []string{"", "1.0.0p", "1x", "x1", "-1", "a", ">= foo", "1.2.3 -", "||"} {
		if _, err := NewSemver(r); err == nil {
			t.Errorf("NewSemver(%q) = nil error, want one", r)
		}
	}
}
