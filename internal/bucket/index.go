package bucket

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// Index is what an artifact of a Bucket holds: each blob's name and ETag. Its digest is the
// artifact's revision, as Flux's source-controller computes it.
type Index map[string]string

// WriteTo writes the index as Flux digests it: a line "NAME ETAG" per blob, in the byte order
// of the names.
func (i Index) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range i {
			if !yield(k) {
				return
			}
		}
	}) {
		m, err := fmt.Fprintf(w, "%s %s\n", name, i[name])
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Revision is the index's digest, `sha256:HEX`: Flux's revision of a Bucket artifact. With the
// ETags in the quoted form the service's headers use, it is the revision Flux records for the
// same blobs.
func (i Index) Revision() string {
	h := sha256.New()
	_, _ = i.WriteTo(h)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ErrIndexMismatch is an index whose digest is not the revision it was read for.
var ErrIndexMismatch = errors.New("the index does not match the revision")

// ReadIndex reads an index that WriteTo wrote, and checks that its digest is revision, so a
// stale or damaged index is never trusted.
func ReadIndex(r io.Reader, revision string) (Index, error) {
	h := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(r, h))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	i := Index{}
	for sc.Scan() {
		name, etag, ok := cutLast(sc.Text(), " ")
		if !ok || name == "" {
			return nil, fmt.Errorf("reading the index: malformed line %q", clip.String(sc.Text(), 120))
		}
		i[name] = etag
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the index: %w", err)
	}
	if "sha256:"+hex.EncodeToString(h.Sum(nil)) != revision {
		return nil, ErrIndexMismatch
	}
	return i, nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
