package artifact

import (
	"archive/tar"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"strings"
)

// ErrUnsafeArchive is a tarball with an entry that would write outside its directory, or
// over another entry of another kind.
var ErrUnsafeArchive = errors.New("unsafe archive")

// maxName bounds an entry's path: PATH_MAX on Linux, so that no consumer could create it.
const maxName = 4096

// node is what a name stands for in the layer read so far.
type node uint8

const (
	nodeDir node = 1 << iota
	nodeFile
	nodeIgnored // left out, with everything below it
)

func (r *repacker) entry(hdr *tar.Header, body io.Reader) error {
	if err := r.count(); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
		return r.change() // links, devices and the like never enter an artifact
	}
	dir := hdr.Typeflag == tar.TypeDir
	name, plain, err := cleanName(hdr.Name, dir)
	if err != nil {
		return err
	}
	if !plain || !plainHeader(hdr) {
		if err := r.change(); err != nil {
			return err
		}
	}
	if name == "" && dir {
		return nil // the archive's root, "./"
	}
	if name == "" {
		return fmt.Errorf("%w: entry %q is a file in the place of the archive's directory", ErrUnsafeArchive, hdr.Name)
	}
	if !dir {
		r.files += hdr.Size
		if r.files > r.limits.MaxSize {
			return r.exceeded("MaxSize")
		}
	}
	key, under, err := r.parents(name)
	if err != nil {
		return err
	}
	prev := r.seen[key]
	switch {
	case dir && prev&nodeFile != 0, !dir && prev&nodeDir != 0:
		return fmt.Errorf("%w: the layer holds %q both as a file and as a directory", ErrUnsafeArchive, name)
	case dir && prev != 0:
		return nil // implied by an entry before, or repeated
	}
	kind := nodeFile
	if dir {
		kind = nodeDir
	}
	if under&nodeIgnored != 0 || r.ignore.match(name, dir) {
		r.seen[key] = kind | nodeIgnored
		return r.change()
	}
	r.seen[key] = kind
	if r.tw == nil {
		return nil
	}
	if dir {
		return r.tw.WriteHeader(dirHeader(name))
	}
	if err := r.tw.WriteHeader(fileHeader(name, 0o644, hdr.Size)); err != nil {
		return err
	}
	if _, err := io.CopyBuffer(r.tw, body, r.buf); err != nil {
		return readError("reading the layer's tarball", err)
	}
	return nil
}

// parents registers the directories above name, writing those first implied by it, and
// returns name's key and what its parent directory is.
func (r *repacker) parents(name string) (uint64, node, error) {
	var h maphash.Hash
	h.SetSeed(r.seed)
	parent, start := nodeDir, 0 // the root
	for i := range len(name) {
		if name[i] != '/' {
			continue
		}
		h.WriteString(name[start:i])
		start = i
		key, dir := h.Sum64(), name[:i]
		n := r.seen[key]
		switch {
		case n&nodeFile != 0:
			return 0, 0, fmt.Errorf("%w: the layer holds %q below %q, which is a file", ErrUnsafeArchive, name, dir)
		case n == 0:
			if err := r.count(); err != nil {
				return 0, 0, err
			}
			n = nodeDir
			if parent&nodeIgnored != 0 || r.ignore.match(dir, true) {
				n |= nodeIgnored
			} else if r.tw != nil {
				if err := r.tw.WriteHeader(dirHeader(dir)); err != nil {
					return 0, 0, err
				}
			}
			r.seen[key] = n
		}
		parent = n
	}
	h.WriteString(name[start:])
	return h.Sum64(), parent, nil
}

// cleanName returns the path an entry stands for in the archive, "" for its root, and whether
// the entry spells it plainly: as the path, with a leading "./" or, for a directory, a
// trailing slash, which every tar reader takes alike.
func cleanName(raw string, dir bool) (name string, plain bool, err error) {
	switch {
	case raw == "" || strings.IndexByte(raw, 0) >= 0:
		return "", false, fmt.Errorf("%w: entry %q has no valid name", ErrUnsafeArchive, raw)
	case len(raw) > maxName:
		return "", false, fmt.Errorf("%w: entry %.64q... has a name longer than %d bytes, more than a path may be", ErrUnsafeArchive, raw, maxName)
	}
	s := strings.ReplaceAll(raw, `\`, "/")
	if strings.HasPrefix(s, "/") {
		return "", false, fmt.Errorf("%w: entry %q has an absolute path", ErrUnsafeArchive, raw)
	}
	for elem := range strings.SplitSeq(s, "/") {
		if elem == ".." {
			return "", false, fmt.Errorf("%w: entry %q leaves the archive's directory", ErrUnsafeArchive, raw)
		}
	}
	name = path.Clean(s)
	if name == "." {
		return "", raw == "." || raw == "./", nil
	}
	rest := strings.TrimPrefix(raw, "./")
	if dir {
		rest = strings.TrimSuffix(rest, "/")
	}
	return name, rest == name, nil
}

// plainPAX are the PAX records a layer stored as it is may carry: none changes what a file
// holds, where it goes or what it may do. A size record is not one of them: files under 8 GiB
// have none, and a reader that ignored it would find other entries than the ones checked.
var plainPAX = map[string]bool{
	"path": true, "uid": true, "gid": true, "uname": true, "gname": true,
	"mtime": true, "atime": true, "ctime": true,
}

// plainHeader reports whether a file or directory's header is ordinary enough to be stored as
// it is: permission bits only (no setuid, setgid or sticky bit), readable by its owner (and a
// directory searchable), no PAX record that a consumer could act on (extended attributes,
// sparse maps), and no size on a directory (which archive/tar ignores and other readers may
// skip, each then finding different entries).
func plainHeader(hdr *tar.Header) bool {
	need := int64(0o400)
	if hdr.Typeflag == tar.TypeDir {
		need = 0o500
		if hdr.Size != 0 {
			return false
		}
	}
	if hdr.Mode&^0o777 != 0 || hdr.Mode&need != need || hdr.Linkname != "" {
		return false
	}
	for k := range hdr.PAXRecords {
		if !plainPAX[k] {
			return false
		}
	}
	return true
}
