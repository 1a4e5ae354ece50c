package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	kflate "github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
)

// samples are inputs of the shapes DEFLATE meets: text with long matches, random bytes
// (stored blocks), hex (literals only), runs (distance 1), short periods, and sizes around
// the window and the decoder's buffers.
func samples() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var yaml strings.Builder
	for i := range 3000 {
		yaml.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  blob: ")
		yaml.WriteString(hex.EncodeToString(random(i % 97)))
		yaml.WriteString("\n  padding: the quick brown fox jumps over the lazy dog\n")
	}
	periods := make([]byte, 300<<10)
	for i := range periods {
		periods[i] = byte(i % (1 + i/40000))
	}
	return map[string][]byte{
		"empty":   {},
		"one":     {'x'},
		"yaml":    []byte(yaml.String()),
		"random":  random(200 << 10),
		"hex":     []byte(hex.EncodeToString(random(150 << 10))),
		"zeros":   make([]byte, 1<<20),
		"periods": periods,
		"window":  append(random(32<<10), random(32<<10)...),
	}
}

// compressors are the ways the samples are compressed: Go's levels (stored, Huffman only,
// fastest to best) and klauspost/compress's.
func compressors() map[string]func(io.Writer) io.WriteCloser {
	c := map[string]func(io.Writer) io.WriteCloser{}
	for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		c["go/"+strconv.Itoa(level)] = func(w io.Writer) io.WriteCloser {
			fw, _ := flate.NewWriter(w, level)
			return fw
		}
	}
	for _, level := range []int{kflate.BestSpeed, 5, kflate.BestCompression, kflate.ConstantCompression} {
		c["klauspost/"+strconv.Itoa(level)] = func(w io.Writer) io.WriteCloser {
			fw, _ := kflate.NewWriter(w, level)
			return fw
		}
	}
	return c
}

