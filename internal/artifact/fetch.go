package artifact

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/internal/inflate"
)

// DigestError is an artifact whose bytes do not match the digest its source published: the
// download was cut or altered on its way, or the source is storing a new one. Retrying helps.
type DigestError struct {
	URL, Want, Got string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("artifact from '%s' has digest '%s', not the '%s' its source published: "+
		"it was altered in transit or replaced meanwhile; retrying", e.URL, e.Got, e.Want)
}

// Fetch downloads a (a gzipped tarball served by an artifact server) and unpacks it into dir,
// which must exist and be empty. Its bytes are hashed as they stream and compared with
// a.Digest once read whole; on any failure dir is emptied, so a consumer never builds on part
// of an artifact or on one that does not match.
//
// Regular files and directories are unpacked; symbolic links and other entries are skipped, as
// Flux's consumers skip them, and a name that leaves dir is refused (ErrUnsafeArchive). limits
// bound the download and its content as they bound a layer.
func Fetch(ctx context.Context, client *http.Client, a *meta.Artifact, dir string, limits *Limits) (err error) {
	algorithm, want, ok := strings.Cut(a.Digest, ":")
	if !ok || algorithm != "sha256" {
		return fmt.Errorf("artifact from '%s' has digest '%s': only sha256 digests can be verified", a.URL, a.Digest)
	}
	defer func() {
		if err != nil {
			clearDir(dir)
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return fmt.Errorf("artifact URL '%s': %w", a.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("downloading the artifact: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading the artifact from '%s': the artifact server answered %s; "+
			"the source may be storing a newer artifact, retrying", a.URL, resp.Status)
	}
	l := limits.withDefaults()
	h := sha256.New()
	body := &limitedReader{r: io.TeeReader(resp.Body, h), left: l.MaxCompressedSize, err: &LimitError{Limit: "MaxCompressedSize", Max: l.MaxCompressedSize}}
	if err := unpack(body, dir, l); err != nil {
		return fmt.Errorf("unpacking the artifact from '%s': %w", a.URL, err)
	}
	// The tarball may end before the stream does (gzip padding, a second member): hash it all.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return fmt.Errorf("downloading the artifact from '%s': %w", a.URL, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return &DigestError{URL: a.URL, Want: a.Digest, Got: "sha256:" + got}
	}
	return nil
}

func unpack(r io.Reader, dir string, l Limits) error {
	gz, err := inflate.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzipped tarball: %w", err)
	}
	tr := tar.NewReader(&limitedReader{r: gz, left: l.MaxSize, err: &LimitError{Limit: "MaxSize", Max: l.MaxSize}})
	var entries int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if entries++; entries > l.MaxEntries {
			return &LimitError{Limit: "MaxEntries", Max: l.MaxEntries}
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeDir {
			continue
		}
		name, _, err := cleanName(hdr.Name, hdr.Typeflag == tar.TypeDir)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(path.Dir(name))), 0o755); err != nil {
			return err
		}
		if err := writeFile(target, tr, hdr.FileInfo().Mode().Perm()|0o600); err != nil {
			return err
		}
	}
}

// writeFile creates name, refusing to follow a link or overwrite: an archive with two entries of
// one name is not one a source produced.
func writeFile(name string, r io.Reader, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm&0o755)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: entry %q appears twice", ErrUnsafeArchive, filepath.Base(name))
		}
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// clearDir empties dir and leaves it in place.
func clearDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
