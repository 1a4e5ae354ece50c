package inflate

import "math/bits"

// A decode table maps the next rootBits bits of the stream (least significant first, as
// DEFLATE packs them) to an entry: what the code starting there means and how many bits it
// takes. A code longer than rootBits has a link entry that names a subtable, indexed by the
// bits that follow the root's.
//
// An entry is a uint32:
//
//	bits 0-7    bits the code takes (after a link: the bits past the root's)
//	bits 8-11   extra bits that follow the code (a length or a distance), a link's
//	            subtable index bits, or how many literals the entry holds
//	bits 12-15  entryLiteral, entryEnd, entryLink, entryInvalid
//	bits 16-31  the literal byte or two, the base length or distance, or a link's subtable
//	            offset
//
// Literals come in runs, so a root entry whose literal's code leaves room in the root's bits
// for a second literal's code holds both: one lookup decodes two.
const (
	entryLiteral = 1 << 12
	entryEnd     = 1 << 13
	entryLink    = 1 << 14
	entryInvalid = 1 << 15
)

// The root sizes and the most entries a table of each kind can need: the root, plus at most
// one subtable per code longer than the root, of at most 2^(15-root) entries. The roots are
// small because a table is built for every block (a few thousand in a 34 MB layer): 9 bits
// decoded faster than 10, 11 or 12 on the bench layers, pairs of literals included.
const (
	maxCodeBits = 15

	litRootBits   = 9
	litTableSize  = 1<<litRootBits + 288<<(maxCodeBits-litRootBits)
	distRootBits  = 8
	distTableSize = 1<<distRootBits + 32<<(maxCodeBits-distRootBits)
	lenRootBits   = 7 // the code-length code: at most 7 bits, so no subtables
	lenTableSize  = 1 << lenRootBits
)

// kind says what a table's symbols mean.
type kind uint8

const (
	litLenCodes   kind = iota // 0-255 literals, 256 the block's end, 257-285 lengths
	distanceCodes             // 0-29 distances
	lengthCodes               // 0-18 code lengths (the dynamic header)
)

// RFC 1951, 3.2.5: each length and distance symbol's base and extra bits.
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// symbolEntry is the entry of symbol sym of a table of kind k, without the bits its code takes.
func symbolEntry(k kind, sym int) uint32 {
	switch k {
	case litLenCodes:
		switch {
		case sym < 256:
			return entryLiteral | 1<<8 | uint32(sym)<<16
		case sym == 256:
			return entryEnd
		case sym < 286:
			i := sym - 257
			return uint32(lengthExtra[i])<<8 | uint32(lengthBase[i])<<16
		}
	case distanceCodes:
		if sym < 30 {
			return uint32(distExtra[sym])<<8 | uint32(distBase[sym])<<16
		}
	case lengthCodes:
		return uint32(sym) << 16
	}
	return entryInvalid // 286 and 287, distances 30 and 31: codes that may be sent but not used
}

// build fills table, of rootBits bits, for the code whose lengths are given, symbol by
// symbol. It returns false for a code that is over-subscribed, or incomplete unless it is
// empty or a single code of one bit, which zlib and Go accept (the unused code is invalid,
// as is every code of an empty table). Table must have room for the subtables.
func build(table []uint32, lengths []uint8, rootBits uint, k kind) bool {
	var count [maxCodeBits + 1]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	left, maxLen, codes := 1, 0, 0
	for l := 1; l <= maxCodeBits; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return false
		}
		if count[l] > 0 {
			maxLen = l
		}
		codes += count[l]
	}
	if left > 0 && codes > 1 || codes == 1 && maxLen != 1 {
		return false
	}
	root := table[:1<<rootBits]
	for i := range root {
		root[i] = entryInvalid
	}
	if codes == 0 {
		return true
	}

	// Canonical codes (RFC 1951, 3.2.2), reversed: the stream sends a code's first bit first.
	var first [maxCodeBits + 2]int // the first code of each length
	for l := 1; l <= maxCodeBits; l++ {
		first[l+1] = (first[l] + count[l]) << 1
	}
	next := first
	rootMask := 1<<rootBits - 1
	end := len(root)                                      // where the next subtable goes
	var linked [1 << max(litRootBits, distRootBits)]uint8 // the subtable bits of each root prefix with longer codes
	if maxLen > int(rootBits) {
		// The subtable of a prefix has the bits of its longest code past the root.
		for _, l := range lengths {
			if int(l) > int(rootBits) {
				code := next[l]
				next[l]++
				prefix := reverse(code, int(l)) & rootMask
				linked[prefix] = max(linked[prefix], l-uint8(rootBits))
			}
		}
		next = first
	}
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		code := next[l]
		next[l]++
		rev := reverse(code, int(l))
		e := symbolEntry(k, sym)
		if int(l) <= int(rootBits) {
			for i := rev; i < len(root); i += 1 << l {
				root[i] = e | uint32(l)
			}
			continue
		}
		prefix := rev & rootMask
		link := root[prefix]
		if link&entryLink == 0 {
			subBits := uint32(linked[prefix])
			link = entryLink | uint32(rootBits) | subBits<<8 | uint32(end)<<16
			root[prefix] = link
			sub := table[end : end+1<<subBits]
			for i := range sub {
				sub[i] = entryInvalid
			}
			end += 1 << subBits
		}
		offset, subBits := int(link>>16), int(link>>8&0xf)
		sub := table[offset : offset+1<<subBits]
		extraLen := int(l) - int(rootBits)
		for i := rev >> rootBits; i < len(sub); i += 1 << extraLen {
			sub[i] = e | uint32(extraLen)
		}
	}
	if k == litLenCodes {
		pairLiterals(root, rootBits)
	}
	return true
}

// pairLiterals makes each root entry of a literal whose code is followed, within the root's
// bits, by a whole literal's code an entry of both. The second code is the entry at the bits
// past the first's, read before that entry is itself paired: from the last entry down.
func pairLiterals(root []uint32, rootBits uint) {
	for i := len(root) - 1; i >= 0; i-- {
		e := root[i]
		if e&entryLiteral == 0 {
			continue
		}
		n := e & 0xff
		next := root[i>>n]
		if next&entryLiteral == 0 || next&0xff > uint32(rootBits)-n {
			continue
		}
		root[i] = entryLiteral | 2<<8 | (n + next&0xff) | (e>>16&0xff)<<16 | (next>>16&0xff)<<24
	}
}

// reverse reverses the low n bits of code.
func reverse(code, n int) int {
	return int(bits.Reverse16(uint16(code)) >> (16 - n))
}
