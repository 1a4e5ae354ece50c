package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// layer builds a gzipped tarball of headers, each followed by its body (hdr.Size is set from
// it for regular files).
func layer(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 && hdr.Typeflag != tar.TypeXGlobalHeader {
			hdr.Mode = 0o644
			if hdr.Typeflag == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type tarEntry struct {
	hdr  tar.Header
	body string
}

func file(name, body string) tarEntry { return tarEntry{tar.Header{Name: name}, body} }
func dir(name string) tarEntry        { return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeDir}, ""} }
func symlink(name, target string) tarEntry {
	return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}, ""}
}

// memSpool is a Spool in memory.
type memSpool struct {
	bytes.Buffer
	restarts int
}

func (m *memSpool) Restart() (io.ReadCloser, error) {
	m.restarts++
	data := bytes.Clone(m.Bytes())
	m.Reset()
	return io.NopCloser(bytes.NewReader(data)), nil
}

// repackBoth runs Repack into a Spool, where the layer may be stored as it is, and into a
// plain writer, where the artifact is always rebuilt. It fails the test unless both agree.
func repackBoth(t testing.TB, data []byte, opts *RepackOptions) (spooled, rebuilt []byte, verbatim bool, err error) {
	t.Helper()
	var s memSpool
	errS := Repack(&s, bytes.NewReader(data), opts)
	var b bytes.Buffer
	errB := Repack(&b, bytes.NewReader(data), opts)
	if (errS == nil) != (errB == nil) {
		t.Fatalf("into a Spool: %v; into a writer: %v", errS, errB)
	}
	if errS != nil {
		return nil, nil, false, errS
	}
	verbatim = bytes.Equal(s.Bytes(), data)
	if verbatim != (s.restarts == 0) {
		t.Fatalf("stored as it is: %v, but restarted %d times", verbatim, s.restarts)
	}
	if a, b := contents(t, s.Bytes()), contents(t, b.Bytes()); !maps.Equal(a, b) {
		t.Fatalf("the stored layer holds %v, the rebuilt artifact %v", a, b)
	}
	return s.Bytes(), b.Bytes(), verbatim, nil
}

// contents is what unpacking a gzipped tarball gives: files by path with their content,
// directories (those the paths imply too) with a trailing slash, the last entry of a name
// winning.
func contents(t testing.TB, data []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean(h.Name)
		if name == "." {
			continue
		}
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			got[d+"/"] = ""
		}
		switch h.Typeflag {
		case tar.TypeDir:
			got[name+"/"] = ""
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			got[name] = string(b)
		default:
			t.Fatalf("the artifact holds %q of type %q", h.Name, h.Typeflag)
		}
	}
}

func TestRepackAcceptsDotSlashEntries(t *testing.T) {
	data := layer(t, dir("./"), dir("./a/"), file("./a/b.yaml", "b"), file("./c.yaml", "c"))
	_, rebuilt, verbatim, err := repackBoth(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !verbatim {
		t.Error("a plain layer whose entries start with ./ was not stored as it is")
	}
	if got, want := strings.Join(listTar(t, rebuilt), " "), "a/ a/b.yaml c.yaml"; got != want {
		t.Errorf("rebuilt entries = %q, want %q", got, want)
	}

	// And what tar makes of a directory, when there is a tar to ask.
	tarCmd, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar command")
	}
	src := writeTree(t, map[string]string{"deploy/app.yaml": "kind: Deployment", "README.md": "hi"})
	out := filepath.Join(t.TempDir(), "x.tgz")
	if b, err := exec.Command(tarCmd, "-czf", out, "-C", src, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, b)
	}
	data, err = os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := repackBoth(t, data, nil); err != nil {
		t.Fatalf("a layer made with `tar -czf x.tgz -C dir .`: %v", err)
	}
}

