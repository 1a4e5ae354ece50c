package tags

import (
	"fmt"
	"math"
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
//
// Without a filter, runs of plain integers of up to 15 digits (build
// numbers, Unix times in seconds or milliseconds) are compared by their
// decimal keys (number.go) in scanKeys, which checks that they are numbers
// without converting them. Every other value, and a number equal to the
// best, is decided on float64 values, as Flux does.
func (p *Numerical) Latest(tags []string, f *Filter) (string, error) {
	if len(tags) == 0 {
		return "", ErrNoTags
	}
	// Both orders look for a maximum: of the value (asc) or of its negation
	// (desc), that is, of the complemented key or the negated float64, which
	// is exact and keeps ties (-0 == 0) and NaN as they are.
	b := numericBest{sign: 1}
	if p.order == Descending {
		b.flip, b.sign = ^uint64(0), -1
	}
	all := f.keepsAll()
	for i := 0; i < len(tags); i++ {
		if all && b.isKey {
			stop, won, hi, lo := scanKeys(tags[i:], b.hi, b.lo, b.flip)
			if won >= 0 {
				b.tag, b.value, b.hi, b.lo, b.isN = tags[i+won], tags[i+won], hi, lo, false
			}
			if i += stop; i == len(tags) {
				break
			}
		}
		tag, value := tags[i], tags[i]
		if !all {
			var ok bool
			if value, ok = f.match(tag); !ok {
				continue
			}
		}
		n, ok := parseNumber(value)
		if !ok {
			return "", notNumber(tag, value, f)
		}
		b.consider(tag, value, n*b.sign)
	}
	if !b.found {
		return "", noMatch(len(tags), f, "is a number")
	}
	return b.tag, nil
}

// numericBest is the best tag so far and what it is compared by.
type numericBest struct {
	flip  uint64  // the order's: all ones for desc
	sign  float64 // the order's: -1 for desc
	found bool

	tag, value string
	isKey      bool // value has a decimal key: hi, lo, XORed with flip
	hi, lo     uint64
	isN        bool    // n is known (scanKeys leaves it to be parsed)
	n          float64 // value's float64, times sign
}

// consider makes tag the best if its value, whose float64 times sign is n,
// beats the best: a greater n wins; equal ones go to the tie rule (the
// greater value, then the greater tag); NaN loses to every number and ties
// with NaN.
func (b *numericBest) consider(tag, value string, n float64) {
	if b.found {
		if !b.isN {
			bn, _ := parseNumber(b.value) // a decimal key: it parses
			b.n, b.isN = bn*b.sign, true
		}
		switch {
		case n > b.n:
		case n == b.n, math.IsNaN(n) && math.IsNaN(b.n):
			if !(candidate{b.tag, b.value}).breaksTie(tag, value, false) {
				return
			}
		case math.IsNaN(b.n): // and n is a number
		default: // n is less, or NaN while the best is a number
			return
		}
	}
	hi, lo, isKey := decimalKey(value)
	b.found, b.tag, b.value, b.n, b.isN = true, tag, value, n, true
	b.isKey, b.hi, b.lo = isKey, hi^b.flip, lo^b.flip
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
