package tags

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// A semver range is validated by Masterminds/semver itself, so that error
// messages and the accepted grammar are exactly Flux's. It is then compiled a
// second time into the plain structs below, because Masterminds' Check builds
// a formatted error for every version it rejects: over 100,000 tags that is
// most of Flux's time and allocations. The grammar (operators, x-ranges,
// hyphen ranges, "||", "," and space) and each operator's rule mirror
// Masterminds v3; FuzzConstraint checks the two agree.

// versionPattern is one version in a range, with x, X or * wildcards.
const versionPattern = `v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?` +
	`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
	`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`

// operatorPattern lists the operators; the empty alternative means "=".
const operatorPattern = `=||!=|>|<|>=|=>|<=|=<|~|~>|\^`

var (
	hyphenRangeRE = regexp.MustCompile(`\s*(` + versionPattern + `)\s+-\s+(` + versionPattern + `)\s*`)
	termFinderRE  = regexp.MustCompile(`(` + operatorPattern + `)\s*(` + versionPattern + `)`)
	termRE        = regexp.MustCompile(`^\s*(` + operatorPattern + `)\s*(` + versionPattern + `)\s*$`)
)

// hyphenSecond is the submatch index of the upper bound in hyphenRangeRE:
// the first version group plus its nine inner groups come before it.
const hyphenSecond = 11

// constraint is a compiled range: it holds when any group holds.
type constraint []termGroup

// termGroup holds when every term holds. Prerelease versions are considered
// only if one of its terms names a prerelease.
type termGroup struct {
	terms      []term
	includePre bool
}

// term is one operator and its version; x-ranges make it "dirty" at the
// position of the first wildcard.
type term struct {
	op                            string
	con                           version
	dirty, minorDirty, patchDirty bool
}

// compileConstraint turns a range that semver.NewConstraint accepted into
// a constraint.
func compileConstraint(r string) (constraint, error) {
	for _, m := range hyphenRangeRE.FindAllStringSubmatch(r, -1) {
		r = strings.Replace(r, m[0], ">= "+m[1]+", <= "+m[hyphenSecond]+" ", 1)
	}
	var c constraint
	for _, or := range strings.Split(r, "||") {
		parts := termFinderRE.FindAllString(or, -1)
		if parts == nil {
			parts = []string{or}
		}
		var g termGroup
		for _, p := range parts {
			t, err := compileTerm(p)
			if err != nil {
				return nil, err
			}
			g.includePre = g.includePre || t.con.pre != ""
			g.terms = append(g.terms, t)
		}
		c = append(c, g)
	}
	return c, nil
}

func compileTerm(s string) (term, error) {
	if s == "" {
		return term{dirty: true}, nil
	}
	m := termRE.FindStringSubmatch(s)
	if m == nil {
		return term{}, fmt.Errorf("improper constraint: %q", s)
	}
	t := term{op: m[1]}
	major, minor, patch, pre := m[3], strings.TrimPrefix(m[4], "."), strings.TrimPrefix(m[5], "."), m[6]
	ver := m[2]
	switch {
	case isWildcard(major) || major == "":
		ver, t.dirty = "0.0.0"+pre, true
	case isWildcard(minor) || minor == "":
		ver, t.dirty, t.minorDirty = major+".0.0"+pre, true, true
	case isWildcard(patch) || patch == "":
		ver, t.dirty, t.patchDirty = major+m[4]+".0"+pre, true, true
	}
	// NewVersion, not the strict parser: ranges may say 1.2 or 01.2.3.
	sv, err := semver.NewVersion(ver)
	if err != nil {
		return term{}, fmt.Errorf("improper constraint: %q: %w", s, err)
	}
	t.con = version{major: sv.Major(), minor: sv.Minor(), patch: sv.Patch(), pre: sv.Prerelease()}
	return t, nil
}

func isWildcard(s string) bool {
	return s == "x" || s == "X" || s == "*"
}

// check reports whether v is within the range.
func (c constraint) check(v version) bool {
	for _, g := range c {
		if g.check(v) {
			return true
		}
	}
	return false
}

func (g termGroup) check(v version) bool {
	if v.pre != "" && !g.includePre {
		return false
	}
	for _, t := range g.terms {
		if !t.check(v) {
			return false
		}
	}
	return true
}

// check applies the operator's rule, Masterminds' semantics included where
// they surprise (">1" means ">=2.0.0"; "<=1.2" means "<1.3.0").
func (t term) check(v version) bool {
	switch t.op {
	case "", "=":
		if t.dirty {
			return t.tilde(v)
		}
		return v.compare(t.con) == 0
	case "!=":
		return t.notEqual(v)
	case ">":
		return t.greater(v)
	case "<":
		return v.compare(t.con) < 0
	case ">=", "=>":
		return v.compare(t.con) >= 0
	case "<=", "=<":
		return t.lessOrEqual(v)
	case "~", "~>":
		return t.tilde(v)
	case "^":
		return t.caret(v)
	}
	return false
}

func (t term) notEqual(v version) bool {
	if t.dirty {
		switch {
		case t.con.major != v.major:
			return true
		case t.con.minor != v.minor && !t.minorDirty:
			return true
		case t.minorDirty:
			return false
		case t.con.patch != v.patch && !t.patchDirty:
			return true
		case t.patchDirty:
			if v.pre != "" || t.con.pre != "" {
				return comparePrerelease(v.pre, t.con.pre) != 0
			}
			return false
		}
	}
	return v.compare(t.con) != 0
}

func (t term) greater(v version) bool {
	if !t.dirty {
		return v.compare(t.con) > 0
	}
	switch {
	case v.major != t.con.major:
		return v.major > t.con.major
	case t.minorDirty:
		return false
	case t.patchDirty:
		return v.minor > t.con.minor
	}
	return v.compare(t.con) > 0
}

func (t term) lessOrEqual(v version) bool {
	if !t.dirty {
		return v.compare(t.con) <= 0
	}
	switch {
	case v.major > t.con.major:
		return false
	case v.major == t.con.major && v.minor > t.con.minor && !t.minorDirty:
		return false
	}
	return true
}

func (t term) tilde(v version) bool {
	switch {
	case v.compare(t.con) < 0:
		return false
	case t.con.major == 0 && t.con.minor == 0 && t.con.patch == 0 && !t.minorDirty && !t.patchDirty:
		return true
	case v.major != t.con.major:
		return false
	}
	return v.minor == t.con.minor || t.minorDirty
}

func (t term) caret(v version) bool {
	switch {
	case v.compare(t.con) < 0:
		return false
	case t.con.major > 0 || t.minorDirty:
		return v.major == t.con.major
	case v.major > 0:
		return false
	case t.con.minor > 0 || t.patchDirty:
		return v.minor == t.con.minor
	case v.minor > 0:
		return false
	}
	return v.patch == t.con.patch
}