func TestRepackRefusesEscapes(t *testing.T) {
	for name, data := range map[string][]byte{
		"parent":               layer(t, file("../escape", "x")),
		"absolute":             layer(t, file("/etc/passwd", "x")),
		"nested parent":        layer(t, file("a/../../escape", "x")),
		"dot-slash parent":     layer(t, file("./../escape", "x")),
		"backslash parent":     layer(t, file(`..\escape`, "x")),
		"parent directory":     layer(t, dir("../d/")),
		"absolute directory":   layer(t, dir("/d/")),
		"file, then below it":  layer(t, file("a", "x"), file("a/b", "y")),
		"directory, then file": layer(t, dir("a/"), file("a", "x")),
		"file, then directory": layer(t, file("a", "x"), dir("a/")),
		"a file as the root":   renamed(t, layer(t, file("xx", "x")), "xx", "./"),
		"very long name":       layer(t, file(strings.Repeat("a/", 2100)+"x", "x")),
	} {
		if _, _, _, err := repackBoth(t, data, nil); !errors.Is(err, ErrUnsafeArchive) {
			t.Errorf("%s: Repack = %v, want ErrUnsafeArchive", name, err)
		}
	}
}

// Links never enter an artifact, so none can redirect a later entry.
func TestRepackLeavesOutLinks(t *testing.T) {
	hard := tarEntry{tar.Header{Name: "shadow", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}, ""}
	data := layer(t, symlink("a", "/etc"), file("a/passwd", "x"), hard, symlink("b", "../../.."), file("c", "c"))
	_, rebuilt, verbatim, err := repackBoth(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if verbatim {
		t.Error("a layer with links was stored as it is")
	}
	want := map[string]string{"a/": "", "a/passwd": "x", "c": "c"}
	if got := contents(t, rebuilt); !maps.Equal(got, want) {
		t.Errorf("artifact holds %v, want %v", got, want)
	}
}

func TestRepackLimits(t *testing.T) {
	files := func(n int) []tarEntry {
		var es []tarEntry
		for i := range n {
			es = append(es, file(fmt.Sprintf("f%05d", i), ""))
		}
		return es
	}
	zeros := func(n int) []byte { // a zip bomb of sorts: n zero bytes compress ~1,000 times
		var buf bytes.Buffer
		gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		tw := tar.NewWriter(gz)
		tw.WriteHeader(&tar.Header{Name: "bomb", Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg})
		io.Copy(tw, io.LimitReader(zeroReader{}, int64(n)))
		tw.Close()
		gz.Close()
		return buf.Bytes()
	}
	bomb := zeros(16 << 20)
	for _, c := range []struct {
		name   string
		data   []byte
		limits Limits
		want   string // the limit exceeded, "" for none
		says   string
	}{
		{"entries at the limit", layer(t, files(100)...), Limits{MaxEntries: 100}, "", ""},
		{"entries over the limit", layer(t, files(101)...), Limits{MaxEntries: 100}, "MaxEntries", "more than 100 entries"},
		{"implied directories count", layer(t, file("a/b/c/d", "")), Limits{MaxEntries: 3}, "MaxEntries", "more than 3 entries"},
		{"files over the size", layer(t, file("a", strings.Repeat("x", 600)), file("b", strings.Repeat("x", 600))), Limits{MaxSize: 1000}, "MaxSize", "expands beyond 1000 bytes"},
		{"a zip bomb", bomb, Limits{MaxSize: 1 << 20}, "MaxSize", "expands beyond 1 MiB"},
		{"headers count", layer(t, files(1000)...), Limits{MaxSize: 100 << 10}, "MaxSize", "expands beyond 102400 bytes"},
		{"compressed size", bomb, Limits{MaxCompressedSize: 1000}, "MaxCompressedSize", "larger than 1000 bytes"},
	} {
		_, _, _, err := repackBoth(t, c.data, &RepackOptions{Limits: c.limits})
		var limit *LimitError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == "":
		case !errors.As(err, &limit) || limit.Limit != c.want:
			t.Errorf("%s: Repack = %v, want a LimitError on %s", c.name, err, c.want)
		case !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "push"):
			t.Errorf("%s: the error %q does not say %q and what to do", c.name, err, c.says)
		}
	}

	// The size a manifest declares is checked before a byte is read.
	err := Repack(io.Discard, failingReader{}, &RepackOptions{Size: 2 << 30})
	if limit := (*LimitError)(nil); !errors.As(err, &limit) || limit.Limit != "MaxCompressedSize" {
		t.Errorf("a layer declared at 2 GiB: %v", err)
	}
}

