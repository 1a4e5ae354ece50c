package tags

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Random lists against the reference model, built to hit the fast paths'
// edges: integers of every length around the decimal key's limits, with
// leading zeros and duplicates (ties), signs, fractions, NaN, values that
// are not numbers, and empty tags; unfiltered and through a filter, in both
// orders.

// numberLike returns a tag that is usually a number.
func numberLike(r *rand.Rand) string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	switch k := r.IntN(20); {
	case k < 12: // plain integers of 1 to 17 digits, leading zeros included
		return digits(1 + r.IntN(17))
	case k < 14: // around 10^15, where keys end
		return fmt.Sprint(999_999_999_999_990 + r.IntN(20))
	case k == 14:
		return []string{"-", "+"}[r.IntN(2)] + digits(1+r.IntN(12))
	case k == 15:
		return digits(1+r.IntN(5)) + "." + digits(r.IntN(4))
	case k == 16:
		return []string{"NaN", "Inf", "-Inf", "1e3", "-0", "0x10", "9007199254740993", "9007199254740992"}[r.IntN(8)]
	case k == 17: // one byte next to the digits' range
		b := []byte(digits(1 + r.IntN(15)))
		b[r.IntN(len(b))] = "/:a\x00\xb0"[r.IntN(5)]
		return string(b)
	case k == 18:
		return ""
	}
	return "latest"
}

func TestNumericalAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for i := range 4000 {
		n := 1 + r.IntN(30)
		pool := make([]string, 1+r.IntN(n)) // fewer values than tags: duplicates
		for j := range pool {
			pool[j] = numberLike(r)
			if r.IntN(4) > 0 && pool[j] != "" && strings.Trim(pool[j], "0123456789") != "" {
				pool[j] = fmt.Sprint(r.IntN(1000)) // mostly numbers, so that a winner exists
			}
		}
		tags := make([]string, n)
		for j := range tags {
			tags[j] = pool[r.IntN(len(pool))]
		}
		desc := r.IntN(2) == 0
		pattern, extract := "", ""
		if i%3 == 0 { // a filter: values are substrings, and some tags do not match
			pattern, extract = `^n-(?P<v>.*)`, "$v"
			for j := range tags {
				if r.IntN(8) > 0 {
					tags[j] = "n-" + tags[j]
				}
			}
		}
		checkNumerical(t, tags, desc, pattern, extract)
	}
}

func checkNumerical(t *testing.T, tags []string, desc bool, pattern, extract string) {
	t.Helper()
	f, err := NewFilter(pattern, extract)
	if err != nil {
		t.Fatal(err)
	}
	p := mustNumerical(t, map[bool]string{false: "asc", true: "desc"}[desc])
	want, found, notNumber := refNumerical(tags, desc, pattern, extract)
	got, err := p.Latest(tags, f)
	switch {
	case notNumber:
		if err == nil || !strings.Contains(err.Error(), "is not a number") {
			t.Fatalf("desc=%v %q: Latest = %q, %v; want a not-a-number error", desc, tags, got, err)
		}
	case (err == nil) != found || got != want:
		t.Fatalf("desc=%v %q: Latest = %q, %v; reference %q", desc, tags, got, err, want)
	}
}

func TestAlphabeticalAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	const alphabet = "aab0\xff-" // short strings over few bytes: shared prefixes and ties
	for i := range 4000 {
		tags := make([]string, 1+r.IntN(20))
		for j := range tags {
			b := make([]byte, r.IntN(4))
			for k := range b {
				b[k] = alphabet[r.IntN(len(alphabet))]
			}
			tags[j] = string(b)
		}
		desc := r.IntN(2) == 0
		pattern, extract := "", ""
		if i%3 == 0 {
			pattern, extract = `^a(?P<v>.*)`, "$v"
		}
		f, err := NewFilter(pattern, extract)
		if err != nil {
			t.Fatal(err)
		}
		p := mustAlphabetical(t, map[bool]string{false: "asc", true: "desc"}[desc])
		want, found := refAlphabetical(tags, desc, pattern, extract)
		if got, err := p.Latest(tags, f); (err == nil) != found || got != want {
			t.Fatalf("desc=%v pattern %q %q: Latest = %q, %v; reference %q", desc, pattern, tags, got, err, want)
		}
	}
}