func deflate(t testing.TB, data []byte, compress func(io.Writer) io.WriteCloser) []byte {
	var buf bytes.Buffer
	w := compress(&buf)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// inflateAll decodes a raw DEFLATE stream with the decoder.
func inflateAll(src io.Reader) ([]byte, error) {
	var d decoder
	d.init(src)
	return io.ReadAll(&d)
}

func TestInflatesWhatCompressorsWrite(t *testing.T) {
	for name, data := range samples() {
		for cname, compress := range compressors() {
			stream := deflate(t, data, compress)
			for _, how := range []struct {
				name string
				src  func() io.Reader
			}{
				{"whole", func() io.Reader { return bytes.NewReader(stream) }},
				{"a byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) }},
				{"in halves", func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) }},
			} {
				got, err := inflateAll(how.src())
				if err != nil {
					t.Fatalf("%s by %s, read %s: %v", name, cname, how.name, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s by %s, read %s: %d bytes differ from the %d written", name, cname, how.name, len(got), len(data))
				}
			}
		}
	}
}

// Every cut of a stream fails, as Go's decoder fails it: the decoder never takes a truncated
// stream for a whole one. (A cut that leaves out only padding after the last block is whole.)
func TestTruncatedStreamsFail(t *testing.T) {
	data := samples()["yaml"][:20000]
	var d decoder
	for cname, compress := range compressors() {
		stream := deflate(t, data, compress)
		for n := range cuts(len(stream)) {
			d.init(bytes.NewReader(stream[:n]))
			got, err := io.ReadAll(&d)
			_, theirs := io.ReadAll(flate.NewReader(bytes.NewReader(stream[:n])))
			if (err == nil) != (theirs == nil) {
				t.Fatalf("%s cut at %d of %d: %d bytes, %v; Go's: %v", cname, n, len(stream), len(got), err, theirs)
			}
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !isCorrupt(err) {
				t.Fatalf("%s cut at %d: %v, want an unexpected EOF or corrupt input", cname, n, err)
			}
		}
	}
}

// cuts yields the lengths at which TestTruncatedStreamsFail cuts a stream of n bytes: every
// one within 512 bytes of either end (the block headers, the dynamic tables, the last block and
// its end), and every 17th between them. Cutting everywhere made the test quadratic: four
// minutes under the race detector.
func cuts(n int) iter.Seq[int] {
	const edge, stride = 512, 17
	return func(yield func(int) bool) {
		for i := 0; i < n; i++ {
			if i >= edge && i < n-edge && i%stride != 0 {
				continue
			}
			if !yield(i) {
				return
			}
		}
	}
}

func isCorrupt(err error) bool {
	var c flate.CorruptInputError
	return errors.As(err, &c)
}

func TestReadsTheCallersSizes(t *testing.T) {
	data := samples()["yaml"]
	stream := deflate(t, data, compressors()["go/9"])
	var d decoder
	d.init(bytes.NewReader(stream))
	var got []byte
	p := make([]byte, 7)
	for {
		n, err := d.Read(p[:1+len(got)%7])
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("Read returned neither bytes nor an error")
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("decoded bytes differ")
	}
}

// Streams that Go's decoder refuses, written by hand, are refused.
func TestRefusesCorruptStreams(t *testing.T) {
	for name, stream := range map[string][]byte{
		"block type 3":                   {0x07},
		"stored length not complemented": {0x01, 0x05, 0x00, 0x05, 0x00},
		"distance before the start":      deflateTokens(t, true, []token{{literal: 'a'}, {length: 3, distance: 2}}),
		"fixed distance code 30":         fixedDistance30(),
		"a repeat before any length":     dynamicHeader([3]uint64{1, 1, 0}, true),
		"over-subscribed lengths":        dynamicHeader([3]uint64{1, 1, 1}, false),
	} {
		_, ours := inflateAll(bytes.NewReader(stream))
		_, theirs := io.ReadAll(flate.NewReader(bytes.NewReader(stream)))
		if ours == nil || theirs == nil {
			t.Errorf("%s: ours %v, Go's %v; want both to fail", name, ours, theirs)
		}
	}
}

type token struct {
	literal          byte
	length, distance int
}

// deflateTokens writes a fixed-code block of tokens by hand (RFC 1951, 3.2.6).
func deflateTokens(t testing.TB, final bool, tokens []token) []byte {
	var w bitWriter
	w.write(map[bool]uint64{true: 1, false: 0}[final], 1)
	w.write(1, 2)
	for _, tok := range tokens {
		if tok.length == 0 {
			w.fixedLiteral(int(tok.literal))
			continue
		}
		// Lengths 3-10 are symbols 257-264, no extra bits; distances 1-4, codes 0-3.
		if tok.length > 10 || tok.distance > 4 {
			t.Fatal("deflateTokens writes only short matches")
		}
		w.fixedLiteral(254 + tok.length)
		w.writeReversed(uint64(tok.distance-1), 5)
	}
	w.fixedLiteral(256)
	return w.bytes()
}

// dynamicHeader starts a dynamic block whose code-length code has the given lengths for
// symbols 16, 17 and 18, and none other; with repeat, its first code length is a 16.
func dynamicHeader(lengths [3]uint64, repeat bool) []byte {
	var w bitWriter
	w.write(1, 1)
	w.write(2, 2)
	w.write(0, 5+5) // 257 literal/length codes, 1 distance code
	w.write(0, 4)   // 4 code-length code lengths: 16, 17, 18, 0
	for _, l := range lengths {
		w.write(l, 3)
	}
	w.write(0, 3)
	if repeat {
		w.write(0, 1+2) // 16's code is 0, then its 2 extra bits
	}
	w.write(0, 32)
	return w.bytes()
}

func fixedDistance30() []byte {
	var w bitWriter
	w.write(1, 1)
	w.write(1, 2)
	w.fixedLiteral('a')
	w.fixedLiteral(257)
	w.writeReversed(30, 5)
	w.fixedLiteral(256)
	return w.bytes()
}

type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// writeReversed writes a Huffman code, its first bit first.
func (w *bitWriter) writeReversed(code uint64, n uint) {
	w.write(uint64(reverse(int(code), int(n))), n)
}

func (w *bitWriter) fixedLiteral(sym int) {
	switch {
	case sym < 144:
		w.writeReversed(uint64(0x30+sym), 8)
	case sym < 256:
		w.writeReversed(uint64(0x190+sym-144), 9)
	case sym < 280:
		w.writeReversed(uint64(sym-256), 7)
	default:
		w.writeReversed(uint64(0xc0+sym-280), 8)
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nbits > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}

func gzipped(t testing.TB, data []byte, h gzip.Header) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Header = h
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(src io.Reader) ([]byte, bool, error) {
	z, err := NewReader(src)
	if err != nil {
		return nil, false, err
	}
	data, err := io.ReadAll(z)
	return data, z.Trailing(), err
}

func TestGzipMembersAndTrailingData(t *testing.T) {
	a, b := samples()["yaml"], samples()["hex"]
	one, two := gzipped(t, a, gzip.Header{}), gzipped(t, b, gzip.Header{Name: "b.tar", Comment: "é", Extra: []byte("xyz")})
	for _, c := range []struct {
		name     string
		stream   []byte
		want     []byte
		trailing bool
	}{
		{"one member", one, a, false},
		{"two members", append(append([]byte{}, one...), two...), append(append([]byte{}, a...), b...), false},
		{"zeros after", append(append([]byte{}, one...), make([]byte, 1024)...), a, true},
		{"text after", append(append([]byte{}, one...), "not gzip"...), a, true},
		{"a cut header after", append(append([]byte{}, one...), two[:5]...), a, true},
	} {
		for _, src := range []io.Reader{bytes.NewReader(c.stream), iotest.OneByteReader(bytes.NewReader(c.stream))} {
			got, trailing, err := gunzip(src)
			if err != nil || !bytes.Equal(got, c.want) || trailing != c.trailing {
				t.Fatalf("%s: %d bytes, trailing %v, %v; want %d bytes, trailing %v", c.name, len(got), trailing, err, len(c.want), c.trailing)
			}
		}
	}
}

func TestGzipHeaderCRC(t *testing.T) {
	stream := gzipped(t, []byte("hello"), gzip.Header{Name: "n"})
	stream[3] |= flagHeaderCRC
	// The header is 10 bytes and the name's 2; its CRC follows them.
	crc := crc32.ChecksumIEEE(stream[:12])
	withCRC := append(append(append([]byte{}, stream[:12]...), byte(crc), byte(crc>>8)), stream[12:]...)
	if got, _, err := gunzip(bytes.NewReader(withCRC)); err != nil || string(got) != "hello" {
		t.Fatalf("a good header CRC: %q, %v", got, err)
	}
	withCRC[12] ^= 1
	if _, _, err := gunzip(bytes.NewReader(withCRC)); !errors.Is(err, ErrHeader) {
		t.Fatalf("a bad header CRC: %v, want ErrHeader", err)
	}
}

func TestGzipRefusals(t *testing.T) {
	good := gzipped(t, samples()["yaml"][:5000], gzip.Header{})
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-8] ^= 1
	badSize := bytes.Clone(good)
	badSize[len(badSize)-1] ^= 1
	longName := gzipped(t, []byte("x"), gzip.Header{Name: strings.Repeat("n", 600)})
	for name, c := range map[string]struct {
		stream []byte
		want   error
	}{
		"empty":         {nil, io.EOF},
		"not gzip":      {[]byte("plain text, not gzip"), ErrHeader},
		"cut header":    {good[:6], io.ErrUnexpectedEOF},
		"bad CRC":       {badCRC, ErrChecksum},
		"bad size":      {badSize, ErrChecksum},
		"cut trailer":   {good[:len(good)-3], io.ErrUnexpectedEOF},
		"name too long": {longName, ErrHeader},
	} {
		_, _, err := gunzip(bytes.NewReader(c.stream))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
		_, theirs := io.ReadAll(must(gzip.NewReader(bytes.NewReader(c.stream))))
		if name != "empty" && theirs == nil {
			t.Errorf("%s: Go's gzip took it", name)
		}
	}
}

func must(r *gzip.Reader, err error) io.Reader {
	if err != nil {
		return iotest.ErrReader(err)
	}
	return r
}

// A source's error is returned as it is, not taken for the stream's end.
func TestSourceErrors(t *testing.T) {
	boom := errors.New("boom")
	stream := gzipped(t, samples()["yaml"], gzip.Header{})
	_, _, err := gunzip(io.MultiReader(bytes.NewReader(stream[:len(stream)/2]), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the source's error", err)
	}
}

// FuzzInflate decodes raw DEFLATE with the decoder and with Go's: both fail, or both give the
// same bytes.
func FuzzInflate(f *testing.F) {
	for _, data := range samples() {
		if len(data) > 4096 {
			data = data[:4096]
		}
		for _, compress := range compressors() {
			f.Add(deflate(f, data, compress))
		}
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		theirs, theirErr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(stream)), 8<<20))
		if len(theirs) == 8<<20 {
			return // a bomb: both would decode it, slowly
		}
		ours, ourErr := inflateAll(iotest.HalfReader(bytes.NewReader(stream)))
		if (ourErr == nil) != (theirErr == nil) {
			t.Fatalf("ours: %v; Go's: %v", ourErr, theirErr)
		}
		if ourErr == nil && !bytes.Equal(ours, theirs) {
			t.Fatalf("ours: %d bytes, Go's: %d, different", len(ours), len(theirs))
		}
	})
}

