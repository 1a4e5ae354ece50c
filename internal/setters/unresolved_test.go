package setters

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestUnresolved: a marker that names a missing or not-ready policy, asks for a digest the
// policy lacks, is malformed, or marks a value that cannot be set in place is reported with its
// file and line; markers of other namespaces and unselected policies are not.
func TestUnresolved(t *testing.T) {
	fsys := fstest.MapFS{"m.yaml": {Data: []byte(`a: x:1 # {"$imagepolicy": "ns:missing"}
b: x:1 # {"$imagepolicy": "ns:waiting"}
c: x # {"$imagepolicy": "ns:app:digest"}
d: x # {"$imagepolicy": "app"}
e: &e x:1
f: *e # {"$imagepolicy": "ns:app"}
g: | # {"$imagepolicy": "ns:app"}
  x:1
h: x:1 # {"$imagepolicy": "other:missing"}
i: x:1 # {"$imagepolicy": "ns:unselected"}
j: x:1 # {"$imagepolicy": "ns:app:size"}
k: x:1
  continued # {"$imagepolicy": "ns:app"}
`)}}
	policies := []Policy{
		{Name: "app", Latest: Image{Name: "x", Tag: "2"}},
		{Name: "waiting", NotReady: "it has no latest image yet"},
		{Name: "unselected", Unselected: true},
	}
	out, err := Apply(fsys, ".", "ns", policies)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`m.yaml:1: marker "ns:missing": ImagePolicy ns/missing does not exist`,
		`m.yaml:2: marker "ns:waiting": ImagePolicy ns/waiting is not ready: it has no latest image yet`,
		`m.yaml:3: marker "ns:app:digest": ImagePolicy ns/app has no digest in status.latestRef`,
		`m.yaml:4: marker "app": "app" must be NAMESPACE:NAME`,
		`m.yaml:6: marker "ns:app": the marked value is not a scalar`,
		`m.yaml:11: marker "ns:app:size": "ns:app:size": the part after the policy must be tag, name or digest`,
	}
	var got []string
	for _, u := range out.Unresolved {
		got = append(got, u.Error())
	}
	if len(got) != len(want)+2 {
		t.Fatalf("unresolved:\n%s", strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("unresolved[%d] = %q, want it to start with %q", i, got[i], w)
		}
	}
	// The block scalar and the value spanning lines cannot be set in place, and say so.
	rest := strings.Join(got[len(want):], "\n")
	if !strings.Contains(rest, "block scalar") || !strings.Contains(rest, "spans lines") {
		t.Errorf("unresolved:\n%s", rest)
	}
}

// TestNoEscape: nothing outside the path is read; a symbolic link under the path, to a file or
// a directory outside it, is not followed, and a path through a link is refused.
func TestNoEscape(t *testing.T) {
	root := t.TempDir()
	marked := []byte(`image: x:1 # {"$imagepolicy": "ns:app"}` + "\n")
	for name, data := range map[string][]byte{"repo/apps/a.yaml": marked, "secret/s.yaml": marked, "repo/other/o.yaml": marked} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755)
		os.WriteFile(filepath.Join(root, name), data, 0o644)
	}
	os.Symlink("../../secret", filepath.Join(root, "repo/apps/dir-link"))
	os.Symlink("../../secret/s.yaml", filepath.Join(root, "repo/apps/file-link.yaml"))
	os.Symlink("other", filepath.Join(root, "repo/linked"))
	fsys := os.DirFS(filepath.Join(root, "repo"))
	policies := []Policy{{Name: "app", Latest: Image{Name: "x", Tag: "2"}}}

	for _, dir := range []string{"apps", "/apps", "./apps/", "../apps", "apps/../../apps"} {
		out, err := Apply(fsys, dir, "ns", policies)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(out.Files) != 1 || out.Files["apps/a.yaml"] == nil {
			t.Errorf("path %q changed %v, want apps/a.yaml alone", dir, keys(out.Files))
		}
	}
	out, err := Apply(fsys, "apps/a.yaml", "ns", policies)
	if err != nil || len(out.Files) != 1 || out.Changed.FileChanges["a.yaml"] == nil {
		t.Errorf("a file as the path: %v, %v", keys(out.Files), err)
	}
	if _, err := Apply(fsys, "linked", "ns", policies); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a path through a link: err = %v", err)
	}
	if _, err := Apply(fsys, "nowhere", "ns", policies); !IsNotExist(err) {
		t.Errorf("a missing path: err = %v", err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
