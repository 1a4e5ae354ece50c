package artifact

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"

	"github.com/azimuth-gitops/azimuth/internal/inflate"
)

// RepackOptions say what Repack leaves out and what it accepts. Nil means no ignore rules and
// the default Limits.
type RepackOptions struct {
	// Ignore leaves files out of the artifact (spec.ignore). Default: none.
	Ignore Ignore
	// Limits bound the layer. Default: each limit's default.
	Limits Limits
	// Size is the layer's size as its manifest declares it, checked against
	// Limits.MaxCompressedSize before a byte is read. Default: 0, unknown.
	Size int64
}

// Spool is an output that Repack can start over: Restart discards what was written and
// returns it to be read again. A Writer is a Spool.
type Spool interface {
	io.Writer
	Restart() (io.ReadCloser, error)
}

// Repack reads a layer, a gzipped tarball, from src and writes it to dst as an artifact in one
// pass, without a temporary tree. Each entry is checked as it streams:
//   - its name must stay inside the archive: no absolute path and no ".." element; "./"
//     and "./a/b" are the archive's root and a/b; backslashes are slashes;
//   - regular files and directories are kept; links, devices and other kinds are left out,
//     as are files and directories that opts.Ignore matches, with everything below them;
//   - the same name as a file and as a directory is refused, as are unsafe names
//     (ErrUnsafeArchive);
//   - opts.Limits are enforced (a *LimitError).
//
// src is read to its end, so that the gzip checksums and, for a registry layer, its digest are
// verified; a rebuilt artifact leaves out what follows the tarball's end.
//
// When dst is a Spool, the layer's own bytes are stored as they stream through: if every entry
// passes the checks unchanged (a regular file or directory, named plainly, with ordinary
// permissions and metadata, matching no ignore rule), the artifact is the layer, byte for byte,
// and costs no compression. Otherwise, when the first entry that must change is met, dst is
// restarted and the artifact rebuilt from the spooled bytes and the rest of src. Such an
// artifact is the layer's own tarball, with its order, times and owners: the same layer always
// gives the same artifact. Note that the checks are made on the tarball as Go's archive/tar
// reads it, as Flux's controllers do.
//
// A rebuilt artifact is reproducible: the entries in the layer's order, each directory before
// the first entry below it, files 0644 and directories 0755, with no owners and no times,
// compressed as Archive compresses (newGzipWriter); a layer whose entries come in the order Archive writes
// them gives what Archive gives for the tree it holds. An entry that repeats a file's name is
// kept each time, so that unpacking the artifact gives what unpacking the layer gives: the
// last one.
//
// On error, dst holds part of an artifact and must be discarded (a Writer closed without
// Commit).
func Repack(dst io.Writer, src io.Reader, opts *RepackOptions) error {
	var o RepackOptions
	if opts != nil {
		o = *opts
	}
	limits := o.Limits.withDefaults()
	tooLarge := &LimitError{Limit: "MaxCompressedSize", Max: limits.MaxCompressedSize}
	if o.Size > limits.MaxCompressedSize {
		return tooLarge
	}
	in := &limitedReader{r: src, left: limits.MaxCompressedSize, err: tooLarge}
	spool, ok := dst.(Spool)
	if !ok {
		return rebuild(dst, in, o.Ignore, limits)
	}
	// Every byte read from in is written to dst before it is decompressed, so that dst holds
	// all that was read when the attempt ends. Once the layer is all in dst, a Writer starts
	// syncing it while the checks go on.
	spooling := &atEOF{r: io.TeeReader(in, dst)}
	if s, ok := dst.(interface{ syncAhead() }); ok {
		spooling.f = s.syncAhead
	}
	ahead := newReadAhead(spooling, spoolDepth)
	err := newRepacker(o.Ignore, limits, nil).run(ahead)
	ahead.Close()
	if !errors.Is(err, errChanged) {
		return err
	}
	spooled, err := spool.Restart()
	if err != nil {
		return fmt.Errorf("starting the artifact over: %w", err)
	}
	defer spooled.Close()
	return rebuild(dst, io.MultiReader(spooled, in), o.Ignore, limits)
}

