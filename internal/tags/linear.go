package tags

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Go's regexp finds submatches of most tag patterns with its backtracker
// (its one-pass engine needs a trailing $), which costs ~0.5µs and an
// allocation per tag. Most filterTags patterns, such as
// ^main-[a-f0-9]+-(?P<ts>[0-9]+) or (?P<ts>.*), are a plain sequence of
// literals, captures and greedy repeats of one character class, in which a
// repeat's characters cannot begin whatever may follow it. For those the
// leftmost-first match is found by a greedy scan that never backtracks:
// taking fewer repetitions would leave a character that nothing after the
// repeat can consume. linearMatcher runs that scan; any other pattern is left
// to regexp. FuzzFilter checks the two agree.

// maxLinearInput bounds the quadratic worst case of an unanchored search
// (a start at every position, each scanning to the end). OCI tags are at
// most 128 bytes; longer input goes to regexp.
const maxLinearInput = 256

type linearMatcher struct {
	steps    []linearStep
	anchored bool   // the pattern starts with ^ or \A
	prefix   string // unanchored and starting with this literal: find starts with strings.Index
}

type stepKind uint8

const (
	stepLiteral  stepKind = iota // consume lit
	stepClass                    // consume min..max runes of set
	stepCapStart                 // record the start of group cap
	stepCapEnd                   // record the end of group cap
	stepEndText                  // assert the end of the input
)

type linearStep struct {
	kind     stepKind
	lit      string
	set      *runeSet
	min, max int // max < 0: unbounded
	cap      int
}

// compileLinear returns a matcher for pattern, or nil if pattern is not of
// the shape described above.
func compileLinear(pattern string) *linearMatcher {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	m := &linearMatcher{}
	if !m.add(re) || !m.deterministic() {
		return nil
	}
	if !m.anchored && len(m.steps) > 0 && m.steps[0].kind == stepLiteral {
		m.prefix = m.steps[0].lit
	}
	return m
}

// add appends the steps of re, or reports that re is not of linear shape.
func (m *linearMatcher) add(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpBeginText: // only as the very first thing: ^ or \A
		if len(m.steps) > 0 || m.anchored {
			return false
		}
		m.anchored = true
		return true
	case syntax.OpEndText: // $ or \z, a check that may come anywhere
		m.steps = append(m.steps, linearStep{kind: stepEndText})
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !m.add(sub) {
				return false
			}
		}
		return true
	case syntax.OpCapture:
		m.steps = append(m.steps, linearStep{kind: stepCapStart, cap: re.Cap})
		if !m.add(re.Sub[0]) {
			return false
		}
		m.steps = append(m.steps, linearStep{kind: stepCapEnd, cap: re.Cap})
		return true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			for _, r := range re.Rune {
				m.steps = append(m.steps, linearStep{kind: stepClass, set: foldSet(r), min: 1, max: 1})
			}
			return true
		}
		lit := string(re.Rune)
		if strings.ContainsRune(lit, utf8.RuneError) {
			return false // regexp also matches invalid bytes as U+FFFD
		}
		m.steps = append(m.steps, linearStep{kind: stepLiteral, lit: lit})
		return true
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		m.steps = append(m.steps, linearStep{kind: stepClass, set: classSet(re), min: 1, max: 1})
		return true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		set := oneCharSet(re.Sub[0])
		if set == nil || re.Flags&syntax.NonGreedy != 0 {
			return false
		}
		st := linearStep{kind: stepClass, set: set, min: re.Min, max: re.Max}
		switch re.Op {
		case syntax.OpStar:
			st.min, st.max = 0, -1
		case syntax.OpPlus:
			st.min, st.max = 1, -1
		case syntax.OpQuest:
			st.min, st.max = 0, 1
		}
		m.steps = append(m.steps, st)
		return true
	}
	return false
}

// oneCharSet returns the set of a pattern that matches exactly one rune.
func oneCharSet(re *syntax.Regexp) *runeSet {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return nil
		}
		if re.Flags&syntax.FoldCase != 0 {
			return foldSet(re.Rune[0])
		}
		return newRuneSet([]rune{re.Rune[0], re.Rune[0]})
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return classSet(re)
	}
	return nil
}

func classSet(re *syntax.Regexp) *runeSet {
	switch re.Op {
	case syntax.OpAnyChar:
		return newRuneSet([]rune{0, unicode.MaxRune})
	case syntax.OpAnyCharNotNL:
		return newRuneSet([]rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune})
	}
	return newRuneSet(re.Rune)
}

// foldSet is the set of runes that match r case-insensitively.
func foldSet(r rune) *runeSet {
	var ranges []rune
	for f := r; ; {
		ranges = append(ranges, f, f)
		if f = unicode.SimpleFold(f); f == r {
			break
		}
	}
	return newRuneSet(normalize(ranges))
}

// deterministic reports whether no repeat can give back a rune that the
// steps after it could consume, which makes the greedy scan exact.
func (m *linearMatcher) deterministic() bool {
	for i, s := range m.steps {
		if s.kind != stepClass || s.min == s.max {
			continue
		}
		for _, next := range m.steps[i+1:] {
			if next.kind == stepLiteral {
				r, _ := utf8.DecodeRuneInString(next.lit)
				if s.set.contains(r) {
					return false
				}
				break
			}
			if next.kind == stepClass {
				if s.set.intersects(next.set) {
					return false
				}
				if next.min > 0 {
					break
				}
			}
		}
	}
	return true
}

// match finds the leftmost-first match in s and returns the bounds of group
// (0: the whole match).
func (m *linearMatcher) match(s string, group int) (lo, hi int, ok bool) {
	if m.anchored {
		return m.matchAt(s, 0, group)
	}
	for start := 0; start <= len(s); {
		if m.prefix != "" {
			i := strings.Index(s[start:], m.prefix)
			if i < 0 {
				return 0, 0, false
			}
			start += i
		}
		if lo, hi, ok = m.matchAt(s, start, group); ok {
			return lo, hi, true
		}
		if start == len(s) {
			break
		}
		start += runeWidth(s, start)
	}
	return 0, 0, false
}

func (m *linearMatcher) matchAt(s string, pos, group int) (lo, hi int, ok bool) {
	lo = pos
	for i := range m.steps {
		st := &m.steps[i]
		switch st.kind {
		case stepLiteral:
			if !strings.HasPrefix(s[pos:], st.lit) {
				return 0, 0, false
			}
			pos += len(st.lit)
		case stepClass:
			n := 0
			for (st.max < 0 || n < st.max) && pos < len(s) {
				r, w := rune(s[pos]), 1
				if r >= utf8.RuneSelf {
					r, w = utf8.DecodeRuneInString(s[pos:])
				}
				if !st.set.contains(r) {
					break
				}
				pos += w
				n++
			}
			if n < st.min {
				return 0, 0, false
			}
		case stepCapStart:
			if st.cap == group {
				lo = pos
			}
		case stepCapEnd:
			if st.cap == group {
				hi = pos
			}
		case stepEndText:
			if pos != len(s) {
				return 0, 0, false
			}
		}
	}
	if group == 0 {
		hi = pos
	}
	return lo, hi, true
}

func runeWidth(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}

// runeSet is a set of runes: a bitmap for ASCII and sorted ranges for all.
type runeSet struct {
	ascii  [2]uint64
	ranges []rune // lo, hi pairs, sorted, not overlapping
}

func newRuneSet(ranges []rune) *runeSet {
	s := &runeSet{ranges: ranges}
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r < utf8.RuneSelf; r++ {
			s.ascii[r/64] |= 1 << (r % 64)
		}
	}
	return s
}

func (s *runeSet) contains(r rune) bool {
	if r < utf8.RuneSelf {
		return s.ascii[r/64]&(1<<(r%64)) != 0
	}
	for i := 0; i+1 < len(s.ranges); i += 2 {
		if r < s.ranges[i] {
			return false
		}
		if r <= s.ranges[i+1] {
			return true
		}
	}
	return false
}

func (s *runeSet) intersects(o *runeSet) bool {
	a, b := s.ranges, o.ranges
	for len(a) > 1 && len(b) > 1 {
		switch {
		case a[1] < b[0]:
			a = a[2:]
		case b[1] < a[0]:
			b = b[2:]
		default:
			return true
		}
	}
	return false
}

// normalize sorts and merges single-rune ranges.
func normalize(ranges []rune) []rune {
	for i := 2; i < len(ranges); i += 2 { // insertion sort: fold orbits are tiny
		for j := i; j >= 2 && ranges[j] < ranges[j-2]; j -= 2 {
			ranges[j], ranges[j-2] = ranges[j-2], ranges[j]
			ranges[j+1], ranges[j-1] = ranges[j-1], ranges[j+1]
		}
	}
	return ranges
}