// FuzzGunzip: a stream Go's gzip reads whole is read the same; one it refuses is refused,
// unless what it refused follows a whole member (trailing data).
func FuzzGunzip(f *testing.F) {
	f.Add(gzipped(f, []byte("hello, world"), gzip.Header{Name: "a", Extra: []byte{1, 2}}))
	f.Add(append(gzipped(f, []byte("a"), gzip.Header{}), gzipped(f, []byte("b"), gzip.Header{})...))
	f.Add(append(gzipped(f, []byte("a"), gzip.Header{}), 0, 0, 0))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var theirs []byte
		zr, theirErr := gzip.NewReader(bytes.NewReader(stream))
		if theirErr == nil {
			theirs, theirErr = io.ReadAll(io.LimitReader(zr, 8<<20))
			if len(theirs) == 8<<20 {
				return
			}
		}
		ours, trailing, ourErr := gunzip(bytes.NewReader(stream))
		switch {
		case theirErr == nil && (ourErr != nil || trailing || !bytes.Equal(ours, theirs)):
			t.Fatalf("Go's read it whole; ours: %d bytes, trailing %v, %v", len(ours), trailing, ourErr)
		case theirErr != nil && ourErr == nil && !trailing:
			t.Fatalf("Go's refused it (%v); ours read it whole", theirErr)
		case theirErr != nil && ourErr == nil && !bytes.HasPrefix(theirs, ours):
			t.Fatalf("ours read what Go's did not")
		}
	})
}

