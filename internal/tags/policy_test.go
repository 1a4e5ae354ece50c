package tags

import (
	"errors"
	"strings"
	"testing"
)

// policyCase is one ImagePolicy evaluation.
type policyCase struct {
	name             string
	policy           Policy
	pattern, extract string
	tags             []string
	want             string
	wantErr          string // substring; empty: no error
}

func runPolicyCases(t *testing.T, cases []policyCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.pattern, tt.extract)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.policy.Latest(tt.tags, f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Latest = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Latest = %q, %v; want %q", got, err, tt.want)
			}
			// Order must not matter.
			rev := make([]string, len(tt.tags))
			for i, tag := range tt.tags {
				rev[len(rev)-1-i] = tag
			}
			if got, _ := tt.policy.Latest(rev, f); got != tt.want {
				t.Fatalf("Latest(reversed) = %q; want %q", got, tt.want)
			}
		})
	}
}

func mustSemver(t *testing.T, r string) *Semver {
	t.Helper()
	p, err := NewSemver(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustAlphabetical(t *testing.T, order string) *Alphabetical {
	t.Helper()
	p, err := NewAlphabetical(order)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustNumerical(t *testing.T, order string) *Numerical {
	t.Helper()
	p, err := NewNumerical(order)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSemverLatest(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{name: "range", policy: mustSemver(t, "1.0.x"),
			tags: []string{"1.0.0", "1.0.0.1", "1.0.0p", "1.0.1", "1.2.0", "0.1.0"}, want: "1.0.1"},
		{name: "v prefix", policy: mustSemver(t, "1.0.x"),
			tags: []string{"v1.2.3", "v1.0.0", "v0.1.0"}, want: "v1.0.0"},
		{name: "not versions", policy: mustSemver(t, "1.0.x"),
			tags: []string{"b1.2.3", "b1.0.0"}, wantErr: "none of the 2 tags is a version within range"},
		{name: "empty", policy: mustSemver(t, "1.0.x"), wantErr: "no tags"},
		{name: "out of range", policy: mustSemver(t, "1.0.x"),
			tags: []string{"1.2.0"}, wantErr: `range "1.0.x"`},
		{name: "prerelease excluded", policy: mustSemver(t, ">=1.0.0"),
			tags: []string{"1.0.0", "1.1.0-rc.1"}, want: "1.0.0"},
		{name: "prerelease included", policy: mustSemver(t, ">=1.0.0-0"),
			tags: []string{"1.0.0", "1.1.0-rc.1", "1.1.0-rc.2"}, want: "1.1.0-rc.2"},
		{name: "release beats its prerelease", policy: mustSemver(t, ">=1.0.0-0"),
			tags: []string{"1.1.0-rc.1", "1.1.0"}, want: "1.1.0"},
		{name: "tie v prefix: least value", policy: mustSemver(t, ">=1.0.0"),
			tags: []string{"v1.2.0", "1.2.0", "1.1.0"}, want: "1.2.0"},
		{name: "tie build metadata: least value", policy: mustSemver(t, ">=1.0.0"),
			tags: []string{"1.2.0+b", "1.2.0+a"}, want: "1.2.0+a"},
		{name: "highest major wins over lexical order", policy: mustSemver(t, ">=1.0.0"),
			tags: []string{"9.0.0", "10.0.0", "1.99.99"}, want: "10.0.0"},
		{name: "filter", policy: mustSemver(t, ">=1.0.0"), pattern: `^v`,
			tags: []string{"2.0.0", "v1.5.0"}, want: "v1.5.0"},
		{name: "extract", policy: mustSemver(t, ">=1.0.0"), pattern: `^app-(?P<v>.*)$`, extract: "$v",
			tags: []string{"app-1.0.0", "app-1.10.0", "app-1.9.0", "other-2.0.0"}, want: "app-1.10.0"},
		{name: "extract tie: greatest tag", policy: mustSemver(t, ">=1.0.0"), pattern: `^(a|b)-(?P<v>.*)$`, extract: "$v",
			tags: []string{"a-1.0.0", "b-1.0.0"}, want: "b-1.0.0"},
		{name: "filter matches nothing", policy: mustSemver(t, ">=1.0.0"), pattern: `^x`,
			tags: []string{"1.0.0"}, wantErr: `matches the pattern "^x"`},
	})
}

func TestAlphabeticalLatest(t *testing.T) {
	letters := []string{"a", "c", "b", "Z"}
	runPolicyCases(t, []policyCase{
		{name: "asc", policy: mustAlphabetical(t, "asc"), tags: letters, want: "c"},
		{name: "default asc", policy: mustAlphabetical(t, ""), tags: letters, want: "c"},
		{name: "ASC", policy: mustAlphabetical(t, "ASC"), tags: letters, want: "c"},
		{name: "desc", policy: mustAlphabetical(t, "desc"), tags: letters, want: "Z"},
		{name: "timestamps", policy: mustAlphabetical(t, "asc"),
			tags: []string{"RELEASE.2021-01-01T00-00-00Z", "RELEASE.2023-05-04T10-00-00Z", "RELEASE.2022-12-31T23-59-59Z"},
			want: "RELEASE.2023-05-04T10-00-00Z"},
		{name: "extract", policy: mustAlphabetical(t, "asc"), pattern: `^(?P<ts>.*)-\w+$`, extract: "$ts",
			tags: []string{"2021-x", "2022-a", "2020-z"}, want: "2022-a"},
		{name: "extract tie: greatest tag", policy: mustAlphabetical(t, "desc"), pattern: `^\w+-(?P<ts>\d+)$`, extract: "$ts",
			tags: []string{"b-1", "a-1", "c-2"}, want: "b-1"},
		{name: "duplicates", policy: mustAlphabetical(t, "asc"), tags: []string{"a", "a"}, want: "a"},
		{name: "empty tag asc", policy: mustAlphabetical(t, "asc"), tags: []string{"", "a", ""}, want: "a"},
		{name: "empty tag desc", policy: mustAlphabetical(t, "desc"), tags: []string{"b", "", "a"}, want: ""},
		{name: "only an empty tag", policy: mustAlphabetical(t, "asc"), tags: []string{""}, want: ""},
		{name: "same first byte asc", policy: mustAlphabetical(t, "asc"), tags: []string{"ab", "aa", "ac", "a"}, want: "ac"},
		{name: "same first byte desc", policy: mustAlphabetical(t, "desc"), tags: []string{"ab", "aa", "ac", "a"}, want: "a"},
		{name: "prefixes desc", policy: mustAlphabetical(t, "desc"), tags: []string{"abc", "ab", "abcd"}, want: "ab"},
		{name: "bytes above ASCII asc", policy: mustAlphabetical(t, "asc"), tags: []string{"z", "\xffa", "\x80"}, want: "\xffa"},
		{name: "bytes above ASCII desc", policy: mustAlphabetical(t, "desc"), tags: []string{"\x80", "z", "\xff"}, want: "z"},
		{name: "empty", policy: mustAlphabetical(t, "asc"), wantErr: "no tags"},
		{name: "no match", policy: mustAlphabetical(t, "asc"), pattern: "^x", tags: letters, wantErr: "none of the 4 tags"},
	})
	if _, err := NewAlphabetical("sideways"); err == nil || !strings.Contains(err.Error(), `policy.alphabetical.order "sideways"`) {
		t.Errorf("NewAlphabetical(sideways) error = %v", err)
	}
}

func TestNumericalLatest(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{name: "integers asc", policy: mustNumerical(t, ""),
			tags: []string{"-62", "-88", "73", "72", "15", "16", "15", "29", "-33", "-91"}, want: "73"},
		{name: "integers desc", policy: mustNumerical(t, "desc"),
			tags: []string{"5", "-8", "-78", "25", "70", "-4", "80", "92", "-20", "-24"}, want: "-78"},
		{name: "floats", policy: mustNumerical(t, "asc"),
			tags: []string{"47.40896403322944", "-27.8520927455902", "53.47333823144817", "3.2008658570411086"}, want: "53.47333823144817"},
		{name: "timestamps desc", policy: mustNumerical(t, "DESC"),
			tags: []string{"1606234201", "1606364286", "1606334092"}, want: "1606234201"},
		{name: "tie: greatest value", policy: mustNumerical(t, "asc"), tags: []string{"1", "1.0", "01", "0.5"}, want: "1.0"},
		{name: "huge integers beyond the fast path", policy: mustNumerical(t, "asc"),
			tags: []string{"99999999999999999999", "200000000000000000000"}, want: "200000000000000000000"},
		{name: "equal as float64: a tie, like Flux", policy: mustNumerical(t, "asc"),
			tags: []string{"9007199254740993", "9007199254740992"}, want: "9007199254740993"},
		{name: "exponent and sign", policy: mustNumerical(t, "asc"), tags: []string{"1e3", "+999", "-1e9"}, want: "1e3"},
		{name: "NaN never wins", policy: mustNumerical(t, "desc"), tags: []string{"NaN", "5"}, want: "5"},
		{name: "only NaN", policy: mustNumerical(t, "asc"), tags: []string{"NaN"}, want: "NaN"},
		{name: "not a number", policy: mustNumerical(t, "asc"),
			tags: []string{"0", "1a", "b"}, wantErr: `tag "1a" is not a number`},
		{name: "filtered", policy: mustNumerical(t, "asc"), pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, extract: "$ts",
			tags: []string{"latest", "main-abc-100", "main-def-20", "1.0.0"}, want: "main-abc-100"},
		{name: "extracted not a number", policy: mustNumerical(t, "asc"), pattern: `^main-(?P<ts>\w+)`, extract: "$ts",
			tags: []string{"main-100", "main-x1"}, wantErr: `value "x1" (extracted from tag "main-x1")`},
		{name: "no match", policy: mustNumerical(t, "asc"), pattern: `^\d+$`, tags: []string{"latest"}, wantErr: "none of the 1 tags"},
		{name: "empty", policy: mustNumerical(t, "asc"), wantErr: "no tags"},
		{name: "leading zeros: a tie, the greatest value wins", policy: mustNumerical(t, "asc"),
			tags: []string{"0123", "123", "00123", "45"}, want: "123"},
		{name: "leading zeros desc", policy: mustNumerical(t, "desc"),
			tags: []string{"100", "0005", "99", "1000", "5", "05"}, want: "5"},
		{name: "zeros and signed zeros tie", policy: mustNumerical(t, "asc"), tags: []string{"-0", "0", "+0", "00"}, want: "00"},
		{name: "zeros and signed zeros tie desc", policy: mustNumerical(t, "desc"), tags: []string{"1", "+0", "00", "-0", "0"}, want: "00"},
		{name: "7, 8 and 9 digits", policy: mustNumerical(t, "asc"),
			tags: []string{"12345678", "9999999", "99999999", "100000000", "1234567"}, want: "100000000"},
		{name: "15 and 16 digits", policy: mustNumerical(t, "asc"),
			tags: []string{"999999999999999", "1000000000000000", "99999999999999"}, want: "1000000000000000"},
		{name: "15 and 16 digits desc", policy: mustNumerical(t, "desc"),
			tags: []string{"1000000000000000", "999999999999999", "0999999999999999"}, want: "999999999999999"},
		{name: "equal as float64 desc: a tie, the greatest value wins", policy: mustNumerical(t, "desc"),
			tags: []string{"9007199254740994", "9007199254740992", "9007199254740993"}, want: "9007199254740993"},
		{name: "a fraction beats the integers around it", policy: mustNumerical(t, "asc"),
			tags: []string{"10", "20", "20.5", "3", "19"}, want: "20.5"},
		{name: "integers beat a float best", policy: mustNumerical(t, "asc"), tags: []string{"1e1", "11", "9", "10.5"}, want: "11"},
		{name: "negative integers", policy: mustNumerical(t, "asc"), tags: []string{"-5", "-12", "-3"}, want: "-3"},
		{name: "negative integers desc", policy: mustNumerical(t, "desc"), tags: []string{"-5", "3", "-12", "-3"}, want: "-12"},
		{name: "the best again", policy: mustNumerical(t, "asc"), tags: []string{"1", "2", "3", "3", "2"}, want: "3"},
		{name: "NaN loses to a number", policy: mustNumerical(t, "asc"), tags: []string{"nan", "NaN", "5"}, want: "5"},
		{name: "NaN ties NaN: the greatest value wins", policy: mustNumerical(t, "desc"), tags: []string{"NaN", "nan"}, want: "nan"},
		{name: "NaN among integers", policy: mustNumerical(t, "asc"), tags: []string{"5", "NaN", "7", "6"}, want: "7"},
		{name: "infinity", policy: mustNumerical(t, "asc"), tags: []string{"5", "Inf", "7"}, want: "Inf"},
		{name: "minus infinity desc", policy: mustNumerical(t, "desc"), tags: []string{"5", "-Inf", "7"}, want: "-Inf"},
		{name: "not a number after integers", policy: mustNumerical(t, "asc"),
			tags: []string{"1", "2", "3", "1.2.3", "4", "x"}, wantErr: `tag "1.2.3" is not a number`},
		{name: "an empty tag is not a number", policy: mustNumerical(t, "desc"), tags: []string{"5", "", "6"}, wantErr: `tag "" is not a number`},
		{name: "digits then a letter", policy: mustNumerical(t, "asc"), tags: []string{"1606234201", "160623420a"}, wantErr: `tag "160623420a"`},
		{name: "a letter then digits", policy: mustNumerical(t, "asc"), tags: []string{"1606234201", "a606234201"}, wantErr: `tag "a606234201"`},
	})
}

func TestErrorsWrap(t *testing.T) {
	p := mustSemver(t, ">=1.0.0")
	if _, err := p.Latest(nil, nil); !errors.Is(err, ErrNoTags) {
		t.Errorf("empty list: %v, want ErrNoTags", err)
	}
	if _, err := p.Latest([]string{"x"}, nil); !errors.Is(err, ErrNoMatch) {
		t.Errorf("no version: %v, want ErrNoMatch", err)
	}
}
