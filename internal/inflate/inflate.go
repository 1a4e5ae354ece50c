package inflate

import (
	"compress/flate"
	"encoding/binary"
	"io"
	"sync"
)

const (
	windowSize = 32 << 10 // the farthest a match reaches back
	outSize    = windowSize + 96<<10
	// A symbol is decoded only while this much room is left: the longest match, copied 8
	// bytes at a time, or the literals of one refill (a bit each at least: 63, plus the
	// spare byte a pair's store writes).
	outSlack = 258 + 8
	inSize   = 32 << 10
)

// The decoder's states between blocks.
const (
	stateHeader  = iota // before a block's header
	stateStored         // in a stored block, d.stored bytes left
	stateHuffman        // in a compressed block, tables built
	stateEnd            // after the final block
)

// decoder decodes one DEFLATE stream (RFC 1951) from src, reading it in chunks of its own and
// handing out what it decodes through Read. It reads src ahead of the stream's end: what
// follows (a gzip trailer) is read with readByte.
type decoder struct {
	src    io.Reader
	srcErr error         // what ended src
	in     *[inSize]byte // src's bytes, in[ip:iend] not yet taken
	ip     int
	iend   int
	offset int64 // src's bytes before in[0], for errors

	// bits holds nbits bits of the stream, the next first. Above them it holds zeros or,
	// after a refill of 8 bytes at once, the bytes from in[ip] on, which the next refill
	// ORs in again.
	bits  uint64
	nbits uint

	// out holds the last windowSize bytes decoded before out[rp], which matches may copy,
	// and out[rp:op], decoded and not yet read.
	out *[outSize]byte
	rp  int
	op  int

	state  int
	final  bool // the block being decoded is the last
	stored int  // bytes left of a stored block
	lit    *[litTableSize]uint32
	dist   *[distTableSize]uint32
	tables *tables // the dynamic block's tables
	err    error
}

// tables are a dynamic block's decode tables and the code lengths they are built from.
type tables struct {
	lit     [litTableSize]uint32
	dist    [distTableSize]uint32
	lengths [lenTableSize]uint32
	codes   [286 + 30]uint8
}

func (d *decoder) init(src io.Reader) {
	d.src = src
	if d.in == nil {
		d.in = new([inSize]byte)
		d.out = new([outSize]byte)
		d.tables = new(tables)
	}
	d.srcErr, d.ip, d.iend, d.offset = nil, 0, 0, 0
	d.bits, d.nbits = 0, 0
	d.restart()
}

// restart starts a new stream where the last one ended (the next gzip member), with no
// history.
func (d *decoder) restart() {
	d.rp, d.op = 0, 0
	d.state, d.final, d.err = stateHeader, false, nil
}

// Read gives what the stream decodes to; at its end, io.EOF. It returns either bytes or an
// error, never both.
func (d *decoder) Read(p []byte) (int, error) {
	for d.rp == d.op {
		if d.err != nil {
			return 0, d.err
		}
		if d.op > len(d.out)-outSlack {
			// Keep the window, make room after it.
			d.rp = copy(d.out[:], d.out[d.op-windowSize:d.op])
			d.op = d.rp
		}
		d.err = d.decode()
	}
	n := copy(p, d.out[d.rp:d.op])
	d.rp += n
	return n, nil
}

