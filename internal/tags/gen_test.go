package tags

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// The generators below are deterministic (fixed seeds) so that benchmark
// figures compare across runs. Each list is sorted, as a registry lists
// tags, and its strings are then copied in that order, as decoding the
// registry's JSON response allocates them: sorting strings that were
// allocated in another order would scatter them in memory and measure cache
// misses that a real tag list does not have. shuffled gives the same tags in
// a fixed random order: PERFORMANCE.md's Flux figures were measured on
// shuffled lists.

const bigN = 100_000

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// semverTag is MAJOR.MINOR.PATCH with, now and then, a "v" prefix, a
// prerelease or build metadata.
func semverTag(r *rand.Rand) string {
	s := fmt.Sprintf("%d.%d.%d", r.IntN(10), r.IntN(50), r.IntN(200))
	switch r.IntN(20) {
	case 0, 1:
		s = "v" + s
	case 2:
		s += fmt.Sprintf("-rc.%d", r.IntN(5))
	case 3:
		s += fmt.Sprintf("+build.%d", r.IntN(100))
	}
	return s
}

// mainTag is a CI tag: branch, short commit, Unix time.
func mainTag(r *rand.Rand) string {
	return fmt.Sprintf("main-%07x-%d", r.Uint32()>>4, 1_600_000_000+r.IntN(100_000_000))
}

// shuffled returns a copy of tags in a random order fixed by shuffleSeed,
// each string copied in that order (as decoding a list in that order
// allocates them), so the cost measured is the order's, not scattered memory.
func shuffled(tags []string) []string {
	out := slices.Clone(tags)
	r := rand.New(rand.NewPCG(shuffleSeed, shuffleSeed))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for i, t := range out {
		out[i] = strings.Clone(t)
	}
	return out
}

// shuffleSeed fixes the order of every shuffled list in the tests and benchmarks.
const shuffleSeed = 7

func sorted(tags []string) []string {
	slices.Sort(tags)
	for i, t := range tags {
		tags[i] = strings.Clone(t)
	}
	return tags
}

// semverTags: every tag a version.
func semverTags(n int) []string {
	r := newRand(1)
	tags := make([]string, n)
	for i := range tags {
		tags[i] = semverTag(r)
	}
	return sorted(tags)
}

// mainTags: every tag main-<sha>-<timestamp>.
func mainTags(n int) []string {
	r := newRand(2)
	tags := make([]string, n)
	for i := range tags {
		tags[i] = mainTag(r)
	}
	return sorted(tags)
}

// numericTags: Unix timestamps.
func numericTags(n int) []string {
	r := newRand(3)
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprint(1_600_000_000 + r.IntN(100_000_000))
	}
	return sorted(tags)
}

// mixedTags: what a busy repository holds: 40% versions, 30% CI tags, 20%
// pull-request tags, 10% signatures and floating tags.
func mixedTags(n int) []string {
	r := newRand(4)
	floating := []string{"latest", "stable", "edge", "dev", "nightly"}
	tags := make([]string, n)
	for i := range tags {
		switch k := r.IntN(10); {
		case k < 4:
			tags[i] = semverTag(r)
		case k < 7:
			tags[i] = mainTag(r)
		case k < 9:
			tags[i] = fmt.Sprintf("pr-%d-%08x", r.IntN(5000), r.Uint32())
		case k < 10 && r.IntN(2) == 0:
			tags[i] = fmt.Sprintf("sha256-%016x%016x.sig", r.Uint64(), r.Uint64())
		default:
			tags[i] = floating[r.IntN(len(floating))]
		}
	}
	return sorted(tags)
}
