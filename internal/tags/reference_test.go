package tags

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// This file is an independent model of the choice, written the way Flux's
// image-reflector-controller computes it (regexp.FindStringSubmatchIndex and
// ExpandString for the filter; Masterminds' StrictNewVersion, NewVersion and
// Constraints.Check for versions; strconv.ParseFloat for numbers) plus the
// package's tie rules, applied by a stable sort instead of a single pass.
// Tests compare the fast implementation against it.

type refCandidate struct{ tag, value string }

// refFilter applies pattern and extract as Flux's RegexFilter does.
func refFilter(tags []string, pattern, extract string) []refCandidate {
	var out []refCandidate
	if pattern == "" && extract == "" {
		for _, t := range tags {
			out = append(out, refCandidate{t, t})
		}
		return out
	}
	re := regexp.MustCompile(pattern)
	for _, t := range tags {
		loc := re.FindStringSubmatchIndex(t)
		if loc == nil {
			continue
		}
		v := t
		if extract != "" {
			v = string(re.ExpandString(nil, extract, t, loc))
		}
		out = append(out, refCandidate{t, v})
	}
	return out
}

// refParseVersion is Flux's version.ParseVersion.
func refParseVersion(s string) (*semver.Version, bool) {
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v")); err != nil {
		return nil, false
	}
	v, err := semver.NewVersion(s)
	return v, err == nil
}

// refPick sorts candidates best first by rank, then by the tie rules.
func refPick(cands []refCandidate, rank func(a, b refCandidate) int, lowValue bool) (string, bool) {
	if len(cands) == 0 {
		return "", false
	}
	slices.SortStableFunc(cands, func(a, b refCandidate) int {
		if d := rank(a, b); d != 0 {
			return -d
		}
		if a.value != b.value {
			if lowValue {
				return strings.Compare(a.value, b.value)
			}
			return -strings.Compare(a.value, b.value)
		}
		return -strings.Compare(a.tag, b.tag)
	})
	return cands[0].tag, true
}

func refSemver(tags []string, rng, pattern, extract string) (string, bool) {
	c, err := semver.NewConstraint(rng)
	if err != nil {
		panic(err)
	}
	var in []refCandidate
	parsed := map[string]*semver.Version{}
	for _, cand := range refFilter(tags, pattern, extract) {
		if v, ok := refParseVersion(cand.value); ok && c.Check(v) {
			in = append(in, cand)
			parsed[cand.value] = v
		}
	}
	return refPick(in, func(a, b refCandidate) int { return parsed[a.value].Compare(parsed[b.value]) }, true)
}

func refAlphabetical(tags []string, desc bool, pattern, extract string) (string, bool) {
	return refPick(refFilter(tags, pattern, extract), func(a, b refCandidate) int {
		if desc {
			return strings.Compare(b.value, a.value)
		}
		return strings.Compare(a.value, b.value)
	}, false)
}

// refNumerical returns ok=false with err=true when a value is not a number.
func refNumerical(tags []string, desc bool, pattern, extract string) (tag string, ok, notNumber bool) {
	cands := refFilter(tags, pattern, extract)
	nums := map[string]float64{}
	for _, c := range cands {
		n, err := strconv.ParseFloat(c.value, 64)
		if err != nil {
			return "", false, true
		}
		nums[c.value] = n
	}
	tag, ok = refPick(cands, func(a, b refCandidate) int {
		x, y := nums[a.value], nums[b.value]
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return -1
		case math.IsNaN(y):
			return 1
		case desc:
			return cmp.Compare(y, x)
		}
		return cmp.Compare(x, y)
	}, false)
	return tag, ok, false
}
