package gitrepository

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// sparseFS is a tree with only the directories of spec.sparseCheckout (and the directories
// above them, which hold them): what a sparse checkout of those directories would leave.
type sparseFS struct {
	fs.FS
	dirs []string
}

var _ fs.ReadDirFS = sparseFS{}

// newSparseFS keeps only dirs of tree; no dirs keeps it whole. A directory must be a relative
// path inside the repository.
func newSparseFS(tree fs.FS, dirs []string) (fs.FS, error) {
	if len(dirs) == 0 {
		return tree, nil
	}
	clean := make([]string, 0, len(dirs))
	for _, d := range dirs {
		c := path.Clean(strings.Trim(d, "/"))
		if c == "." {
			return tree, nil // the root: everything
		}
		if !fs.ValidPath(c) {
			return nil, fmt.Errorf("spec.sparseCheckout: '%s' is not a directory inside the repository", d)
		}
		clean = append(clean, c)
	}
	return sparseFS{FS: tree, dirs: clean}, nil
}

// keeps reports whether p is in one of the directories, or above one.
func (s sparseFS) keeps(p string) bool {
	for _, d := range s.dirs {
		if p == d || strings.HasPrefix(p, d+"/") || strings.HasPrefix(d, p+"/") {
			return true
		}
	}
	return false
}

func (s sparseFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(s.FS, name)
	if err != nil {
		return nil, err
	}
	kept := entries[:0]
	for _, e := range entries {
		if s.keeps(path.Join(name, e.Name())) {
			kept = append(kept, e)
		}
	}
	return kept, nil
}
