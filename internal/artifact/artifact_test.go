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
	"testing/fstest"
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

// A nested ignore file applies below its directory, relative to it, after the patterns read
// before it: it may take back a file the root's patterns leave out, and it never reaches a
// sibling directory.
func TestArchiveNestedIgnore(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644} }
	tree := fstest.MapFS{
		"README.md":                file("root"),
		"apps/.sourceignore":       file("/local.yaml\nsecret.yaml\n!NOTES.md\n"),
		"apps/NOTES.md":            file("kept by apps/.sourceignore"),
		"apps/local.yaml":          file("anchored to apps/"),
		"apps/web/local.yaml":      file("not anchored here"),
		"apps/web/secret.yaml":     file("left out below apps/"),
		"apps/web/deployment.yaml": file("kind: Deployment"),
		"infra/secret.yaml":        file("apps/' rules stop at apps/"),
		"infra/README.md":          file("the root's rule"),
	}
	var buf bytes.Buffer
	if err := ArchiveFS(&buf, tree, ParseIgnore("*.md\n").WithNested(".sourceignore")); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(listTar(t, buf.Bytes()), " ")
	want := "apps/ apps/.sourceignore apps/NOTES.md apps/web/ apps/web/deployment.yaml apps/web/local.yaml infra/ infra/secret.yaml"
	if got != want {
		t.Fatalf("entries = %q\nwant      %q", got, want)
	}
	buf.Reset()
	if err := ArchiveFS(&buf, tree, ParseIgnore("*.md\n")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listTar(t, buf.Bytes()), " "); !strings.Contains(got, "apps/local.yaml") {
		t.Fatalf("without WithNested, apps/.sourceignore was read: %q", got)
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

// TestRepackSyncsAWriterAhead: a layer stored as it is is synced while Repack still checks it,
// and Commit then has nothing left to sync; what is written after such a sync is synced by
// Commit, and a restart or a Close after one leaves nothing behind.
func TestRepackSyncsAWriterAhead(t *testing.T) {
	s, err := NewStorage(t.TempDir(), "http://x")
	if err != nil {
		t.Fatal(err)
	}
	data := layer(t, file("a.yaml", "a"), dir("d/"), file("d/b.yaml", "b"))
	w, err := s.Create("ocirepository/ns/app/a.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := Repack(w, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	if w.syncing == nil || w.synced != int64(len(data)) {
		t.Fatalf("after Repack stored the layer as it is, the Writer syncs %d bytes (started: %v), want %d", w.synced, w.syncing != nil, len(data))
	}
	if synced, err := w.waitSync(); !synced || err != nil {
		t.Fatalf("the sync ahead made the artifact durable: %v, %v", synced, err)
	}
	a, err := w.Commit("v1")
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := os.ReadFile(filepath.Join(s.Root, a.Path)); !bytes.Equal(stored, data) || a.Digest != fmt.Sprintf("sha256:%x", sha256.Sum256(data)) {
		t.Fatalf("stored %d bytes with digest %s, want the layer's %d", len(stored), a.Digest, len(data))
	}

	// Bytes written after the sync ahead: Commit syncs them, and they are part of the artifact.
	w, _ = s.Create("ocirepository/ns/app/b.tar.gz")
	io.WriteString(w, "head")
	w.syncAhead()
	io.WriteString(w, "+tail")
	if synced, err := w.waitSync(); synced || err != nil {
		t.Fatalf("a sync that began before the last write reported all durable: %v, %v", synced, err)
	}
	if a, err = w.Commit("v2"); err != nil || *a.Size != int64(len("head+tail")) {
		t.Fatalf("Commit = %+v, %v", a, err)
	}

	// A restart and a Close after a sync ahead.
	w, _ = s.Create("ocirepository/ns/app/c.tar.gz")
	io.WriteString(w, "spooled")
	w.syncAhead()
	rc, err := w.Restart()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(rc); string(got) != "spooled" {
		t.Fatalf("Restart gave %q back", got)
	}
	rc.Close()
	io.WriteString(w, "x")
	w.syncAhead()
	w.Close()
	entries, _ := os.ReadDir(filepath.Join(s.Root, "ocirepository/ns/app"))
	if len(entries) != 2 {
		t.Fatalf("the directory holds %v, want the two committed artifacts", entries)
	}
}

// TestWriterVerified: an artifact written from a reader that verifies its digest takes that
// digest; one restarted after Verified is hashed, as its bytes are others; and only a sha256
// digest given before the first Write is taken.
func TestWriterVerified(t *testing.T) {
	s, err := NewStorage(t.TempDir(), "http://x")
	if err != nil {
		t.Fatal(err)
	}
	data := layer(t, file("a.yaml", "a"))
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(data))

	w, _ := s.Create("ocirepository/ns/app/a.tar.gz")
	if err := w.Verified(digest); err != nil {
		t.Fatal(err)
	}
	if err := Repack(w, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	if a, err := w.Commit("v1"); err != nil || a.Digest != digest || *a.Size != int64(len(data)) {
		t.Fatalf("Commit = %+v, %v; want digest %s", a, err, digest)
	}

	// Rebuilt: the artifact is not the verified bytes, and its digest is its own.
	w, _ = s.Create("ocirepository/ns/app/b.tar.gz")
	if err := w.Verified(digest); err != nil {
		t.Fatal(err)
	}
	if err := Repack(w, bytes.NewReader(data), &RepackOptions{Ignore: ParseIgnore("a.yaml")}); err != nil {
		t.Fatal(err)
	}
	a, err := w.Commit("v2")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := os.ReadFile(filepath.Join(s.Root, a.Path))
	if want := fmt.Sprintf("sha256:%x", sha256.Sum256(stored)); a.Digest != want || a.Digest == digest {
		t.Fatalf("the rebuilt artifact has digest %s, want its bytes' %s", a.Digest, want)
	}

	w, _ = s.Create("ocirepository/ns/app/c.tar.gz")
	defer w.Close()
	for _, bad := range []string{"", "sha256:abc", "sha512:" + strings.Repeat("a", 128), strings.ToUpper(digest)} {
		if err := w.Verified(bad); err == nil {
			t.Errorf("Verified(%q) accepted", bad)
		}
	}
	io.WriteString(w, "x")
	if err := w.Verified(digest); err == nil {
		t.Error("Verified after a Write accepted")
	}
}
