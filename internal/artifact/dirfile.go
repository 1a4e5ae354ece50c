package artifact

import (
	"io"
	"io/fs"
)

// DirFile is the fs.ReadDirFile of a directory whose entries list gives, for the file systems
// ArchiveFS reads (a Git tree, an artifact read back, an overlay of them): their Open returns
// it for a directory, and only list and info differ.
func DirFile(name string, info fs.FileInfo, list func() ([]fs.DirEntry, error)) fs.ReadDirFile {
	return &dirFile{name: name, info: info, list: list}
}

type dirFile struct {
	name    string
	info    fs.FileInfo
	list    func() ([]fs.DirEntry, error)
	entries []fs.DirEntry
	loaded  bool
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}

// ReadDir reads the directory as fs.ReadDirFile says: n > 0 entries at a time, io.EOF at the
// end; n <= 0 all that is left.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.loaded {
		entries, err := d.list()
		if err != nil {
			return nil, err
		}
		d.entries, d.loaded = entries, true
	}
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
