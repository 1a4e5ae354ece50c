package kustomize

import (
	"errors"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"name": "podinfo", "path": "/home/bozo/ideas/thoughts.for.today", "file": "bash.string.txt",
		"upper": "ABC", "empty": "", "slashes": "foo/bar/baz", "z": "abcABC123ABCabc", "accent": "éclair",
	}
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"${name}", "podinfo"},
		{"a-${name}-b ${name}", "a-podinfo-b podinfo"},
		{"${missing}", ""},
		{"$name stays", "$name stays"},
		{"cost: 5$ and $ alone $", "cost: 5$ and $ alone $"},
		// escapes
		{"$${name}", "${name}"},
		{"$$", "$"},
		{"$$$", "$$"},
		{"$$name", "$name"},
		{"$${name", "${name"},
		{"some ${name}$${var$${name}$name${name}", "some podinfo${var${name}$namepodinfo"},
		// defaults
		{"${missing:=def}", "def"},
		{"${missing:-def}", "def"},
		{"${missing=def}", "def"},
		{"${missing-def}", "def"},
		{"${empty:=def}", "def"},
		{"${empty=def}", "def"},
		{"${name:=def}", "podinfo"},
		{"${name-def}", "podinfo"},
		{"${missing:=}", ""},
		{"${missing:=${name}}", "podinfo"},
		{"${missing:=pre-${name}-post}", "pre-podinfo-post"},
		{"${missing:=${also:=${name^^}}}", "PODINFO"},
		{"${missing:=a{b}", "a{b"},
		// length
		{"${#name}", "7"},
		{"${#accent}", "6"},
		{"${#missing}", "0"},
		// substrings
		{"${path:11}", "ideas/thoughts.for.today"},
		{"${path:11:5}", "ideas"},
		{"${name:0:3}", "pod"},
		{"${name: -4}", "info"},
		{"${name:-4}", "podinfo"}, // a default, as in bash
		{"${name:3:100}", "info"},
		{"${name:100}", ""},
		{"${name:2:-2}", "din"},
		{"${name:x}", "podinfo"},
		{"${accent:1:3}", "cla"},
		{"${name:${one:=1}:2}", "od"},
		// replacement
		{"${z/abc/xyz}", "xyzABC123ABCabc"},
		{"${z//abc/xyz}", "xyzABC123ABCxyz"},
		{"${z/#abc/XYZ}", "XYZABC123ABCabc"},
		{"${z/%abc/XYZ}", "abcABC123ABCXYZ"},
		{"${z/#/pre-}", "pre-abcABC123ABCabc"},
		{"${z/%/-post}", "abcABC123ABCabc-post"},
		{"${z/abc}", "ABC123ABCabc"},
		{"${z//abc/}", "ABC123ABC"},
		{"${z//nope/x}", "abcABC123ABCabc"},
		{"${z///x}", "abcABC123ABCabc"},
		{`${slashes/\//-}`, "foo-bar/baz"},
		{`${slashes//\//-}`, "foo-bar-baz"},
		{`${slashes//\//\\}`, `foo\bar\baz`},
		{"${name/pod/${upper}}", "ABCinfo"},
		// trimming with globs
		{"${file#*.}", "string.txt"},
		{"${file##*.}", "txt"},
		{"${file%.*}", "bash.string"},
		{"${file%%.*}", "bash"},
		{"${path##*/}", "thoughts.for.today"},
		{"${path#*/}", "home/bozo/ideas/thoughts.for.today"},
		{"${path%/*}", "/home/bozo/ideas"},
		{"${file#b?sh}", ".string.txt"},
		{"${file#[a-c]}", "ash.string.txt"},
		{"${file#[!a-c]}", "bash.string.txt"},
		{"${file#*}", "bash.string.txt"},
		{"${file##*}", ""},
		{`${file#\*}`, "bash.string.txt"},
		{"${file%[.]txt}", "bash.string"},
		{"${file#nomatch}", "bash.string.txt"},
		// case
		{"${name^}", "Podinfo"},
		{"${name^^}", "PODINFO"},
		{"${upper,}", "aBC"},
		{"${upper,,}", "abc"},
		{"${accent^}", "Éclair"},
		{"${empty^^}", ""},
	}
	for _, tc := range cases {
		got, err := expand(tc.in, vars, false)
		if err != nil {
			t.Errorf("expand(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpandStrict(t *testing.T) {
	vars := map[string]string{"set": "v", "empty": ""}
	ok := map[string]string{
		"${set}": "v", "${empty}": "", "${missing:=d}": "d", "${missing:-d}": "d", "${missing=d}": "d",
		"${missing-d}": "d", "${set:=${missing}}": "v", "$${missing}": "${missing}", "$missing": "$missing",
	}
	for in, want := range ok {
		if got, err := expand(in, vars, true); err != nil || got != want {
			t.Errorf("expand(%q, strict) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"${missing}", "${#missing}", "${missing^}", "${missing,,}", "${missing:0}", "${missing:0:2}",
		"${missing/a/b}", "${missing//a/b}", "${missing#a}", "${missing%%a}", "${missing:=${other}}", "x ${missing} y",
	} {
		_, err := expand(in, vars, true)
		var unset *unsetError
		if !errors.As(err, &unset) {
			t.Errorf("expand(%q, strict) error = %v, want an unset variable", in, err)
			continue
		}
		if !strings.Contains(err.Error(), "variable not set (strict mode): ") {
			t.Errorf("message %q", err)
		}
	}
}

func TestExpandSyntaxErrors(t *testing.T) {
	for _, in := range []string{
		"${", "${name", "${}", "${ name}", "${name.sub}", "${{ github.ref }}", "${#}", "${#name", "${name:=x",
		"${name/a/b", "${name^x}", "${name^^^}", "text ${name:1:2", "${name!}", "${-x}",
		strings.Repeat("${a:=", 100) + "x" + strings.Repeat("}", 100),
	} {
		_, err := expand(in, map[string]string{"name": "v"}, false)
		var syntax *syntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("expand(%q) error = %v, want a syntax error", in, err)
			continue
		}
		if !strings.Contains(err.Error(), "bad substitution") || !strings.Contains(err.Error(), "$${") {
			t.Errorf("message %q does not say what to do", err)
		}
	}
}