// The 100,000 empty files of issue 10 are refused at the default limits.
func TestRepackRefusesManyFilesByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a layer of 50,001 files")
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for i := range DefaultMaxEntries + 1 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%06d", i), Mode: 0o644, Typeflag: tar.TypeReg})
	}
	tw.Close()
	gz.Close()
	var limit *LimitError
	if err := Repack(&memSpool{}, &buf, nil); !errors.As(err, &limit) || limit.Limit != "MaxEntries" {
		t.Fatalf("Repack = %v, want a LimitError on MaxEntries", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("read") }

func TestCopyIsCapped(t *testing.T) {
	var buf bytes.Buffer
	if err := Copy(&buf, strings.NewReader("0123456789"), 10, &Limits{MaxCompressedSize: 10}); err != nil || buf.String() != "0123456789" {
		t.Fatalf("a layer at the limit: %q, %v", buf.String(), err)
	}
	var limit *LimitError
	if err := Copy(io.Discard, strings.NewReader("0123456789x"), 0, &Limits{MaxCompressedSize: 10}); !errors.As(err, &limit) || limit.Limit != "MaxCompressedSize" {
		t.Errorf("a layer one byte over the limit: %v, want a LimitError", err)
	}
	if err := Copy(io.Discard, failingReader{}, 11, &Limits{MaxCompressedSize: 10}); !errors.As(err, &limit) {
		t.Errorf("a layer declared over the limit: %v, want a LimitError before reading", err)
	}
	if err := Copy(io.Discard, strings.NewReader("x"), 0, nil); err != nil {
		t.Errorf("nil limits: %v", err)
	}
}

// treeLayer is a layer as Archive would write the tree: the entries in its order.
func treeLayer(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	if err := Archive(&buf, writeTree(t, files), Ignore{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRepackAppliesIgnoreRules(t *testing.T) {
	files := map[string]string{"deploy/app.yaml": "kind: Deployment", "deploy/secret.env": "x", "README.md": "hi", "tmp/cache": "c", "z-last.yaml": "z"}
	data := treeLayer(t, files)
	rules := "# comments are skipped\n*.env\n/tmp/\n"
	_, rebuilt, verbatim, err := repackBoth(t, data, &RepackOptions{Ignore: ParseIgnore(rules)})
	if err != nil {
		t.Fatal(err)
	}
	if verbatim {
		t.Fatal("a layer with ignored files was stored as it is")
	}
	var want bytes.Buffer
	if err := Archive(&want, writeTree(t, files), ParseIgnore(rules)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, want.Bytes()) {
		t.Errorf("Repack gave %v, Archive of the tree %v", listTar(t, rebuilt), listTar(t, want.Bytes()))
	}

	// Rules that match nothing change nothing.
	if _, _, verbatim, err := repackBoth(t, data, &RepackOptions{Ignore: ParseIgnore("*.md5\nsecrets/\n")}); err != nil || !verbatim {
		t.Errorf("rules that match nothing: stored as it is %v, %v", verbatim, err)
	}
}

// For a layer in Archive's order, the artifact is what extracting the layer and archiving the
// tree gave before streaming; equal content gives an equal digest.
func TestRepackMatchesArchive(t *testing.T) {
	files := map[string]string{"a-b": "1", "a/b/c.yaml": "2", "a/d": "3", "b.yaml": "4", "empty": ""}
	data := treeLayer(t, files)
	spooled, rebuilt, verbatim, err := repackBoth(t, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !verbatim || !bytes.Equal(rebuilt, data) {
		t.Errorf("a layer Archive wrote: stored as it is %v, rebuilt the same %v", verbatim, bytes.Equal(rebuilt, data))
	}
	if !bytes.Equal(spooled, data) {
		t.Error("the stored layer differs from the layer")
	}

	// The same files with times, owners, other modes and no directory entries: equal artifacts.
	var plain, dressed bytes.Buffer
	for i, buf := range []*bytes.Buffer{&plain, &dressed} {
		gz := gzip.NewWriter(buf)
		tw := tar.NewWriter(gz)
		for _, name := range []string{"a/b/c.yaml", "a/d", "a-b", "b.yaml", "empty"} { // Archive's order
			hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(files[name])), Typeflag: tar.TypeReg}
			if i == 1 {
				hdr.Name, hdr.Mode, hdr.ModTime, hdr.Uid, hdr.Uname = "./"+name, 0o755, time.Unix(1e9, 0), 1000, "someone"
			}
			tw.WriteHeader(hdr)
			io.WriteString(tw, files[name])
		}
		tw.Close()
		gz.Close()
	}
	var a, b bytes.Buffer
	if err := Repack(&a, &plain, nil); err != nil {
		t.Fatal(err)
	}
	if err := Repack(&b, &dressed, nil); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) || !bytes.Equal(a.Bytes(), data) {
		t.Errorf("equal content, different artifacts: %v and %v, Archive %v", listTar(t, a.Bytes()), listTar(t, b.Bytes()), listTar(t, data))
	}
}

// A layer that must change after part of it was stored is rebuilt in the same Writer, and
// nothing is left behind.
func TestRepackRestartsAWriter(t *testing.T) {
	s, err := NewStorage(t.TempDir(), "http://x")
	if err != nil {
		t.Fatal(err)
	}
	var entries []tarEntry
	for i := range 200 {
		entries = append(entries, file(fmt.Sprintf("f%03d.yaml", i), strings.Repeat("data ", 200)+fmt.Sprint(i)))
	}
	data := layer(t, append(entries, symlink("last", "f000.yaml"))...)
	w, err := s.Create("ocirepository/ns/app/x.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if err := Repack(w, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	a, err := w.Commit("v1")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join(s.Root, a.Path))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Repack(&want, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, want.Bytes()) || a.Digest != fmt.Sprintf("sha256:%x", sha256.Sum256(stored)) || *a.Size != int64(len(stored)) {
		t.Errorf("the restarted Writer stored %d bytes (digest %s), want the rebuilt artifact's %d", len(stored), a.Digest, want.Len())
	}
	if left, _ := os.ReadDir(filepath.Dir(filepath.Join(s.Root, a.Path))); len(left) != 1 {
		t.Errorf("the directory holds %v, want the artifact alone", left)
	}

	// A failure after a restart publishes nothing.
	w, _ = s.Create("ocirepository/ns/app/y.tar.gz")
	bad := layer(t, symlink("first", "x"), file("../escape", "x"))
	if err := Repack(w, bytes.NewReader(bad), nil); !errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("Repack = %v", err)
	}
	w.Close()
	if left, _ := os.ReadDir(filepath.Dir(filepath.Join(s.Root, a.Path))); len(left) != 1 {
		t.Errorf("after a refused layer the directory holds %v", left)
	}
}

func TestRepackReadsTheLayerToItsEnd(t *testing.T) {
	data := layer(t, file("a", "x"))
	// Zeros after the tarball, as tar pads to its record size: still the layer as it is.
	var padded bytes.Buffer
	gz := gzip.NewWriter(&padded)
	raw, _ := io.ReadAll(mustGunzip(t, data))
	gz.Write(append(raw, make([]byte, 10240)...))
	gz.Close()
	if _, _, verbatim, err := repackBoth(t, padded.Bytes(), nil); err != nil || !verbatim {
		t.Errorf("a padded tarball: stored as it is %v, %v", verbatim, err)
	}
	// A tarball split over two gzip members.
	var two bytes.Buffer
	for _, part := range [][]byte{raw[:700], raw[700:]} {
		gz := gzip.NewWriter(&two)
		gz.Write(part)
		gz.Close()
	}
	if _, _, verbatim, err := repackBoth(t, two.Bytes(), nil); err != nil || !verbatim {
		t.Errorf("two gzip members: stored as it is %v, %v", verbatim, err)
	}
	// Data after the gzip stream is read and dropped, as extraction used to ignore it.
	junk := append(bytes.Clone(data), "not gzip at all"...)
	if _, rebuilt, verbatim, err := repackBoth(t, junk, nil); err != nil || verbatim || contents(t, rebuilt)["a"] != "x" {
		t.Errorf("data after the gzip stream: stored as it is %v, %v", verbatim, err)
	}
	// The registry client checks the digest when the layer is read to its end.
	errDigest := errors.New("digest mismatch")
	for _, dst := range []io.Writer{&memSpool{}, io.Discard} {
		if err := Repack(dst, &failAtEOF{r: bytes.NewReader(padded.Bytes()), err: errDigest}, nil); !errors.Is(err, errDigest) {
			t.Errorf("into %T: Repack = %v, want the digest mismatch", dst, err)
		}
	}
	// A corrupt stream is refused.
	corrupt := bytes.Clone(data)
	corrupt[len(corrupt)-5] ^= 0xff // the CRC
	for name, d := range map[string][]byte{"not gzip": []byte("not gzip"), "corrupt": corrupt, "truncated": data[:len(data)-10], "empty": nil} {
		if _, _, _, err := repackBoth(t, d, nil); err == nil {
			t.Errorf("%s: Repack accepted it", name)
		}
	}
	if err := Repack(io.Discard, strings.NewReader("not gzip"), nil); err == nil || !strings.Contains(err.Error(), "not a gzipped tarball") {
		t.Errorf("not gzip: %v", err)
	}
}

func mustGunzip(t testing.TB, data []byte) io.Reader {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return gz
}

type failAtEOF struct {
	r   io.Reader
	err error
}

func (f *failAtEOF) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

// Headers that a consumer could act on are never stored as they are.
func TestRepackStoresOnlyPlainLayers(t *testing.T) {
	for name, e := range map[string]tarEntry{
		"setuid":           {tar.Header{Name: "a", Mode: 0o4755}, "x"},
		"unreadable":       {tar.Header{Name: "a", Mode: 0o200}, "x"},
		"xattr":            {tar.Header{Name: "a", PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "x"}}, "x"},
		"backslash":        file(`a\b`, "x"),
		"double slash":     file("a//b", "x"),
		"dot inside":       file("a/./b", "x"),
		"fifo":             {tar.Header{Name: "a", Typeflag: tar.TypeFifo}, ""},
		"global header":    {tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}, ""},
		"ignored dir":      dir("secrets/"),
		"unsearchable dir": {tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o644}, ""},
		"dir with a size":  {tar.Header{Name: "d/", Typeflag: tar.TypeDir, Size: 1}, ""},
	} {
		_, _, verbatim, err := repackBoth(t, layer(t, file("first", "1"), e, file("last", "2")), &RepackOptions{Ignore: ParseIgnore("secrets/")})
		if err != nil || verbatim {
			t.Errorf("%s: stored as it is %v, %v", name, verbatim, err)
		}
	}
}