// decode decodes blocks until out is nearly full, or the stream ends (io.EOF) or fails.
func (d *decoder) decode() error {
	for d.op <= len(d.out)-outSlack {
		var err error
		switch d.state {
		case stateHeader:
			err = d.header()
		case stateStored:
			err = d.copyStored()
		case stateHuffman:
			err = d.huffman()
		case stateEnd:
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// header reads a block's header: for a stored block its length, for a dynamic one its codes.
func (d *decoder) header() error {
	if d.final {
		d.state = stateEnd
		return nil
	}
	if err := d.need(3); err != nil {
		return err
	}
	d.final = d.bits&1 == 1
	typ := d.bits >> 1 & 3
	d.take(3)
	switch typ {
	case 0:
		return d.storedHeader()
	case 1:
		d.lit, d.dist = fixedTables()
	case 2:
		if err := d.dynamicHeader(); err != nil {
			return err
		}
	default:
		return d.corrupt()
	}
	d.state = stateHuffman
	return nil
}

// storedHeader reads a stored block's LEN and NLEN, from the next byte boundary.
func (d *decoder) storedHeader() error {
	d.align()
	var b [4]byte
	for i := range b {
		c, err := d.readByte()
		if err != nil {
			return noEOF(err)
		}
		b[i] = c
	}
	n := binary.LittleEndian.Uint16(b[:2])
	if n != ^binary.LittleEndian.Uint16(b[2:]) {
		return d.corrupt()
	}
	d.stored, d.state = int(n), stateStored
	return nil
}

// copyStored copies a stored block's bytes to out, as many as fit.
func (d *decoder) copyStored() error {
	for d.stored > 0 && d.op < len(d.out) {
		if d.nbits >= 8 { // bytes a refill took
			c, err := d.readByte()
			if err != nil {
				return noEOF(err)
			}
			d.out[d.op] = c
			d.op++
			d.stored--
			continue
		}
		if d.ip == d.iend {
			if err := d.fill(); err != nil {
				return noEOF(err)
			}
		}
		d.bits = 0 // what a refill left above nbits is behind ip now
		n := copy(d.out[d.op:min(len(d.out), d.op+d.stored)], d.in[d.ip:d.iend])
		d.ip += n
		d.op += n
		d.stored -= n
	}
	if d.stored == 0 {
		d.state = stateHeader
	}
	return nil
}

// codeOrder is the order of the code-length code's lengths (RFC 1951, 3.2.7).
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicHeader reads a dynamic block's codes and builds its tables.
func (d *decoder) dynamicHeader() error {
	t := d.tables
	if err := d.need(14); err != nil {
		return err
	}
	nlit := int(d.bits&0x1f) + 257
	ndist := int(d.bits>>5&0x1f) + 1
	nlen := int(d.bits>>10&0xf) + 4
	d.take(14)
	if nlit > 286 || ndist > 30 {
		return d.corrupt()
	}
	var lengths [19]uint8
	for i := range nlen {
		if err := d.need(3); err != nil {
			return err
		}
		lengths[codeOrder[i]] = uint8(d.bits & 7)
		d.take(3)
	}
	if !build(t.lengths[:], lengths[:], lenRootBits, lengthCodes) {
		return d.corrupt()
	}
	codes := t.codes[:nlit+ndist]
	for i := 0; i < len(codes); {
		d.fillBits()
		e := t.lengths[d.bits&(lenTableSize-1)]
		if e&0xff > uint32(d.nbits) {
			return d.cutShort()
		}
		if e&entryInvalid != 0 {
			return d.corrupt()
		}
		d.take(uint(e & 0xff))
		sym := e >> 16
		if sym < 16 {
			codes[i] = uint8(sym)
			i++
			continue
		}
		var n int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return d.corrupt()
			}
			if err := d.need(2); err != nil {
				return err
			}
			n, v = 3+int(d.bits&3), codes[i-1]
			d.take(2)
		case 17:
			if err := d.need(3); err != nil {
				return err
			}
			n = 3 + int(d.bits&7)
			d.take(3)
		default:
			if err := d.need(7); err != nil {
				return err
			}
			n = 11 + int(d.bits&0x7f)
			d.take(7)
		}
		if i+n > len(codes) {
			return d.corrupt()
		}
		for ; n > 0; n-- {
			codes[i] = v
			i++
		}
	}
	if codes[256] == 0 || // no end of block: the block would never end
		!build(t.lit[:], codes[:nlit], litRootBits, litLenCodes) ||
		!build(t.dist[:], codes[nlit:], distRootBits, distanceCodes) {
		return d.corrupt()
	}
	d.lit, d.dist = &t.lit, &t.dist
	return nil
}

// huffman decodes a compressed block until its end or until out is nearly full. The stream's
// state lives in local variables while it runs. Near src's end, where a refill cannot give
// 56 bits, the rest of the block is decoded by tail.
func (d *decoder) huffman() error {
	in, out := d.in, d.out
	ip, iend, op := d.ip, d.iend, d.op
	bits, nbits := d.bits, d.nbits
	lit, dist := d.lit, d.dist
	limit := len(out) - outSlack
	var err error
	ended := false // src has not 56 bits more to give
decode:
	for op <= limit {
		// Refill to 56 bits or more.
		if iend-ip >= 8 {
			ip, bits, nbits = refill8(in, ip, bits, nbits)
		} else if ip, iend, bits, nbits, ended = d.refillSlowAt(ip, bits, nbits); ended {
			break
		}

		// Literals come in runs: take them while the bits last, one or two an entry (a
		// root entry takes litRootBits at most). At most 63 bits' worth, within the slack.
		e := lit[bits&(1<<litRootBits-1)]
		for e&entryLiteral != 0 {
			n := uint(e & 63)
			bits >>= n
			nbits -= n
			binary.LittleEndian.PutUint16(out[op:op+2], uint16(e>>16))
			op += int(e >> 8 & 0xf)
			if nbits < litRootBits {
				continue decode
			}
			e = lit[bits&(1<<litRootBits-1)]
		}

		// A length and its distance, with their extra bits, take 48 bits at most. A refill
		// leaves e as it is: it adds bits above those e was looked up with.
		if nbits < 48 {
			if iend-ip >= 8 {
				ip, bits, nbits = refill8(in, ip, bits, nbits)
			} else if ip, iend, bits, nbits, ended = d.refillSlowAt(ip, bits, nbits); ended {
				break
			}
		}
		if e&entryLink != 0 {
			bits >>= litRootBits
			nbits -= litRootBits
			e = lit[e>>16+uint32(bits)&(1<<(e>>8&0xf)-1)]
			if e&entryLiteral != 0 {
				bits >>= e & 63
				nbits -= uint(e & 63)
				out[op] = byte(e >> 16)
				op++
				continue
			}
		}
		bits >>= e & 63
		nbits -= uint(e & 63)
		if e&(entryEnd|entryInvalid) != 0 {
			if e&entryInvalid != 0 {
				err = d.corrupt()
			} else {
				d.state = stateHeader
			}
			break
		}
		extra := e >> 8 & 0xf
		length := int(e>>16) + int(bits&(1<<extra-1))
		bits >>= extra
		nbits -= uint(extra)

		e = dist[bits&(1<<distRootBits-1)]
		if e&entryLink != 0 {
			bits >>= distRootBits
			nbits -= distRootBits
			e = dist[e>>16+uint32(bits)&(1<<(e>>8&0xf)-1)]
		}
		bits >>= e & 63
		nbits -= uint(e & 63)
		extra = e >> 8 & 0xf
		distance := int(e>>16) + int(bits&(1<<extra-1))
		bits >>= extra
		nbits -= uint(extra)
		if e&entryInvalid != 0 || distance > op {
			err = d.corrupt()
			break
		}

		from := op - distance
		if distance >= 8 {
			// 8 bytes at a time: each read is of bytes written before it. The last write
			// may run up to 7 bytes past the match, within the slack.
			for n := 0; n < length; n += 8 {
				binary.LittleEndian.PutUint64(out[op+n:], binary.LittleEndian.Uint64(out[from+n:]))
			}
			op += length
			continue
		}
		// A short distance repeats a pattern: copy it, doubling.
		end := op + length
		for op < end {
			op += copy(out[op:end], out[from:op])
		}
	}
	d.ip, d.iend, d.op = ip, iend, op
	d.bits, d.nbits = bits, nbits
	if ended {
		return d.tail()
	}
	return err
}

// tail decodes the block's last symbols, those in d.bits when src has ended, one at a time:
// a symbol whose code or extra bits go past the stream's end cuts it short.
func (d *decoder) tail() error {
	for d.op <= len(d.out)-outSlack {
		e, n := d.lookup(d.lit[:], litRootBits)
		if n > d.nbits {
			return d.cutShort()
		}
		d.take(n)
		switch {
		case e&entryLiteral != 0:
			binary.LittleEndian.PutUint16(d.out[d.op:], uint16(e>>16))
			d.op += int(e >> 8 & 0xf)
			continue
		case e&entryEnd != 0:
			d.state = stateHeader
			return nil
		case e&entryInvalid != 0:
			return d.corrupt()
		}
		length, err := d.extra(e)
		if err != nil {
			return err
		}
		e, n = d.lookup(d.dist[:], distRootBits)
		if n > d.nbits {
			return d.cutShort()
		}
		d.take(n)
		if e&entryInvalid != 0 {
			return d.corrupt()
		}
		distance, err := d.extra(e)
		if err != nil {
			return err
		}
		if distance > d.op {
			return d.corrupt()
		}
		for i := range length {
			d.out[d.op+i] = d.out[d.op-distance+i]
		}
		d.op += length
	}
	return nil
}

// lookup returns the entry of the code at the stream's next bits and how many bits it takes,
// following a link.
func (d *decoder) lookup(table []uint32, rootBits uint) (uint32, uint) {
	e := table[d.bits&(1<<rootBits-1)]
	if e&entryLink == 0 {
		return e, uint(e & 0xff)
	}
	sub := table[e>>16+uint32(d.bits>>rootBits)&(1<<(e>>8&0xf)-1)]
	return sub, rootBits + uint(sub&0xff)
}

// extra takes a length's or a distance's extra bits and returns its value.
func (d *decoder) extra(e uint32) (int, error) {
	n := uint(e >> 8 & 0xf)
	if n > d.nbits {
		return 0, d.cutShort()
	}
	v := int(e>>16) + int(d.bits&(1<<n-1))
	d.take(n)
	return v, nil
}

// take drops n bits, which the caller has.
func (d *decoder) take(n uint) {
	d.bits >>= n
	d.nbits -= n
}

// need makes d.bits hold n bits, or fails if the stream ends first.
func (d *decoder) need(n uint) error {
	if d.nbits < n {
		d.fillBits()
		if d.nbits < n {
			return d.cutShort()
		}
	}
	return nil
}

// fillBits makes d.bits hold 56 bits or more, or all that is left of the stream.
func (d *decoder) fillBits() {
	if d.iend-d.ip >= 8 {
		d.ip, d.bits, d.nbits = refill8(d.in, d.ip, d.bits, d.nbits)
		return
	}
	d.refillSlow()
}

// refill8 ORs the 8 bytes at in[ip] into bits above its nbits and counts the whole bytes that
// fit, leaving 56 to 63 bits: no branch per byte. The bytes it ORs in but does not count are
// the next ones, which the next refill ORs in again at the same place.
func refill8(in *[inSize]byte, ip int, bits uint64, nbits uint) (int, uint64, uint) {
	bits |= binary.LittleEndian.Uint64(in[ip:]) << nbits
	return ip + int(63-nbits)>>3, bits, nbits | 56
}

// refillSlowAt is refillSlow for huffman's local copy of the stream's state: it reports
// whether src has ended short of 56 bits.
func (d *decoder) refillSlowAt(ip int, bits uint64, nbits uint) (int, int, uint64, uint, bool) {
	d.ip, d.bits, d.nbits = ip, bits, nbits
	ended := !d.refillSlow()
	return d.ip, d.iend, d.bits, d.nbits, ended
}

// refillSlow refills near the end of in: byte by byte, reading src when in is used up. It
// reports whether it reached 56 bits, which only src's end prevents.
func (d *decoder) refillSlow() bool {
	d.bits &= 1<<d.nbits - 1 // above nbits, bytes of in that may be gone after fill
	for d.nbits < 56 {
		if d.ip == d.iend && d.fill() != nil {
			return false
		}
		d.bits |= uint64(d.in[d.ip]) << d.nbits
		d.ip++
		d.nbits += 8
	}
	return true
}

// cutShort is the error of a stream that needs bits past src's end: src's own, or
// io.ErrUnexpectedEOF.
func (d *decoder) cutShort() error {
	return noEOF(d.srcErr)
}

// fill reads more of src into in, keeping what is not taken yet. It returns src's error
// once src has no more to give.
func (d *decoder) fill() error {
	if d.srcErr != nil {
		return d.srcErr
	}
	d.offset += int64(d.ip)
	d.iend = copy(d.in[:], d.in[d.ip:d.iend])
	d.ip = 0
	for {
		n, err := d.src.Read(d.in[d.iend:])
		d.iend += n
		if err != nil {
			d.srcErr = err
			if n == 0 {
				return err
			}
			return nil
		}
		if n > 0 {
			return nil
		}
	}
}

// readByte reads the stream's next byte from a byte boundary: first what a refill took.
func (d *decoder) readByte() (byte, error) {
	if d.nbits >= 8 {
		c := byte(d.bits)
		d.take(8)
		return c, nil
	}
	if d.ip == d.iend {
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
	d.bits = 0 // what a refill left above nbits is behind ip now
	c := d.in[d.ip]
	d.ip++
	return c, nil
}

// align drops the bits before the next byte boundary.
func (d *decoder) align() { d.take(d.nbits & 7) }

func (d *decoder) corrupt() error {
	return flate.CorruptInputError(d.offset + int64(d.ip))
}

// noEOF turns the end of src in the middle of something into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// The fixed Huffman codes' tables (RFC 1951, 3.2.6), built once.
var fixedTables = sync.OnceValues(func() (*[litTableSize]uint32, *[distTableSize]uint32) {
	var lengths [288]uint8
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	lit, dist := new([litTableSize]uint32), new([distTableSize]uint32)
	var five [32]uint8
	for i := range five {
		five[i] = 5
	}
	if !build(lit[:], lengths[:], litRootBits, litLenCodes) || !build(dist[:], five[:], distRootBits, distanceCodes) {
		panic("inflate: the fixed codes do not build")
	}
	return lit, dist
})
