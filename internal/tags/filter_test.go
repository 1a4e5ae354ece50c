package tags

import (
	"strings"
	"testing"
)

func TestNewFilterErrors(t *testing.T) {
	tests := []struct {
		pattern, extract string
		wantErr          string // substring; empty: no error
	}{
		{"", "", ""},
		{"^v", "", ""},
		{`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", ""},
		{`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "${ts}", ""},
		{`^(\d+)\.(\d+)$`, "$1.$2", ""},
		{`^(?P<a>x)`, "$$-$a", ""},
		{"(", "", "filterTags.pattern \"(\" is not a valid regular expression"},
		{"", "$ts", "needs a spec.filterTags.pattern"},
		{"^v", "literal", "names no group"},
		{"^v", "$", "names no group"},
		{"^v", "$$", "names no group"},
		{`(?P<ts>\d+)`, "$tss", "refers to $tss"},
		{`(?P<ts>\d+)`, "$ts_x", "refers to $ts_x"},
		{`(?P<ts>\d+)`, "$2", "refers to $2"},
		{`(?P<ts>\d+)`, "$01", "refers to $01"},
		{`^v`, "$1", "its groups are none"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.extract, func(t *testing.T) {
			_, err := NewFilter(tt.pattern, tt.extract)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		pattern, extract, tag string
		value                 string
		ok                    bool
	}{
		{"", "", "anything", "anything", true},
		{"^v", "", "v1", "v1", true},
		{"^v", "", "1", "", false},
		{"-rc", "", "1.0.0-rc.1", "1.0.0-rc.1", true}, // unanchored
		{`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", "main-abc123-1600000000", "1600000000", true},
		{`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", "main-abc123-1600000000-extra", "1600000000", true},
		{`^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", "feature-abc-1", "", false},
		{`^(?P<ts>.*)`, "${ts}", "x", "x", true},
		{`^(\d+)\.(\d+)$`, "$2.$1", "10.20", "20.10", true},
		{`^(?P<a>x)?y`, "$a", "y", "", true}, // group outside the match
		{`^(?P<a>x)y`, "$0", "xyz", "xy", true},
		{`^(?P<a>x)`, "$$$a", "x", "$x", true},
		{`^(?P<a>\w+)`, "pre-$a", "tag", "pre-tag", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.extract+" "+tt.tag, func(t *testing.T) {
			f, err := NewFilter(tt.pattern, tt.extract)
			if err != nil {
				t.Fatal(err)
			}
			value, ok := f.Match(tt.tag)
			if value != tt.value || ok != tt.ok {
				t.Fatalf("Match(%q) = %q, %v; want %q, %v", tt.tag, value, ok, tt.value, tt.ok)
			}
		})
	}
}

func TestNilFilter(t *testing.T) {
	var f *Filter
	if v, ok := f.Match("x"); v != "x" || !ok {
		t.Errorf("nil filter Match = %q, %v", v, ok)
	}
	if f.Pattern() != "" || f.Extract() != "" {
		t.Error("nil filter has a pattern or extract")
	}
}