// A file whose name ends with a slash, which archive/tar will not write.
func TestRepackStoresAFileSlashAsAFile(t *testing.T) {
	data := renamed(t, layer(t, file("a/b", "x")), "a/b", "a/b/")
	if _, rebuilt, verbatim, err := repackBoth(t, data, nil); err != nil || verbatim || strings.Join(listTar(t, rebuilt), " ") != "a/ a/b" {
		t.Errorf("stored as it is %v, %v", verbatim, err)
	}
}

// renamed renames the first entry named from in a layer, header by header, where archive/tar
// would refuse the name.
func renamed(t testing.TB, data []byte, from, to string) []byte {
	t.Helper()
	raw, err := io.ReadAll(mustGunzip(t, data))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+512 <= len(raw); off += 512 {
		blk := raw[off : off+512]
		if string(bytes.TrimRight(blk[:100], "\x00")) != from {
			continue
		}
		copy(blk[:100], make([]byte, 100))
		copy(blk[:100], to)
		copy(blk[148:156], "        ")
		var sum int
		for _, b := range blk {
			sum += int(b)
		}
		copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		gz.Write(raw)
		gz.Close()
		return buf.Bytes()
	}
	t.Fatalf("no entry %q", from)
	return nil
}

// oldExtract is how layers were unpacked before Repack, the reference it is fuzzed against.
func oldExtract(r io.Reader, dir string, maxSize int64) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean("/" + strings.ReplaceAll(hdr.Name, "\\", "/"))[1:]
		if name == "" || strings.HasPrefix(hdr.Name, "/") || strings.Contains("/"+hdr.Name+"/", "/../") {
			return ErrUnsafeArchive
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if total += hdr.Size; total > maxSize {
				return ErrUnsafeArchive
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.CopyN(f, tr, hdr.Size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// FuzzRepack feeds Repack tarballs, gzipped here so that mutations reach the tar headers, or
// raw bytes taken for the gzip stream.
func FuzzRepack(f *testing.F) {
	for _, l := range [][]byte{
		tarball(f, "a.yaml", "x"),
		tarball(f, "../x", "x"),
		layer(f, dir("./"), dir("./a/"), file("./a/b.env", "b"), file("./tmp/c", "c"), file("keep.env", "k")),
		layer(f, symlink("a", "/etc"), file("a/passwd", "x"), file("a", "y")),
		layer(f, file("a", "1"), file("a", "2"), dir("d/"), dir("d/"), file("d/e/f", "3")),
	} {
		raw, _ := io.ReadAll(mustGunzip(f, l))
		f.Add(raw, false)
		f.Add(l, true)
	}
	f.Add([]byte("junk"), true)
	ignore := ParseIgnore("*.env\n/tmp/\n!keep.env\n")
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		if !raw {
			var buf bytes.Buffer
			gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
			gz.Write(data)
			gz.Close()
			data = buf.Bytes()
		}
		opts := &RepackOptions{Ignore: ignore, Limits: Limits{MaxSize: 1 << 20, MaxEntries: 1000}}
		_, rebuilt, _, err := repackBoth(t, data, opts) // and both ways agree
		if err != nil {
			return
		}
		// Every name is plain and inside the archive.
		for _, name := range listTar(t, rebuilt) {
			if clean, plain, err := cleanName(name, strings.HasSuffix(name, "/")); err != nil || !plain || strings.HasPrefix(name, "./") || clean == "" {
				t.Fatalf("the artifact holds %q", name)
			}
		}
		// What the layer held before streaming, where extraction accepted it then.
		tree := t.TempDir()
		if oldExtract(bytes.NewReader(data), tree, 1<<20) != nil {
			return
		}
		var before bytes.Buffer
		if err := Archive(&before, tree, ignore); err != nil {
			t.Fatal(err)
		}
		if got, want := contents(t, rebuilt), contents(t, before.Bytes()); !maps.Equal(got, want) {
			t.Fatalf("the artifact holds %v, extracting and archiving gave %v", got, want)
		}
	})
}
