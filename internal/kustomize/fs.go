package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// confinedFS is the file system kustomize builds from: the disk, confined to the artifact's
// root. Every path is resolved, symlinks included, before it is used, and one that ends outside
// root is refused, so that neither ../ nor a symlink in the artifact can read the controller's own
// files (its service account token, other Kustomizations' artifacts). ../ inside root is fine:
// overlays commonly refer to ../base. Relative paths are taken from root, not from the process's
// working directory.
//
// It also refuses to hand out YAML whose aliases would crash kustomize (see checkAliases).
//
// It remembers the first thing it refused, because kustomize wraps, and sometimes flattens into
// strings, the errors of its file system; the build error leads with it instead.
type confinedFS struct {
	root  string // absolute, symlinks resolved
	given string // root as the caller wrote it, made absolute, to scrub from messages
	disk  filesys.FileSystem
	fault string // what was first refused, and what to do about it
	// decode transforms a file's content as kustomize reads it (Options.Decode).
	decode func(path string, data []byte) ([]byte, error)
}

var _ filesys.FileSystem = (*confinedFS)(nil)

func newConfinedFS(root string) (*confinedFS, error) {
	given, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("artifact directory '%s': %w", root, err)
	}
	resolved, err := filepath.EvalSymlinks(given)
	if err != nil {
		return nil, fmt.Errorf("artifact directory '%s': %w", root, err)
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return nil, fmt.Errorf("artifact directory '%s': %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("artifact directory '%s' is not a directory", root)
	}
	return &confinedFS{root: resolved, given: given, disk: filesys.MakeFsOnDisk()}, nil
}

// outsideError is a path that resolves outside the artifact.
type outsideError struct{ msg string }

func (e *outsideError) Error() string { return e.msg }

// resolve returns path made absolute (from root when relative), with its symlinks resolved, or
// an *outsideError when it ends outside root. A path that does not exist yet is resolved through
// its longest existing parent, so that creating a file cannot escape either.
func (f *confinedFS) resolve(path string) (string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(f.root, path)
	}
	path = filepath.Clean(path)
	if !within(f.root, path) {
		return "", f.refuse(fmt.Sprintf("'%s' is outside the source artifact", f.display(path)))
	}
	resolved, err := resolveExisting(path, 0)
	if err != nil {
		return "", err
	}
	if !within(f.root, resolved) {
		return "", f.refuse(fmt.Sprintf("'%s' is a symlink to a path outside the source artifact", relPath(f.root, path)))
	}
	return resolved, nil
}

// display names a path outside root: relative to root when it is next to it (a sibling of the
// build directory has a random name), absolute otherwise (/etc/passwd, as the user wrote it).
func (f *confinedFS) display(path string) string {
	if within(filepath.Dir(f.root), path) {
		return relPath(f.root, path)
	}
	return path
}

func (f *confinedFS) refuse(msg string) error {
	f.noteFault(msg + ": kustomize may read only files inside the artifact (../ is fine within it)")
	return &outsideError{msg: msg}
}

func (f *confinedFS) noteFault(msg string) {
	if f.fault == "" {
		f.fault = msg
	}
}

// maxMissing bounds how many trailing elements of a path may not exist, so that resolving a
// pathological path ends.
const maxMissing = 255

// resolveExisting resolves the symlinks of path, whose last elements may not exist. A dangling
// symlink is reported as not existing: following it could create a file anywhere.
func resolveExisting(path string, depth int) (string, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err == nil {
		return resolved, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || depth > maxMissing {
		return "", err
	}
	if _, lerr := os.Lstat(path); lerr == nil {
		return "", &fs.PathError{Op: "resolve", Path: path, Err: fs.ErrNotExist}
	}
	parent := filepath.Dir(path)
	if parent == path {
		return "", err
	}
	dir, err := resolveExisting(parent, depth+1)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(path)), nil
}

// within reports whether p is root or below it; both are clean and absolute.
func within(root, p string) bool {
	if root == string(filepath.Separator) || p == root {
		return true
	}
	return strings.HasPrefix(p, root+string(filepath.Separator))
}

// relative is filepath.Rel with forward slashes.
func relative(root, p string) (string, error) {
	rel, err := filepath.Rel(root, p)
	return filepath.ToSlash(rel), err
}

