package artifact

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/internal/inflate"
)

// ReadFS reads an artifact (a gzipped tarball) into memory as an fs.FS of its regular files and
// directories, for what builds on an artifact (a GitRepository's includes). Names are checked as
// Repack checks them; maxSize bounds the files' total size (0: Limits' default).
func ReadFS(r io.Reader, maxSize int64) (fs.FS, error) {
	if maxSize <= 0 {
		defaults := Limits{}
		maxSize = defaults.withDefaults().MaxSize
	}
	gz, err := inflate.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading the artifact: %w", err)
	}
	m := memFS{files: map[string][]byte{}, dirs: map[string]bool{".": true}}
	tr := tar.NewReader(gz)
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the artifact: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if name == "." && hdr.Typeflag == tar.TypeDir {
			continue
		}
		if !fs.ValidPath(name) {
			return nil, fmt.Errorf("reading the artifact: %w: %q", ErrUnsafeArchive, hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			m.addDir(name)
		case tar.TypeReg:
			if total += hdr.Size; total > maxSize {
				return nil, &LimitError{Limit: "MaxSize", Max: maxSize}
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("reading the artifact: %w", err)
			}
			m.files[name] = data
			m.addDir(path.Dir(name))
		}
	}
	return m, nil
}

// memFS is files and directories in memory.
type memFS struct {
	files map[string][]byte
	dirs  map[string]bool
}

func (m memFS) addDir(d string) {
	for ; d != "." && !m.dirs[d]; d = path.Dir(d) {
		m.dirs[d] = true
	}
}

func (m memFS) Open(name string) (fs.File, error) {
	if data, ok := m.files[name]; ok {
		return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: path.Base(name), size: int64(len(data))}}, nil
	}
	if m.dirs[name] {
		return DirFile(name, memInfo{name: path.Base(name), dir: true}, func() ([]fs.DirEntry, error) { return m.ReadDir(name) }), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (m memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !m.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	child := func(p string) bool { return p != "." && path.Dir(p) == name }
	for d := range m.dirs {
		if child(d) {
			out = append(out, fs.FileInfoToDirEntry(memInfo{name: path.Base(d), dir: true}))
		}
	}
	for f, data := range m.files {
		if child(f) {
			out = append(out, fs.FileInfoToDirEntry(memInfo{name: path.Base(f), size: int64(len(data))}))
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }
