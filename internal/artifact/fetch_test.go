package artifact

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/api/meta"
)

// serve stores the tarball of files as an artifact and serves the storage.
func serve(t *testing.T, tarball []byte) (*meta.Artifact, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	s, err := NewStorage(t.TempDir(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	w, err := s.Create(Dir("GitRepository", "ns", "repo") + "/a.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(tarball)
	a, err := w.Commit("main@sha1:abc")
	if err != nil {
		t.Fatal(err)
	}
	return a, srv
}

func TestFetchUnpacksWhatTheDigestVouchesFor(t *testing.T) {
	var archive bytes.Buffer
	if err := Archive(&archive, writeTree(t, map[string]string{"apps/cm.yaml": "kind: ConfigMap", "README.md": "hi"}), Ignore{}); err != nil {
		t.Fatal(err)
	}
	a, srv := serve(t, archive.Bytes())
	dir := t.TempDir()
	if err := Fetch(t.Context(), srv.Client(), a, dir, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "apps", "cm.yaml")); string(got) != "kind: ConfigMap" {
		t.Fatalf("apps/cm.yaml = %q", got)
	}

	t.Run("a digest that does not match empties the directory", func(t *testing.T) {
		other := *a
		other.Digest = "sha256:" + strings.Repeat("0", 64)
		dir := t.TempDir()
		err := Fetch(t.Context(), srv.Client(), &other, dir, nil)
		var de *DigestError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "altered in transit or replaced") {
			t.Fatalf("err = %v, want a DigestError", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("after a digest mismatch dir holds %v", entries)
		}
	})
	t.Run("a missing artifact says the server's answer", func(t *testing.T) {
		gone := *a
		gone.URL += ".old"
		if err := Fetch(t.Context(), srv.Client(), &gone, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a digest of another algorithm is refused", func(t *testing.T) {
		md5 := *a
		md5.Digest = "md5:abc"
		if err := Fetch(t.Context(), srv.Client(), &md5, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "only sha256") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFetchRefusesUnsafeArchives(t *testing.T) {
	for name, entries := range map[string][]tarEntry{
		"parent":    {file("../escape.yaml", "x")},
		"absolute":  {file("/etc/escape.yaml", "x")},
		"duplicate": {file("a.yaml", "x"), file("a.yaml", "y")},
	} {
		t.Run(name, func(t *testing.T) {
			a, srv := serve(t, layer(t, entries...))
			dir := t.TempDir()
			err := Fetch(t.Context(), srv.Client(), a, dir, nil)
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Fatalf("err = %v, want ErrUnsafeArchive", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("a refused archive left %v", entries)
			}
		})
	}
	t.Run("links are skipped", func(t *testing.T) {
		a, srv := serve(t, layer(t, symlink("link", "/etc/passwd"), file("ok.yaml", "x")))
		dir := t.TempDir()
		if err := Fetch(t.Context(), srv.Client(), a, dir, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "link")); !os.IsNotExist(err) {
			t.Fatal("a symbolic link was unpacked")
		}
	})
	t.Run("limits hold", func(t *testing.T) {
		a, srv := serve(t, layer(t, file("big.yaml", strings.Repeat("x", 4096))))
		var le *LimitError
		if err := Fetch(t.Context(), srv.Client(), a, t.TempDir(), &Limits{MaxSize: 1024}); !errors.As(err, &le) {
			t.Fatalf("err = %v, want a LimitError", err)
		}
	})
	t.Run("not gzip", func(t *testing.T) {
		a, srv := serve(t, []byte("plain text"))
		if err := Fetch(t.Context(), srv.Client(), a, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "not a gzipped tarball") {
			t.Fatalf("err = %v", err)
		}
	})
}
