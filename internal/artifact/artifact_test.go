package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil { // whatever the umask, as a layer's files are
			t.Fatal(err)
		}
	}
	return dir
}

func listTar(t testing.TB, data []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

func TestArchiveIsReproducibleAndHonoursIgnore(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"deploy/app.yaml": "kind: Deployment", "deploy/secret.env": "x", "README.md": "hi", "tmp/cache": "c",
	})
	ignore := ParseIgnore("# comments are skipped\n*.env\n/tmp/\n")
	var a, b bytes.Buffer
	if err := Archive(&a, dir, ignore); err != nil {
		t.Fatal(err)
	}
	// Touch every file: times must not change the digest.
	later := time.Now().Add(time.Hour)
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, later, later) })
	if err := Archive(&b, dir, ignore); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
		t.Fatal("archiving the same content twice gave different bytes")
	}
	got := strings.Join(listTar(t, a.Bytes()), " ")
	if want := "README.md deploy/ deploy/app.yaml"; got != want {
		t.Fatalf("entries = %q, want %q", got, want)
	}
}

func tarball(t testing.TB, name, content string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	io.WriteString(tw, content)
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestStorageCommitIsAtomicAndServed(t *testing.T) {
	s, err := NewStorage(t.TempDir(), "http://azimuth.test")
	if err != nil {
		t.Fatal(err)
	}
	dir := Dir("OCIRepository", "tenant-a", "app")
	w, err := s.Create(dir + "/one.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "payload")
	if entries, _ := os.ReadDir(filepath.Join(s.Root, dir)); len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), ".tmp-") {
		t.Fatalf("before Commit the directory holds %v, want one temporary file", entries)
	}
	a, err := w.Commit("v1@sha256:abc")
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("payload"))) || *a.Size != 7 || a.URL != "http://azimuth.test/ocirepository/tenant-a/app/one.tar.gz" {
		t.Fatalf("artifact = %+v", a)
	}

	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/" + a.Path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "payload" {
		t.Fatalf("served %q", body)
	}
	for _, p := range []string{"/" + dir + "/", "/" + dir} {
		if resp, _ := http.Get(srv.URL + p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %s, want 404 (no listings)", p, resp.Status)
		}
	}

	// A writer closed without Commit leaves nothing.
	w2, _ := s.Create(dir + "/two.tar.gz")
	io.WriteString(w2, "half")
	w2.Close()
	if _, err := os.Stat(filepath.Join(s.Root, dir, "two.tar.gz")); !os.IsNotExist(err) {
		t.Fatal("an uncommitted artifact was published")
	}
	if _, err := s.Create("../escape"); err == nil {
		t.Fatal("Create accepted a path outside the root")
	}
}

func TestGarbageCollectKeepsTheNewest(t *testing.T) {
	s, _ := NewStorage(t.TempDir(), "http://x")
	dir := Dir("OCIRepository", "ns", "app")
	for i := range 4 {
		w, _ := s.Create(fmt.Sprintf("%s/%d.tar.gz", dir, i))
		a, err := w.Commit(fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(filepath.Join(s.Root, a.Path), old, old)
	}
	if err := s.GarbageCollect(dir, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root, dir))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "2.tar.gz,3.tar.gz" {
		t.Fatalf("after GC: %v, want the two newest", names)
	}
}
