package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one file or directory of a layer. Its name has no leading slash ("etc/passwd").
type entry struct {
	name     string
	dir      bool
	mode     int64 // permission bits, sticky bit included
	uid, gid int
	body     func() (io.ReadCloser, error) // a file's contents; nil for a directory
	size     int64
}

// layer is a gzipped tar layer held in memory, with its digests computed once as it was written.
// It implements v1.Layer.
type layer struct {
	gz     []byte
	digest v1.Hash
	diffID v1.Hash
}

var _ v1.Layer = (*layer)(nil)

func (l *layer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *layer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *layer) Size() (int64, error)                { return int64(len(l.gz)), nil }
func (l *layer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}
func (l *layer) Uncompressed() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(l.gz))
}

// newLayer writes entries as a tar stream sorted by name, every time set to mtime, gzipped with
// no name and no time in the gzip header: the same entries give the same bytes.
func newLayer(entries []entry, mtime time.Time) (*layer, error) {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var gz bytes.Buffer
	gzSum, tarSum := sha256.New(), sha256.New()
	zw := gzip.NewWriter(io.MultiWriter(&gz, gzSum))
	tw := tar.NewWriter(io.MultiWriter(zw, tarSum))
	for _, e := range entries {
		if err := writeEntry(tw, e, mtime); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &layer{gz: gz.Bytes(), digest: hashOf(gzSum), diffID: hashOf(tarSum)}, nil
}

func writeEntry(tw *tar.Writer, e entry, mtime time.Time) error {
	h := &tar.Header{
		Name:    e.name,
		Mode:    e.mode,
		Uid:     e.uid,
		Gid:     e.gid,
		Uname:   userName(e.uid),
		Gname:   userName(e.gid),
		ModTime: mtime,
		Format:  tar.FormatUSTAR,
	}
	if e.dir {
		h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
		return tw.WriteHeader(h)
	}
	h.Typeflag, h.Size = tar.TypeReg, e.size
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("image: %s: %w", e.name, err)
	}
	body, err := e.body()
	if err != nil {
		return err
	}
	defer body.Close()
	// CopyN: a file that grew after it was measured fails here instead of writing a broken tar.
	if _, err := io.CopyN(tw, body, e.size); err != nil {
		return fmt.Errorf("image: reading %s: %w", e.name, err)
	}
	return nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}
