package inflate

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// The errors of a gzip stream are compress/gzip's, so that callers test for either with one
// errors.Is.
var (
	ErrHeader   = gzip.ErrHeader
	ErrChecksum = gzip.ErrChecksum
)

// Reader decompresses a gzip stream (RFC 1952), member after member, as compress/gzip does,
// except that data after the last member which is not a gzip member ends the stream instead
// of failing it (Trailing reports it; it is read to its end all the same).
//
// Every member's CRC-32 and size are checked before its end is reported.
type Reader struct {
	d        decoder
	crc      uint32
	size     uint32
	trailing bool
	err      error
}

// NewReader reads the first member's header from r. It returns io.EOF if r is empty,
// io.ErrUnexpectedEOF if it ends within the header, and ErrHeader if r is not gzip.
func NewReader(r io.Reader) (*Reader, error) {
	z := new(Reader)
	if err := z.Reset(r); err != nil {
		return nil, err
	}
	return z, nil
}

// Reset makes z read r as NewReader would, keeping its buffers.
func (z *Reader) Reset(r io.Reader) error {
	z.d.init(r)
	z.crc, z.size, z.trailing, z.err = 0, 0, false, nil
	return z.header()
}

// Trailing reports whether the stream ended with data that is not gzip.
func (z *Reader) Trailing() bool { return z.trailing }

// Read reads the decompressed stream.
func (z *Reader) Read(p []byte) (int, error) {
	for z.err == nil {
		n, err := z.d.Read(p)
		if n > 0 {
			z.crc = crc32.Update(z.crc, crc32.IEEETable, p[:n])
			z.size += uint32(n)
			return n, nil
		}
		if err != io.EOF {
			z.err = err
			break
		}
		if z.err = z.trailer(); z.err != nil {
			break
		}
		z.crc, z.size = 0, 0
		switch err := z.header(); {
		case err == nil:
			z.d.restart()
		case err == io.EOF:
			z.err = io.EOF
		case errors.Is(err, ErrHeader), errors.Is(err, io.ErrUnexpectedEOF):
			z.trailing = true
			z.err = z.discard()
		default:
			z.err = err
		}
	}
	return 0, z.err
}

// trailer checks a member's CRC-32 and size.
func (z *Reader) trailer() error {
	z.d.align()
	var b [8]byte
	if err := z.readFull(b[:]); err != nil {
		return noEOF(err)
	}
	if binary.LittleEndian.Uint32(b[:4]) != z.crc || binary.LittleEndian.Uint32(b[4:]) != z.size {
		return ErrChecksum
	}
	return nil
}

// gzip's header flags.
const (
	flagHeaderCRC = 1 << 1
	flagExtra     = 1 << 2
	flagName      = 1 << 3
	flagComment   = 1 << 4
)

// header reads a member's header, as compress/gzip reads it: io.EOF before its first byte.
func (z *Reader) header() error {
	var b [10]byte
	if err := z.readFull(b[:1]); err != nil {
		return err
	}
	if err := z.readFull(b[1:]); err != nil {
		return noEOF(err)
	}
	if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
		return ErrHeader
	}
	flags := b[3]
	crc := crc32.ChecksumIEEE(b[:])
	if flags&flagExtra != 0 {
		if err := z.readFull(b[:2]); err != nil {
			return noEOF(err)
		}
		crc = crc32.Update(crc, crc32.IEEETable, b[:2])
		for range binary.LittleEndian.Uint16(b[:2]) {
			c, err := z.d.readByte()
			if err != nil {
				return noEOF(err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, []byte{c})
		}
	}
	for _, flag := range []byte{flagName, flagComment} {
		if flags&flag == 0 {
			continue
		}
		// A zero-terminated string, at most 511 bytes, as compress/gzip reads it.
		for i := 0; ; i++ {
			if i == 512 {
				return ErrHeader
			}
			c, err := z.d.readByte()
			if err != nil {
				return noEOF(err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, []byte{c})
			if c == 0 {
				break
			}
		}
	}
	if flags&flagHeaderCRC != 0 {
		if err := z.readFull(b[:2]); err != nil {
			return noEOF(err)
		}
		if binary.LittleEndian.Uint16(b[:2]) != uint16(crc) {
			return ErrHeader
		}
	}
	return nil
}

func (z *Reader) readFull(b []byte) error {
	for i := range b {
		c, err := z.d.readByte()
		if err != nil {
			return err
		}
		b[i] = c
	}
	return nil
}

// discard reads the rest of the stream: io.EOF at its end.
func (z *Reader) discard() error {
	z.d.ip, z.d.iend = 0, 0
	if z.d.srcErr != nil {
		return z.d.srcErr
	}
	if _, err := io.Copy(io.Discard, z.d.src); err != nil {
		return err
	}
	return io.EOF
}
