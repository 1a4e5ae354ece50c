package kustomize

import "slices"

// The patterns of ${var#glob} and ${var%glob} are shell globs: * matches any characters, /
// included (as in bash's parameter expansion, unlike path.Match), ? one character, [...] one of
// a class ([!...] or [^...] for none of it, a-z for a range), and \ makes the next character
// literal. Matching simulates the pattern over the value once, noting every prefix it matches, so
// the cost is the product of their lengths whatever the pattern: no backtracking to blow up.

type globKind uint8

const (
	globLiteral globKind = iota
	globAny              // ?
	globStar             // *
	globClass            // [...]
)

type globToken struct {
	kind   globKind
	r      rune
	ranges [][2]rune // globClass: inclusive ranges
	negate bool      // globClass: [!...]
}

func (t globToken) matches(r rune) bool {
	switch t.kind {
	case globLiteral:
		return r == t.r
	case globAny:
		return true
	case globClass:
		in := false
		for _, rg := range t.ranges {
			if rg[0] <= r && r <= rg[1] {
				in = true
				break
			}
		}
		return in != t.negate
	}
	return false
}

// compileGlob splits pattern into tokens. A [ without its ] is a literal [, as in bash.
func compileGlob(pattern string) []globToken {
	p := []rune(pattern)
	var tokens []globToken
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '*':
			tokens = append(tokens, globToken{kind: globStar})
		case c == '?':
			tokens = append(tokens, globToken{kind: globAny})
		case c == '\\' && i+1 < len(p):
			i++
			tokens = append(tokens, globToken{kind: globLiteral, r: p[i]})
		case c == '[':
			if t, next, ok := compileClass(p, i); ok {
				tokens = append(tokens, t)
				i = next
				continue
			}
			tokens = append(tokens, globToken{kind: globLiteral, r: c})
		default:
			tokens = append(tokens, globToken{kind: globLiteral, r: c})
		}
	}
	return tokens
}

// compileClass reads the class that starts at p[start] == '[' and returns it with the index of
// its closing ']'.
func compileClass(p []rune, start int) (globToken, int, bool) {
	t := globToken{kind: globClass}
	i := start + 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		t.negate = true
		i++
	}
	first := i
	for ; i < len(p); i++ {
		if p[i] == ']' && i > first {
			return t, i, true
		}
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		hi := lo
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			hi = p[i+2]
			i += 2
		}
		t.ranges = append(t.ranges, [2]rune{lo, hi})
	}
	return t, 0, false
}

// prefixMatches reports, for each n from 0 to len(s), whether tokens match s[:n] entirely.
func prefixMatches(tokens []globToken, s []rune) []bool {
	ends := make([]bool, len(s)+1)
	cur := make([]bool, len(tokens)+1)
	next := make([]bool, len(tokens)+1)
	cur[0] = true
	closeStars(tokens, cur)
	ends[0] = cur[len(tokens)]
	for j, r := range s {
		clear(next)
		alive := false
		for i, on := range cur[:len(tokens)] {
			if !on {
				continue
			}
			switch t := tokens[i]; {
			case t.kind == globStar:
				next[i], alive = true, true
			case t.matches(r):
				next[i+1], alive = true, true
			}
		}
		if !alive {
			break
		}
		closeStars(tokens, next)
		cur, next = next, cur
		ends[j+1] = cur[len(tokens)]
	}
	return ends
}

// closeStars adds the states reached by letting stars match nothing.
func closeStars(tokens []globToken, states []bool) {
	for i, t := range tokens {
		if states[i] && t.kind == globStar {
			states[i+1] = true
		}
	}
}

// trimPrefix removes from v the shortest (or longest) prefix that pattern matches.
func trimPrefix(v, pattern string, longest bool) string {
	r := []rune(v)
	n := matchLength(prefixMatches(compileGlob(pattern), r), longest)
	return string(r[n:])
}

// trimSuffix removes from v the shortest (or longest) suffix that pattern matches, matching the
// reversed pattern against the reversed value.
func trimSuffix(v, pattern string, longest bool) string {
	r := []rune(v)
	tokens := compileGlob(pattern)
	slices.Reverse(tokens)
	rev := slices.Clone(r)
	slices.Reverse(rev)
	n := matchLength(prefixMatches(tokens, rev), longest)
	return string(r[:len(r)-n])
}

// matchLength returns the shortest or the longest length that ends marks; 0 when none does.
func matchLength(ends []bool, longest bool) int {
	if longest {
		for n := len(ends) - 1; n >= 0; n-- {
			if ends[n] {
				return n
			}
		}
		return 0
	}
	for n, ok := range ends {
		if ok {
			return n
		}
	}
	return 0
}