// BenchmarkInflate: this decoder, klauspost/compress's and Go's, each reading the same gzip
// stream of the bench layers' contents (YAML with long matches; hex, nearly all literals) to
// its end through the same copy. Each checks the stream's CRC-32 and size at its end, so
// every byte is produced and verified.
func BenchmarkInflate(b *testing.B) {
	inputs := map[string][]byte{"yaml": samples()["yaml"], "hex": samples()["hex"]}
	for name, data := range inputs {
		stream := gzipped(b, data, gzip.Header{})
		buf := make([]byte, 64<<10)
		check := func(b *testing.B, n int64, err error) {
			if err != nil || n != int64(len(data)) {
				b.Fatalf("%d bytes, %v", n, err)
			}
		}
		b.Run(name+"/azimuth", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			z := new(Reader)
			for b.Loop() {
				if err := z.Reset(bytes.NewReader(stream)); err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, z, buf)
				check(b, n, err)
			}
		})
		b.Run(name+"/klauspost", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			z := new(kgzip.Reader)
			for b.Loop() {
				if err := z.Reset(bytes.NewReader(stream)); err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, z, buf)
				check(b, n, err)
			}
		})
		b.Run(name+"/go", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			z := new(gzip.Reader)
			for b.Loop() {
				if err := z.Reset(bytes.NewReader(stream)); err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, z, buf)
				check(b, n, err)
			}
		})
	}
}

// A Reader reset after a failure, or in the middle of a stream, reads the next stream whole:
// nothing of the last one (history, tables, buffered input) leaks into it.
func TestResetForgetsTheLastStream(t *testing.T) {
	s := samples()
	good := gzipped(t, s["yaml"], gzip.Header{})
	corrupt := bytes.Clone(gzipped(t, s["hex"], gzip.Header{}))
	corrupt[len(corrupt)/2] ^= 0xff
	z := new(Reader)
	for i, c := range []struct {
		stream []byte
		read   int // bytes to read before the next Reset, -1 for all
		want   []byte
	}{
		{corrupt, -1, nil},
		{good, -1, s["yaml"]},
		{gzipped(t, s["periods"], gzip.Header{}), 70000, nil},
		{good, -1, s["yaml"]},
	} {
		if err := z.Reset(bytes.NewReader(c.stream)); err != nil {
			t.Fatal(err)
		}
		if c.read >= 0 {
			if _, err := io.ReadFull(z, make([]byte, c.read)); err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
			continue
		}
		got, err := io.ReadAll(z)
		if c.want == nil {
			if err == nil {
				t.Fatalf("stream %d: a corrupt stream read without error", i)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("stream %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// GNU gzip's deflate, another implementation than Go's and klauspost's, at its fastest, its
// default and its best levels, with its header (a name and a time).
func TestInflatesGNUGzip(t *testing.T) {
	path, err := exec.LookPath("gzip")
	if err != nil {
		t.Fatalf("GNU gzip, part of every Debian system, is not installed: %v", err)
	}
	for name, data := range samples() {
		for _, level := range []string{"-1", "-6", "-9"} {
			file := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(path, "-c", "-N", level, file).Output()
			if err != nil {
				t.Fatal(err)
			}
			got, trailing, err := gunzip(iotest.HalfReader(bytes.NewReader(out)))
			if err != nil || trailing || !bytes.Equal(got, data) {
				t.Fatalf("%s, gzip %s: %d of %d bytes, trailing %v, %v", name, level, len(got), len(data), trailing, err)
			}
		}
	}
}
