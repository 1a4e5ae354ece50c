package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Ignore decides which files an artifact leaves out, with .gitignore syntax (spec.ignore).
type Ignore struct{ matcher gitignore.Matcher }

// ParseIgnore reads .gitignore-style patterns, one a line; blank lines and comments are skipped.
func ParseIgnore(patterns string) Ignore {
	var ps []gitignore.Pattern
	for _, line := range strings.Split(patterns, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, nil))
	}
	return Ignore{matcher: gitignore.NewMatcher(ps)}
}

func (i Ignore) match(rel string, dir bool) bool {
	return i.matcher != nil && i.matcher.Match(strings.Split(rel, "/"), dir)
}

// Archive writes dir as a gzipped tarball to w, leaving out what ignore matches. The archive is
// reproducible: entries in lexical order, with no owners and no times, so equal content gives an
// equal digest.
func Archive(w io.Writer, dir string, ignore Ignore) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if ignore.match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil // symlinks and devices never enter an artifact
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: rel, Mode: int64(info.Mode().Perm()), Typeflag: tar.TypeReg, Size: info.Size(), Format: tar.FormatPAX}
		if d.IsDir() {
			hdr.Name, hdr.Typeflag, hdr.Size, hdr.Mode = rel+"/", tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// ErrUnsafeArchive is a tarball that tries to write outside its directory, or is too large.
var ErrUnsafeArchive = errors.New("unsafe archive")

// Extract unpacks a gzipped tarball into dir, refusing entries that escape dir and archives that
// expand beyond maxSize bytes. Links and special files are skipped.
func Extract(r io.Reader, dir string, maxSize int64) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("the layer is not a gzipped tarball: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the tarball: %w", err)
		}
		name := path.Clean("/" + strings.ReplaceAll(hdr.Name, "\\", "/"))[1:]
		if name == "" || strings.HasPrefix(hdr.Name, "/") || strings.Contains("/"+hdr.Name+"/", "/../") {
			return fmt.Errorf("%w: entry %q leaves the archive's directory", ErrUnsafeArchive, hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			total += hdr.Size
			if maxSize > 0 && total > maxSize {
				return fmt.Errorf("%w: it expands beyond %d bytes", ErrUnsafeArchive, maxSize)
			}
			if err := writeFile(target, tr, hdr.Size); err != nil {
				return err
			}
		}
	}
}

func writeFile(target string, r io.Reader, size int64) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
