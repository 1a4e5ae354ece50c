package tags

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Filter keeps the tags that match a pattern and maps each kept tag to the
// value a policy compares (ImagePolicy's spec.filterTags). A nil *Filter
// keeps every tag as it is. A Filter is immutable and safe for concurrent use.
type Filter struct {
	pattern string
	extract string
	re      *regexp.Regexp // nil: every tag matches
	lin     *linearMatcher // the same pattern without backtracking, when it can be
	mode    extractMode
	group   int // the capture group returned by extractGroup
}

type extractMode uint8

const (
	extractNone     extractMode = iota // the value is the whole tag
	extractGroup                       // the value is one capture group: a substring
	extractTemplate                    // the value is built by regexp's Expand
)

// NewFilter compiles filterTags: pattern is a Go regular expression that a
// tag must match somewhere (it is not anchored unless it says ^ or $);
// extract, if not empty, is a template in the syntax of regexp.Expand ($name,
// ${name}, $1, $$) whose expansion over the match is the value compared.
//
// Flux expands a group that does not exist to an empty string, and so ranks
// every tag alike; here such a template is an error instead, as is an
// extract without a pattern or one that names no group at all.
func NewFilter(pattern, extract string) (*Filter, error) {
	f := &Filter{pattern: pattern, extract: extract}
	if pattern == "" {
		if extract != "" {
			return nil, fmt.Errorf("spec.filterTags.extract %q needs a spec.filterTags.pattern with the groups it names", extract)
		}
		return f, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("spec.filterTags.pattern %q is not a valid regular expression: %w", pattern, err)
	}
	f.re = re
	f.lin = compileLinear(pattern)
	if extract == "" {
		return f, nil
	}
	refs := templateRefs(extract)
	if len(refs) == 0 {
		return nil, fmt.Errorf("spec.filterTags.extract %q names no group of spec.filterTags.pattern; write $name or ${name} for a group (?P<name>...)", extract)
	}
	for _, r := range refs {
		if groupIndex(re, r.name) < 0 {
			return nil, fmt.Errorf("spec.filterTags.extract %q refers to %s, but spec.filterTags.pattern %q has no such group; its groups are %s",
				extract, r.text, pattern, describeGroups(re))
		}
	}
	f.mode = extractTemplate
	if len(refs) == 1 && refs[0].text == extract && !duplicateName(re, refs[0].name) {
		// The common case ("$ts"): the value is a substring of the tag.
		f.mode, f.group = extractGroup, groupIndex(re, refs[0].name)
	}
	return f, nil
}

// Pattern returns filterTags.pattern as given.
func (f *Filter) Pattern() string {
	if f == nil {
		return ""
	}
	return f.pattern
}

// Extract returns filterTags.extract as given.
func (f *Filter) Extract() string {
	if f == nil {
		return ""
	}
	return f.extract
}

// Match reports whether tag passes the filter and returns the value a
// policy compares for it. A group that does not take part in the match
// yields an empty value, as regexp.Expand does.
func (f *Filter) Match(tag string) (value string, ok bool) {
	if f.keepsAll() {
		return tag, true
	}
	return f.match(tag)
}

// keepsAll reports whether the filter keeps every tag as it is. Match costs
// a call per tag even then (it is just too large to inline), so a policy's
// loop tests this once and calls match only when there is a pattern.
func (f *Filter) keepsAll() bool { return f == nil || f.re == nil }

func (f *Filter) match(tag string) (value string, ok bool) {
	if f.lin != nil && f.mode != extractTemplate && len(tag) <= maxLinearInput {
		lo, hi, ok := f.lin.match(tag, f.group)
		switch {
		case !ok:
			return "", false
		case f.mode == extractNone:
			return tag, true
		}
		return tag[lo:hi], true
	}
	switch f.mode {
	case extractNone:
		if !f.re.MatchString(tag) {
			return "", false
		}
		return tag, true
	case extractGroup:
		loc := f.re.FindStringSubmatchIndex(tag)
		if loc == nil {
			return "", false
		}
		if loc[2*f.group] < 0 {
			return "", true
		}
		return tag[loc[2*f.group]:loc[2*f.group+1]], true
	default:
		loc := f.re.FindStringSubmatchIndex(tag)
		if loc == nil {
			return "", false
		}
		return string(f.re.ExpandString(nil, f.extract, tag, loc)), true
	}
}

// templateRef is one $ reference in an extract template.
type templateRef struct {
	name string // group name or decimal index
	text string // as written: $ts or ${ts}
}

// templateRefs lists the references of a template, reading it the way
// regexp.Expand does: "$$" is a literal "$", a name is the longest run of
// letters, digits and underscores, and a malformed "$" is literal text.
func templateRefs(tmpl string) []templateRef {
	var refs []templateRef
	for {
		i := strings.IndexByte(tmpl, '$')
		if i < 0 {
			return refs
		}
		tmpl = tmpl[i+1:]
		if strings.HasPrefix(tmpl, "$") {
			tmpl = tmpl[1:]
			continue
		}
		name, rest, ok := templateName(tmpl)
		if !ok {
			continue
		}
		refs = append(refs, templateRef{name: name, text: "$" + tmpl[:len(tmpl)-len(rest)]})
		tmpl = rest
	}
}

// templateName reads the name after a "$": {name} or a bare name.
func templateName(s string) (name, rest string, ok bool) {
	brace := strings.HasPrefix(s, "{")
	if brace {
		s = s[1:]
	}
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			break
		}
		i += size
	}
	if i == 0 {
		return "", "", false
	}
	name, rest = s[:i], s[i:]
	if brace {
		if !strings.HasPrefix(rest, "}") {
			return "", "", false
		}
		rest = rest[1:]
	}
	return name, rest, true
}

// groupIndex resolves a template name to a capture group of re, the way
// regexp.Expand does, or returns -1 if Expand would find none.
func groupIndex(re *regexp.Regexp, name string) int {
	if n, ok := templateNumber(name); ok {
		if n > re.NumSubexp() {
			return -1
		}
		return n
	}
	// SubexpIndex would pick the last of duplicate names; Expand uses the first.
	for i, n := range re.SubexpNames() {
		if i > 0 && n == name {
			return i
		}
	}
	return -1
}

// duplicateName reports whether several groups share name; Expand then
// uses the first of them that took part in the match, so the group varies.
func duplicateName(re *regexp.Regexp, name string) bool {
	n := 0
	for _, g := range re.SubexpNames() {
		if g == name {
			n++
		}
	}
	return n > 1
}

// templateNumber reads a name as a group index the way regexp.Expand does:
// ASCII digits, no leading zero, below 10^8. Other names refer to groups by name.
func templateNumber(name string) (int, bool) {
	if len(name) > 1 && name[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' || n >= 1e8 {
			return 0, false
		}
		n = n*10 + int(name[i]-'0')
	}
	return n, true
}

func describeGroups(re *regexp.Regexp) string {
	var names []string
	for i, n := range re.SubexpNames() {
		switch {
		case i == 0:
		case n != "":
			names = append(names, "$"+n)
		default:
			names = append(names, "$"+strconv.Itoa(i))
		}
	}
	if len(names) == 0 {
		return "none (add a group such as (?P<ts>[0-9]+))"
	}
	return strings.Join(names, ", ")
}
