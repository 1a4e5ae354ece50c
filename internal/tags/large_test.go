package tags

import "testing"

// TestLargeTagLists checks the benchmark cases, over 100,000 tags, against
// the reference model, in listing order and shuffled.
func TestLargeTagLists(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 tags")
	}
	cases := []struct {
		name             string
		tags             []string
		policy           string // semver, alpha-asc, alpha-desc, num-asc, num-desc
		arg              string // semver range
		pattern, extract string
	}{
		{"semver over versions", semverTags(bigN), "semver", ">=1.0.0", "", ""},
		{"semver prereleases", semverTags(bigN), "semver", ">=1.0.0-0 <5", "", ""},
		{"semver over mixed", mixedTags(bigN), "semver", ">=1.0.0", "", ""},
		{"semver caret", mixedTags(bigN), "semver", "^3.4", "", ""},
		{"regex extract numerical", mainTags(bigN), "num-asc", "", `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts"},
		{"regex extract numerical over mixed", mixedTags(bigN), "num-desc", "", `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts"},
		{"capture-all alphabetical", mixedTags(bigN), "alpha-asc", "", `(?P<ts>.*)`, "$ts"},
		{"alphabetical", mixedTags(bigN), "alpha-desc", "", "", ""},
		{"numerical", numericTags(bigN), "num-asc", "", "", ""},
		{"numerical desc", numericTags(bigN), "num-desc", "", "", ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.pattern, tt.extract)
			if err != nil {
				t.Fatal(err)
			}
			var p Policy
			var want string
			switch tt.policy {
			case "semver":
				p = mustSemver(t, tt.arg)
				want, _ = refSemver(tt.tags, tt.arg, tt.pattern, tt.extract)
			case "alpha-asc", "alpha-desc":
				desc := tt.policy == "alpha-desc"
				p = mustAlphabetical(t, map[bool]string{true: "desc", false: "asc"}[desc])
				want, _ = refAlphabetical(tt.tags, desc, tt.pattern, tt.extract)
			default:
				desc := tt.policy == "num-desc"
				p = mustNumerical(t, map[bool]string{true: "desc", false: "asc"}[desc])
				want, _, _ = refNumerical(tt.tags, desc, tt.pattern, tt.extract)
			}
			if want == "" {
				t.Fatal("the reference found no winner; the case tests nothing")
			}
			for _, order := range []string{"listing", "shuffled"} {
				tags := tt.tags
				if order == "shuffled" {
					tags = shuffled(tags) // the benchmarks' shuffled input
				}
				got, err := p.Latest(tags, f)
				if err != nil || got != want {
					t.Errorf("%s order: Latest = %q, %v; reference %q", order, got, err, want)
				}
			}
		})
	}
}
