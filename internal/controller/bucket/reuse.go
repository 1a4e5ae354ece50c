package bucket

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/bucket"
	"github.com/azimuth-gitops/azimuth/internal/inflate"
)

// The index of the stored artifact is kept beside it, in a hidden directory that the artifact
// server does not serve and the storage's garbage collection leaves alone, in a file named after
// the revision, whose digest it is: an index that does not match is never trusted.
func indexPath(obj *sourcev1.Bucket, revision string) string {
	return artifactDir(obj) + "/.index/." + strings.TrimPrefix(revision, "sha256:")
}

// saveIndex stores index as the index of the artifact of revision, and removes the others.
func (r *Reconciler) saveIndex(obj *sourcev1.Bucket, index bucket.Index, revision string) error {
	rel := indexPath(obj, revision)
	w, err := r.Storage.Create(rel)
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := index.WriteTo(w); err != nil {
		return err
	}
	if _, err := w.Commit(revision); err != nil {
		return err
	}
	dir := filepath.Join(r.Storage.Root, filepath.FromSlash(path.Dir(rel)))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != path.Base(rel) && !strings.HasPrefix(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// reuse copies into dir the files of the stored artifact whose blobs want lists with the ETags
// they had then, and returns their index: the blobs Fetch need not download. Anything amiss (no
// artifact, no index, a damaged one) reuses nothing, and every blob is downloaded.
func (r *Reconciler) reuse(ctx context.Context, obj *sourcev1.Bucket, dir string, want bucket.Index) bucket.Index {
	a := obj.Status.Artifact
	if a == nil || !r.Storage.Exists(a) {
		return nil
	}
	f, err := os.Open(filepath.Join(r.Storage.Root, filepath.FromSlash(indexPath(obj, a.Revision))))
	if err != nil {
		return nil
	}
	prev, err := bucket.ReadIndex(f, a.Revision)
	f.Close()
	if err != nil {
		ctrl.LoggerFrom(ctx).Info("the stored artifact's index is not usable; downloading every blob", "error", err.Error())
		return nil
	}
	same := bucket.Index{}
	for name, etag := range want {
		if prev[name] == etag {
			same[name] = etag
		}
	}
	if len(same) == 0 {
		return nil
	}
	rc, err := r.Storage.Open(a)
	if err != nil {
		return nil
	}
	defer rc.Close()
	have, err := extract(rc, dir, same)
	if err != nil {
		ctrl.LoggerFrom(ctx).Info("the stored artifact could not be read; downloading every blob", "error", err.Error())
		return nil
	}
	return have
}

// extract writes the regular files of the tarball r that names lists to dir, and returns the
// index of those written.
func extract(r io.Reader, dir string, names bucket.Index) (bucket.Index, error) {
	gz, err := inflate.NewReader(r)
	if err != nil {
		return nil, err
	}
	have := bucket.Index{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return have, nil
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		etag, ok := names[name]
		if !ok || hdr.Typeflag != tar.TypeReg || !fs.ValidPath(name) {
			continue
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(name)), tr); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		have[name] = etag
	}
}

func writeFile(file string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
