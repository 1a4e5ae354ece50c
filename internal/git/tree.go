package git

import (
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/azimuth-gitops/azimuth/internal/artifact"
)

// treeFS is a commit's tree as an fs.FS, read from the object store: a source's artifact is
// built from it without checking out a work tree, which costs a file per file. Regular and
// executable files are files; symbolic links and submodules are listed as irregular entries,
// which artifacts leave out.
type treeFS struct{ root *object.Tree }

var (
	_ fs.ReadDirFS  = treeFS{}
	_ fs.ReadFileFS = treeFS{}
)

func (t treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return artifact.DirFile(".", entryInfo{name: ".", mode: filemode.Dir}, func() ([]fs.DirEntry, error) { return t.ReadDir(".") }), nil
	}
	entry, err := t.root.FindEntry(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	info, err := t.info(name, entry)
	if err != nil {
		return nil, err
	}
	if entry.Mode == filemode.Dir {
		return artifact.DirFile(name, info, func() ([]fs.DirEntry, error) { return t.ReadDir(name) }), nil
	}
	file, err := t.root.TreeEntryFile(entry)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	rc, err := file.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &treeFile{ReadCloser: rc, info: info}, nil
}

func (t treeFS) ReadFile(name string) ([]byte, error) {
	f, err := t.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func (t treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	tree := t.root
	if name != "." {
		var err error
		if tree, err = t.root.Tree(name); err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
		}
	}
	out := make([]fs.DirEntry, 0, len(tree.Entries))
	for i := range tree.Entries {
		e := &tree.Entries[i]
		info, err := t.info(path.Join(name, e.Name), e)
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(info))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// info describes an entry; a file's size comes from its blob.
func (t treeFS) info(name string, e *object.TreeEntry) (entryInfo, error) {
	info := entryInfo{name: path.Base(name), mode: e.Mode}
	if e.Mode == filemode.Regular || e.Mode == filemode.Executable || e.Mode == filemode.Deprecated {
		blob, err := t.root.TreeEntryFile(e)
		if err != nil {
			return entryInfo{}, &fs.PathError{Op: "stat", Path: name, Err: err}
		}
		info.size = blob.Size
	}
	return info, nil
}

type entryInfo struct {
	name string
	mode filemode.FileMode
	size int64
}

func (i entryInfo) Name() string       { return i.name }
func (i entryInfo) Size() int64        { return i.size }
func (i entryInfo) ModTime() time.Time { return time.Time{} }
func (i entryInfo) IsDir() bool        { return i.mode == filemode.Dir }
func (i entryInfo) Sys() any           { return nil }

func (i entryInfo) Mode() fs.FileMode {
	switch i.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Executable:
		return 0o755
	case filemode.Regular, filemode.Deprecated:
		return 0o644
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	}
	return fs.ModeIrregular // a submodule
}

type treeFile struct {
	io.ReadCloser
	info entryInfo
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }
