package tags

import (
	"fmt"
	"math"
	"strconv"
)

// Numerical picks by numeric value (ImagePolicy's policy.numerical).
type Numerical struct {
	order Order
}

// NewNumerical accepts order "asc" (the default when empty: the highest
// number wins) or "desc" (the lowest wins), in any case.
func NewNumerical(order string) (*Numerical, error) {
	o, err := parseOrder("spec.policy.numerical.order", order)
	if err != nil {
		return nil, err
	}
	return &Numerical{order: o}, nil
}

// Order returns the order in effect.
func (p *Numerical) Order() Order { return p.order }

// Latest returns the tag with the highest (asc) or lowest (desc) value.
// Like Flux, it fails if any value that passed the filter is not a number
// (strconv.ParseFloat syntax): a numerical policy needs a filter that keeps
// numbers only. NaN never beats a number.
func (p *Numerical) Latest(tags []string, f *Filter) (string, error) {
	if len(tags) == 0 {
		return "", ErrNoTags
	}
	desc := p.order == Descending
	best := -1 // index into tags; its value is looked up again only on a tie
	var bestN float64
	for i, tag := range tags {
		value, ok := f.Match(tag)
		if !ok {
			continue
		}
		n, ok := parseNumber(value)
		if !ok {
			return "", notNumber(tag, value, f)
		}
		if best >= 0 {
			better := n > bestN
			if desc {
				better = n < bestN
			}
			if !better && !winsNumericTie(tag, value, n, tags[best], f, bestN) {
				continue
			}
		}
		best, bestN = i, n
	}
	if best < 0 {
		return "", noMatch(len(tags), f, "is a number")
	}
	return tags[best], nil
}

// winsNumericTie decides the cases an ordered comparison leaves open: equal
// numbers (the tie rule, with the greater value winning), and NaN, which
// loses to every number and ties with NaN.
func winsNumericTie(tag, value string, n float64, bestTag string, f *Filter, bestN float64) bool {
	switch {
	case n == bestN:
	case math.IsNaN(bestN):
		if !math.IsNaN(n) {
			return true
		}
	default:
		return false
	}
	bestValue, _ := f.Match(bestTag)
	return candidate{bestTag, bestValue}.breaksTie(tag, value, false)
}

// parseNumber is strconv.ParseFloat(s, 64) with a fast path for an
// optionally signed integer of 1 to 18 digits, which timestamps and build
// numbers are. Such an integer fits an int64, and converting it to float64
// rounds exactly as ParseFloat rounds its decimal form, so both paths give
// the same value.
//
// A digit-by-digit loop is a chain of dependent multiplications, the slowest
// part of a numerical policy, so the digits after the first len%8 are
// converted eight at a time (SWAR), independently of the leading ones: the
// eight bytes are read as one little-endian word (the compiler merges the
// loads), the most significant digit in the lowest bits.
func parseNumber(s string) (float64, bool) {
	digits, neg := s, false
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		digits, neg = digits[1:], digits[0] == '-'
	}
	if len(digits) == 0 || len(digits) > 18 {
		return parseFloat(s)
	}
	var n uint64
	head := len(digits) % 8
	for i := 0; i < head; i++ {
		c := digits[i] - '0'
		if c > 9 {
			return parseFloat(s)
		}
		n = n*10 + uint64(c)
	}
	const hi, zeros = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030
	for d := digits[head:]; len(d) >= 8; d = d[8:] {
		x := uint64(d[0]) | uint64(d[1])<<8 | uint64(d[2])<<16 | uint64(d[3])<<24 |
			uint64(d[4])<<32 | uint64(d[5])<<40 | uint64(d[6])<<48 | uint64(d[7])<<56
		// Every byte is 0x30-0x39: high nibble 3, and still 3 after adding 6.
		if x&hi != zeros || (x+0x0606060606060606)&hi != zeros {
			return parseFloat(s)
		}
		x -= zeros
		x = x*10 + x>>8 // two-digit values, in every other byte
		x = ((x&0x000000FF000000FF)*(100+1_000_000<<32) + (x>>16&0x000000FF000000FF)*(1+10_000<<32)) >> 32
		n = n*100_000_000 + x
	}
	f := float64(int64(n)) // below 2^63: one conversion instruction
	if neg {
		f = -f
	}
	return f, true
}

func parseFloat(s string) (float64, bool) {
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

func notNumber(tag, value string, f *Filter) error {
	what := fmt.Sprintf("tag %q", tag)
	if value != tag {
		what = fmt.Sprintf("value %q (extracted from tag %q)", value, tag)
	}
	if f.Pattern() == "" {
		return fmt.Errorf("%s is not a number; a numerical policy compares every tag, so set spec.filterTags.pattern to keep only numeric tags (and spec.filterTags.extract to compare a numeric part)", what)
	}
	return fmt.Errorf("%s is not a number; change spec.filterTags.pattern (or spec.filterTags.extract) so that only numbers are compared", what)
}
