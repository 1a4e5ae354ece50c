package kustomize

import (
	"strconv"
	"strings"
)

// The string functions of the expressions, apart from the glob trims (glob.go).

// substr is bash's ${v:offset:length} over characters. An offset or length that is not a number
// leaves v as it is, as Flux does.
func substr(v, offset, length string, hasLength bool) string {
	r := []rune(v)
	pos, err := strconv.Atoi(strings.TrimSpace(offset))
	if err != nil {
		return v
	}
	if pos < 0 {
		pos = max(len(r)+pos, 0)
	}
	if pos > len(r) {
		return ""
	}
	end := len(r)
	if hasLength {
		n, err := strconv.Atoi(strings.TrimSpace(length))
		if err != nil {
			return v
		}
		if n < 0 {
			end = len(r) + n
		} else if n < end-pos {
			end = pos + n
		}
	}
	if end <= pos {
		return ""
	}
	return string(r[pos:end])
}

// replaced is v with pattern replaced: mode '1' the first occurrence, '/' every one, '#' at the
// start only, '%' at the end only.
func replaced(v string, mode byte, pattern, replacement string) string {
	switch {
	case mode == '#':
		if strings.HasPrefix(v, pattern) {
			return replacement + v[len(pattern):]
		}
	case mode == '%':
		if strings.HasSuffix(v, pattern) {
			return v[:len(v)-len(pattern)] + replacement
		}
	case pattern == "":
		// An empty pattern matches nothing, as in bash.
	case mode == '/':
		return strings.ReplaceAll(v, pattern, replacement)
	default:
		return strings.Replace(v, pattern, replacement, 1)
	}
	return v
}
