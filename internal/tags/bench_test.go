package tags

import "testing"

// Benchmarks for PERFORMANCE.md's "Image policies": one ImagePolicy
// evaluation over 100,000 tags from the generators in gen_test.go. Each runs
// on two inputs, as sub-benchmarks:
//
//   - shuffled: the tags in the fixed random order of shuffled(). PERFORMANCE.md's
//     Flux figures were measured on shuffled inputs, so these are the figures
//     that compare with them (hack/bench/ratios.sh prints the ratios).
//   - sorted: the same tags in byte order, as a registry lists them. No Flux
//     figure was measured on sorted input: there is nothing to compare with.
//
// The target is at least 3x faster than Flux and no allocation per tag.

// benchInputs runs eval over tags, shuffled and sorted; eval returns the
// chosen tag, which must not be empty.
func benchInputs(b *testing.B, tags []string, eval func([]string) (string, error)) {
	b.Helper()
	inputs := []struct {
		name string
		tags []string
	}{{"shuffled", shuffled(tags)}, {"sorted", tags}}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got, err := eval(in.tags); err != nil || got == "" {
					b.Fatalf("got %q, %v", got, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in.tags)), "ns/tag")
		})
	}
}

func benchLatest(b *testing.B, tags []string, p Policy, f *Filter) {
	b.Helper()
	benchInputs(b, tags, func(tags []string) (string, error) { return p.Latest(tags, f) })
}

func mustFilter(b *testing.B, pattern, extract string) *Filter {
	b.Helper()
	f, err := NewFilter(pattern, extract)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// semverTags, range >=1.0.0. Flux: 64 ms, 430k allocations.
func BenchmarkSemverOverSemverTags(b *testing.B) {
	p, _ := NewSemver(">=1.0.0")
	benchLatest(b, semverTags(bigN), p, nil)
}

// mixedTags, range >=1.0.0. Flux: 85 ms.
func BenchmarkSemverOverMixedTags(b *testing.B) {
	p, _ := NewSemver(">=1.0.0")
	benchLatest(b, mixedTags(bigN), p, nil)
}

// mainTags, every one matched and captured: the worst case for the filter.
// Flux: 103 ms.
func BenchmarkRegexExtractNumerical(b *testing.B) {
	p, _ := NewNumerical("asc")
	benchLatest(b, mainTags(bigN), p, mustFilter(b, `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts"))
}

// The same filter over mixedTags, of which 30% match. No Flux figure.
func BenchmarkRegexExtractNumericalMixed(b *testing.B) {
	p, _ := NewNumerical("asc")
	benchLatest(b, mixedTags(bigN), p, mustFilter(b, `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts"))
}

// mixedTags, filter (?P<ts>.*) extract $ts, ascending. Flux: 147 ms.
func BenchmarkCaptureAllAlphabetical(b *testing.B) {
	p, _ := NewAlphabetical("asc")
	benchLatest(b, mixedTags(bigN), p, mustFilter(b, `(?P<ts>.*)`, "$ts"))
}

// mixedTags, no filter, ascending. Flux: 25 ms.
func BenchmarkAlphabetical(b *testing.B) {
	p, _ := NewAlphabetical("asc")
	benchLatest(b, mixedTags(bigN), p, nil)
}

// mixedTags, no filter, descending. No Flux figure.
func BenchmarkAlphabeticalDesc(b *testing.B) {
	p, _ := NewAlphabetical("desc")
	benchLatest(b, mixedTags(bigN), p, nil)
}

// numericTags (10-digit Unix times), no filter, ascending. Flux: 3.3 ms.
func BenchmarkNumerical(b *testing.B) {
	p, _ := NewNumerical("asc")
	benchLatest(b, numericTags(bigN), p, nil)
}

// numericTags, no filter, descending. No Flux figure.
func BenchmarkNumericalDesc(b *testing.B) {
	p, _ := NewNumerical("desc")
	benchLatest(b, numericTags(bigN), p, nil)
}

// OCIRepository spec.ref.semver >=1.0.0 with semverFilter ^v?\d over
// mixedTags. No Flux figure.
func BenchmarkRefSelectionSemverFilter(b *testing.B) {
	s, err := NewRefSelector(RefSpec{SemVer: ">=1.0.0", SemverFilter: `^v?\d`})
	if err != nil {
		b.Fatal(err)
	}
	benchInputs(b, mixedTags(bigN), func(tags []string) (string, error) {
		ref, err := s.Select(tags)
		return ref.Tag, err
	})
}