// rebuild writes the artifact of the layer read from src to dst. Compression runs in a
// goroutine of its own, so that it overlaps decompression.
func rebuild(dst io.Writer, src io.Reader, ignore Ignore, limits Limits) error {
	pr, pw := io.Pipe()
	compressed := make(chan error, 1)
	go func() { compressed <- compress(dst, pr) }()
	tw := tar.NewWriter(pw)
	ahead := newReadAhead(src, rebuildDepth)
	err := newRepacker(ignore, limits, tw).run(ahead)
	ahead.Close()
	if err == nil {
		err = tw.Close()
	}
	pw.CloseWithError(err) // nil: the end of the tarball
	if cerr := <-compressed; err == nil {
		err = cerr
	}
	return err
}

// compress gzips what r gives to dst, and fails r's writer if it cannot. It reads r a few
// chunks ahead, so that the tarball's writer waits only for a copy, not for compression.
func compress(dst io.Writer, r *io.PipeReader) error {
	bw := bufio.NewWriterSize(dst, 64<<10) // gzip writes a few hundred bytes at a time
	gz := newGzipWriter(bw)
	ahead := newReadAhead(r, rebuildDepth)
	defer ahead.Close() // after r.CloseWithError, which ends a read waiting for the writer
	_, err := io.CopyBuffer(gz, ahead, make([]byte, 64<<10))
	if err == nil {
		err = gz.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	r.CloseWithError(err)
	return err
}

// errChanged ends the attempt to store a layer as it is: an entry must change.
var errChanged = errors.New("the layer must be rebuilt")

// repacker checks one pass over a layer. With tw nil it only checks that the layer can be
// stored as it is, and returns errChanged as soon as it cannot; otherwise it writes the
// artifact to tw.
type repacker struct {
	ignore  Ignore
	limits  Limits
	tw      *tar.Writer
	seed    maphash.Seed
	seen    map[uint64]node // by a seeded hash of the name: memory stays flat however long the names
	entries int64
	files   int64 // the sum of the files' sizes
	buf     []byte
}

func newRepacker(ignore Ignore, limits Limits, tw *tar.Writer) *repacker {
	return &repacker{ignore: ignore, limits: limits, tw: tw, seed: maphash.MakeSeed(), seen: map[uint64]node{}, buf: make([]byte, 64<<10)}
}

func (r *repacker) run(src io.Reader) error {
	gz := inflaters.Get().(*inflate.Reader)
	defer inflaters.Put(gz)
	if err := gz.Reset(src); err != nil {
		if errors.Is(err, inflate.ErrHeader) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("the layer is not a gzipped tarball: %w", err)
		}
		return err
	}
	// Member after member; data after the last that is not gzip ends the stream rather than
	// failing it, as it did when extraction stopped at the tarball's end (gz.Trailing).
	expanded := &limitedReader{r: gz, left: r.limits.MaxSize, err: r.exceeded("MaxSize")}
	tr := tar.NewReader(expanded)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) { // our own rules apply, whatever GODEBUG says
			return readError("reading the layer's tarball", err)
		}
		if err := r.entry(hdr, tr); err != nil {
			return err
		}
	}
	// Read to the end: what follows the tarball's end, then any further gzip member.
	for {
		n, err := expanded.Read(r.buf)
		for _, b := range r.buf[:n] {
			if b != 0 {
				if err := r.change(); err != nil {
					return err
				}
				break
			}
		}
		if err == io.EOF && gz.Trailing() {
			return r.change()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return readError("reading the layer", err)
		}
	}
}

// readError wraps a failure to read the layer, except those that name their cause already.
func readError(doing string, err error) error {
	var limit *LimitError
	if errors.As(err, &limit) {
		return limit
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func (r *repacker) exceeded(limit string) *LimitError {
	max := r.limits.MaxSize
	if limit == "MaxEntries" {
		max = r.limits.MaxEntries
	}
	return &LimitError{Limit: limit, Max: max}
}

// change notes that the artifact differs from the layer: the end of a check for storing the
// layer as it is, nothing when rebuilding.
func (r *repacker) change() error {
	if r.tw == nil {
		return errChanged
	}
	return nil
}

func (r *repacker) count() error {
	r.entries++
	if r.entries > r.limits.MaxEntries {
		return r.exceeded("MaxEntries")
	}
	return nil
}

// inflaters keep decompressors, and their buffers, from one layer to the next.
var inflaters = sync.Pool{New: func() any { return new(inflate.Reader) }}
