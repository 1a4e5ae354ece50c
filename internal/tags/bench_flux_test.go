package tags

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// Baselines that model Flux's image-reflector-controller on the same inputs,
// so that each benchmark above has a same-run ratio on this noisy machine
// (PERFORMANCE.md's figures are the absolute reference). They follow Flux's
// algorithm (parse and check every tag with Masterminds; filter into a map,
// then list its keys; sort for alphabetical; ParseFloat for numerical) but
// are written here, not copied; run them with -bench Flux.

func fluxModelSemver(tags []string, c *semver.Constraints) string {
	var latest *semver.Version
	for _, t := range tags {
		if _, err := semver.StrictNewVersion(strings.TrimPrefix(t, "v")); err != nil {
			continue
		}
		v, err := semver.NewVersion(t)
		if err != nil {
			continue
		}
		if c.Check(v) && (latest == nil || v.GreaterThan(latest)) {
			latest = v
		}
	}
	if latest == nil {
		return ""
	}
	return latest.Original()
}

// fluxModelFilter returns the kept values and the map back to their tags.
func fluxModelFilter(tags []string, re *regexp.Regexp, extract string) ([]string, map[string]string) {
	kept := map[string]string{}
	for _, t := range tags {
		if loc := re.FindStringSubmatchIndex(t); len(loc) > 0 {
			v := t
			if extract != "" {
				v = string(re.ExpandString([]byte{}, extract, t, loc))
			}
			kept[v] = t
		}
	}
	var values []string
	for v := range kept {
		values = append(values, v)
	}
	return values, kept
}

func fluxModelAlphabetical(tags []string) string {
	s := sort.StringSlice(append([]string(nil), tags...)) // Flux sorts the list it reads from its store
	sort.Sort(sort.Reverse(s))
	return s[0]
}

func fluxModelNumerical(tags []string) string {
	var latest string
	var pv float64
	for i, t := range tags {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return ""
		}
		if i == 0 || v >= pv {
			latest, pv = t, v
		}
	}
	return latest
}

func benchFlux(b *testing.B, tags []string, eval func([]string) string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		if eval(tags) == "" {
			b.Fatal("no result")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tags)), "ns/tag")
}

func BenchmarkFluxModelSemverOverSemverTags(b *testing.B) {
	c, _ := semver.NewConstraint(">=1.0.0")
	benchFlux(b, semverTags(bigN), func(t []string) string { return fluxModelSemver(t, c) })
}

func BenchmarkFluxModelSemverOverMixedTags(b *testing.B) {
	c, _ := semver.NewConstraint(">=1.0.0")
	benchFlux(b, mixedTags(bigN), func(t []string) string { return fluxModelSemver(t, c) })
}

func BenchmarkFluxModelRegexExtractNumerical(b *testing.B) {
	re := regexp.MustCompile(`^main-[a-f0-9]+-(?P<ts>[0-9]+)`)
	benchFlux(b, mainTags(bigN), func(t []string) string {
		values, kept := fluxModelFilter(t, re, "$ts")
		return kept[fluxModelNumerical(values)]
	})
}

func BenchmarkFluxModelCaptureAllAlphabetical(b *testing.B) {
	re := regexp.MustCompile(`(?P<ts>.*)`)
	benchFlux(b, mixedTags(bigN), func(t []string) string {
		values, kept := fluxModelFilter(t, re, "$ts")
		return kept[fluxModelAlphabetical(values)]
	})
}

func BenchmarkFluxModelAlphabetical(b *testing.B) {
	benchFlux(b, mixedTags(bigN), fluxModelAlphabetical)
}

func BenchmarkFluxModelNumerical(b *testing.B) {
	benchFlux(b, numericTags(bigN), fluxModelNumerical)
}
