package artifact

import (
	"fmt"
	"io"
)

// The defaults of Limits.
const (
	// DefaultMaxCompressedSize bounds a layer as the registry stores it: 1 GiB.
	DefaultMaxCompressedSize int64 = 1 << 30
	// DefaultMaxSize bounds a layer once decompressed: 1 GiB.
	DefaultMaxSize int64 = 1 << 30
	// DefaultMaxEntries bounds the entries of a layer: 50,000. A manifests artifact holds tens
	// to a few thousand files; at 50,000 the tar headers alone are 25 MB, and every consumer
	// creates as many files again when it unpacks the artifact.
	DefaultMaxEntries = 50_000
)

// Limits bound what one layer may cost to read and to store. A field left zero takes its
// default; there is no unlimited setting.
type Limits struct {
	// MaxCompressedSize bounds the layer's bytes as read from the registry, for the copy and
	// the extract operations alike (a copied layer is stored as it is). It also bounds the work
	// of a gzip stream of many empty members. Default: DefaultMaxCompressedSize, 1 GiB.
	MaxCompressedSize int64
	// MaxSize bounds the layer once decompressed, twice over: the tarball gzip expands to,
	// headers and skipped entries included, and the sum of its files' sizes (which a sparse
	// file can make larger). Default: DefaultMaxSize, 1 GiB.
	MaxSize int64
	// MaxEntries bounds the entries of the layer's tarball, counting every kind (the links and
	// devices an artifact leaves out too) and each directory that a path implies before the
	// directory's own entry, if any. Default: DefaultMaxEntries, 50,000.
	MaxEntries int64
}

func (l *Limits) withDefaults() Limits {
	var d Limits
	if l != nil {
		d = *l
	}
	if d.MaxCompressedSize <= 0 {
		d.MaxCompressedSize = DefaultMaxCompressedSize
	}
	if d.MaxSize <= 0 {
		d.MaxSize = DefaultMaxSize
	}
	if d.MaxEntries <= 0 {
		d.MaxEntries = DefaultMaxEntries
	}
	return d
}

// LimitError is a layer refused because it exceeds one of Limits. It is not terminal: the same
// layer fails the same way, but a tag can move to a smaller artifact, so the reconciler retries
// with back-off rather than waiting for a change of spec.
type LimitError struct {
	// Limit is the field of Limits exceeded: MaxCompressedSize, MaxSize or MaxEntries.
	Limit string
	// Max is the limit's value.
	Max int64
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case "MaxCompressedSize":
		return fmt.Sprintf("the layer is larger than %s, Azimuth's limit on a layer as the registry stores it: "+
			"push a smaller artifact, or select a smaller layer with spec.layerSelector.mediaType", formatSize(e.Max))
	case "MaxSize":
		return fmt.Sprintf("the layer expands beyond %s, Azimuth's limit on a layer once decompressed: "+
			"push an artifact without its largest files (spec.ignore does not help, ignored files are read too), "+
			"or select a smaller layer with spec.layerSelector.mediaType", formatSize(e.Max))
	default:
		return fmt.Sprintf("the layer's tarball has more than %d entries (files, directories and links), "+
			"Azimuth's limit on one layer: push an artifact with fewer files, or split it into several", e.Max)
	}
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// limitedReader reads from r and fails with err once more than left bytes have come, where
// io.LimitReader would end as if the stream were complete.
type limitedReader struct {
	r    io.Reader
	left int64
	err  error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	// One byte past the limit tells a stream that ends exactly at it from a longer one.
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, l.err
	}
	return n, err
}

// Copy copies a layer byte for byte to dst, as the copy operation stores it. size is the
// layer's size as its manifest declares it, 0 if unknown: a layer declared larger than
// limits.MaxCompressedSize is refused before a byte is read, and one found larger while
// copying is refused there. Nil limits means the defaults. On error, dst holds part of the
// layer and must be discarded (a Writer closed without Commit).
func Copy(dst io.Writer, src io.Reader, size int64, limits *Limits) error {
	l := limits.withDefaults()
	tooLarge := &LimitError{Limit: "MaxCompressedSize", Max: l.MaxCompressedSize}
	if size > l.MaxCompressedSize {
		return tooLarge
	}
	_, err := io.CopyBuffer(dst, &limitedReader{r: src, left: l.MaxCompressedSize, err: tooLarge}, make([]byte, 64<<10))
	return err
}
