package artifact

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestReadFS: what Archive writes, ReadFS reads back, as a valid fs.FS.
func TestReadFS(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"a/b/c.yaml": "c\n", "a/d.yaml": "d\n", "top.yaml": "t\n"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	var buf bytes.Buffer
	if err := Archive(&buf, dir, Ignore{}); err != nil {
		t.Fatal(err)
	}
	fsys, err := ReadFS(bytes.NewReader(buf.Bytes()), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "a/b/c.yaml", "a/d.yaml", "top.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFS(bytes.NewReader(buf.Bytes()), 2); !errors.As(err, new(*LimitError)) {
		t.Errorf("over the size limit: %v", err)
	}
	if got, _ := fs.ReadFile(fsys, "a/b/c.yaml"); string(got) != "c\n" {
		t.Errorf("a/b/c.yaml = %q", got)
	}
}
