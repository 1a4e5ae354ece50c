package gitrepository

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

// TestOverlayFS: mounts replace the tree's directory at their point, make the directories above
// them, and the whole is a valid fs.FS.
func TestOverlayFS(t *testing.T) {
	base := fstest.MapFS{
		"deploy/app.yaml":          {Data: []byte("a")},
		"vendor/common/stale.yaml": {Data: []byte("old")},
		"vendor/other/keep.yaml":   {Data: []byte("k")},
	}
	o := overlayFS{base: base, mounts: []mount{
		{at: "vendor/common", fsys: fstest.MapFS{"base.yaml": {Data: []byte("v1")}}},
		{at: "third/party/lib", fsys: fstest.MapFS{"x/y.yaml": {Data: []byte("y")}}},
	}}
	if err := fstest.TestFS(o, "deploy/app.yaml", "vendor/common/base.yaml", "vendor/other/keep.yaml", "third/party/lib/x/y.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(o, "vendor/common/stale.yaml"); err == nil {
		t.Error("the tree's own file under a mount point is still there")
	}
	if got, _ := fs.ReadFile(o, "vendor/common/base.yaml"); string(got) != "v1" {
		t.Errorf("vendor/common/base.yaml = %q", got)
	}
}

func TestSparseFS(t *testing.T) {
	base := fstest.MapFS{"deploy/prod/a.yaml": {}, "deploy/dev/b.yaml": {}, "docs/c.md": {}, "top.yaml": {}}
	s, err := newSparseFS(base, []string{"deploy/prod/"})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	fs.WalkDir(s, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) != 1 || files[0] != "deploy/prod/a.yaml" {
		t.Errorf("files = %v", files)
	}
	if _, err := newSparseFS(base, []string{"../etc"}); err == nil {
		t.Error("a directory outside the repository was accepted")
	}
}