// specDir resolves spec.path inside the artifact as Flux does: the path is joined to root as if
// root were /, so neither a leading / nor ../ leaves the artifact; a symlink out of it is refused.
func (f *confinedFS) specDir(path string) (string, error) {
	p := filepath.Join(f.root, filepath.Join(string(filepath.Separator), path))
	resolved, err := f.resolve(p)
	if err != nil {
		var out *outsideError
		if errors.As(err, &out) {
			return "", &BuildError{Err: fmt.Errorf("spec.path '%s': %w", path, err)}
		}
		return "", &BuildError{Err: fmt.Errorf("spec.path '%s' not found in the artifact: check the path and the source's revision", path)}
	}
	info, err := os.Stat(resolved)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &BuildError{Err: fmt.Errorf("spec.path '%s' not found in the artifact: check the path and the source's revision", path)}
	case err != nil:
		return "", fmt.Errorf("spec.path '%s': %w", path, err)
	case !info.IsDir():
		return "", &BuildError{Err: fmt.Errorf("spec.path '%s' is a file: it must name a directory of manifests or with a kustomization.yaml", path)}
	}
	return resolved, nil
}

func (f *confinedFS) Create(path string) (filesys.File, error) {
	p, err := f.resolve(path)
	if err != nil {
		return nil, err
	}
	return f.disk.Create(p)
}

func (f *confinedFS) Mkdir(path string) error {
	p, err := f.resolve(path)
	if err != nil {
		return err
	}
	return f.disk.Mkdir(p)
}

func (f *confinedFS) MkdirAll(path string) error {
	p, err := f.resolve(path)
	if err != nil {
		return err
	}
	return f.disk.MkdirAll(p)
}

func (f *confinedFS) RemoveAll(path string) error {
	p, err := f.resolve(path)
	if err != nil {
		return err
	}
	return f.disk.RemoveAll(p)
}

func (f *confinedFS) Open(path string) (filesys.File, error) {
	p, err := f.resolve(path)
	if err != nil {
		return nil, err
	}
	return f.disk.Open(p)
}

func (f *confinedFS) IsDir(path string) bool {
	p, err := f.resolve(path)
	return err == nil && f.disk.IsDir(p)
}

func (f *confinedFS) ReadDir(path string) ([]string, error) {
	p, err := f.resolve(path)
	if err != nil {
		return nil, err
	}
	return f.disk.ReadDir(p)
}

// CleanedAbs is written here rather than delegated: the disk's version calls log.Fatalf on
// paths it does not expect, which would end the controller.
func (f *confinedFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	p, err := f.resolve(path)
	if err != nil {
		return "", "", err
	}
	info, err := os.Stat(p)
	if err != nil {
		return "", "", err
	}
	if info.IsDir() {
		return filesys.ConfirmedDir(p), "", nil
	}
	return filesys.ConfirmedDir(filepath.Dir(p)), filepath.Base(p), nil
}

func (f *confinedFS) Exists(path string) bool {
	p, err := f.resolve(path)
	return err == nil && f.disk.Exists(p)
}

// Glob returns the matches that resolve inside root.
func (f *confinedFS) Glob(pattern string) ([]string, error) {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(f.root, pattern)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	kept := matches[:0]
	for _, m := range matches {
		if p, err := f.resolve(m); err == nil {
			kept = append(kept, p)
		}
	}
	return kept, nil
}

// ReadFile decodes what it reads (Options.Decode: the Kustomization's decryption, in memory) and
// refuses YAML whose aliases loop or explode: kustomize reads every file it parses through here.
func (f *confinedFS) ReadFile(path string) ([]byte, error) {
	p, err := f.resolve(path)
	if err != nil {
		return nil, err
	}
	data, err := f.disk.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if f.decode != nil {
		if data, err = f.decode(relPath(f.root, p), data); err != nil {
			f.noteFault(err.Error())
			return nil, err
		}
	}
	if err := checkAliases(data); err != nil {
		yerr := &yamlError{path: relPath(f.root, p), err: err}
		f.noteFault(yerr.Error())
		return nil, yerr
	}
	return data, nil
}

func (f *confinedFS) WriteFile(path string, data []byte) error {
	p, err := f.resolve(path)
	if err != nil {
		return err
	}
	return f.disk.WriteFile(p, data)
}

// Walk does not follow symlinks, as filepath.Walk; each file it reports is inside root.
func (f *confinedFS) Walk(path string, walkFn filepath.WalkFunc) error {
	p, err := f.resolve(path)
	if err != nil {
		return err
	}
	return f.disk.Walk(p, walkFn)
}
