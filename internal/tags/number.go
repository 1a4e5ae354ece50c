package tags

import "strconv"

// The numerical policy's number handling: parseNumber gives the float64
// that Flux compares, and decimal keys order the common plain integers
// without converting them.

// parseNumber is strconv.ParseFloat(s, 64) with a fast path for an
// optionally signed integer of 1 to 18 digits, which timestamps and build
// numbers are. Such an integer fits an int64, and converting it to float64
// rounds exactly as ParseFloat rounds its decimal form, so both paths give
// the same value.
//
// A digit-by-digit loop is a chain of dependent multiplications, so the
// digits after the first len%8 are converted eight at a time (SWAR),
// independently of the leading ones.
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
	for d := digits[head:]; len(d) >= 8; d = d[8:] {
		x := loadLE64(d)
		if !digits8(x) {
			return parseFloat(s)
		}
		n = n*100_000_000 + eightDigits(x)
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

const zeros = 0x3030303030303030 // "00000000", in either byte order

// loadLE64 reads the first eight bytes of s as a little-endian word (the
// compiler merges the loads): s[0] in the lowest bits.
func loadLE64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// loadBE64 reads the first eight bytes of s as a big-endian word: s[0] in
// the highest bits, so that words order as the strings do.
func loadBE64(s string) uint64 {
	_ = s[7]
	return uint64(s[7]) | uint64(s[6])<<8 | uint64(s[5])<<16 | uint64(s[4])<<24 |
		uint64(s[3])<<32 | uint64(s[2])<<40 | uint64(s[1])<<48 | uint64(s[0])<<56
}

// digits8 reports whether every byte of x is an ASCII digit, 0x30-0x39:
// high nibble 3, and still 3 after adding 6 (which cannot carry into the
// next byte once every high nibble is 3).
func digits8(x uint64) bool {
	const high = 0xF0F0F0F0F0F0F0F0
	return x&high == zeros && (x+0x0606060606060606)&high == zeros
}

// eightDigits converts eight ASCII digits, read by loadLE64, to their value.
func eightDigits(x uint64) uint64 {
	x -= zeros
	x = x*10 + x>>8 // two-digit values, in every other byte
	return ((x&0x000000FF000000FF)*(100+1_000_000<<32) + (x>>16&0x000000FF000000FF)*(1+10_000<<32)) >> 32
}

// A decimal key stands for a string of 1 to 15 ASCII digits: the string
// padded with leading zeros to sixteen digits, as two big-endian words (hi,
// lo). Keys order exactly as the numbers do, leading zeros included, and
// every integer below 10^15 is exact in a float64, so two keys are equal
// only when the numbers are, and they order as the float64 values
// ParseFloat gives. Every key is greater than (0, 0). A sign, a point, an
// exponent or sixteen digits or more make no key.

// decimalKey returns the key of s, or ok false if s has none.
func decimalKey(s string) (hi, lo uint64, ok bool) {
	_, best, hi, lo := scanKeys([]string{s}, 0, 0, 0)
	return hi, lo, best == 0
}

// scanKeys finds the greatest key above (hi, lo) among the tags' keys, each
// XORed with flip (all ones reverses the order), and stops at the first tag
// that has no key or whose key equals the greatest so far: those need
// parseNumber and the tie rule. It returns where it stopped (len(tags) if it
// did not), the index of the greatest tag (-1: none above (hi, lo)) and its
// key.
//
// It is the numerical policy's inner loop, so the key is computed inline
// rather than by a call: a call spills every live variable to the stack,
// which costs more than the rest of the loop.
func scanKeys(tags []string, hi, lo, flip uint64) (stop, best int, bestHi, bestLo uint64) {
	best = -1
	for i, s := range tags {
		var h, w uint64
		switch l := len(s); {
		case l >= 8 && l <= 15:
			h, w = loadBE64(s), loadBE64(s[l-8:])
			if !digits8(h) || !digits8(w) {
				return i, best, hi, lo
			}
			// The first l-8 digits (the rest of h is in w) below 16-l zeros.
			pad := uint(16-l) * 8 // 8 to 64
			h = h>>pad | zeros<<(64-pad)
		case l > 0 && l < 8:
			for j := 0; j < l; j++ {
				if s[j]-'0' > 9 {
					return i, best, hi, lo
				}
				w = w<<8 | uint64(s[j])
			}
			h, w = zeros, w|zeros<<(uint(l)*8)
		default:
			return i, best, hi, lo
		}
		h, w = h^flip, w^flip
		switch {
		case h < hi || h == hi && w < lo:
		case h == hi && w == lo:
			return i, best, hi, lo
		default:
			best, hi, lo = i, h, w
		}
	}
	return len(tags), best, hi, lo
}
