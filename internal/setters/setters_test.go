package setters

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/want from the current output")

// corpusPolicies are the ImagePolicies of flux-system the corpus markers name.
func corpusPolicies() []Policy {
	return []Policy{
		{Name: "podinfo", Latest: Image{Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.0.1"}},
		{Name: "redis", Latest: Image{Name: "docker.io/library/redis", Tag: "7.2", Digest: "sha256:5f6c5e1e1c3a3f0e0c7a4e1e0e3bb4a8b0b2c4d1e1f0a9b8c7d6e5f4a3b2c1d0"}},
		{Name: "podinfo-beta", Latest: Image{Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.1.0-beta.1"}, Unselected: true},
	}
}

// TestCorpus: the markers of a corpus of real-world YAML (comments, quoting styles, anchors,
// multi-document files, CRLF line endings, kustomize images, Helm values and a HelmRelease)
// are set in place, byte for byte as in testdata/corpus/want; files without a change, outside
// the path, or not YAML are left alone.
func TestCorpus(t *testing.T) {
	in := os.DirFS("testdata/corpus/in")
	out, err := Apply(in, "./apps/", "flux-system", corpusPolicies())
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Unresolved) > 0 {
		t.Fatalf("unresolved: %v", out.Unresolved)
	}
	if want := []string{"apps/other/template.yaml"}; !slices.Equal(out.Skipped, want) {
		t.Errorf("skipped %v, want %v", out.Skipped, want)
	}
	changed := slices.Sorted(func(yield func(string) bool) {
		for p := range out.Files {
			if !yield(p) {
				return
			}
		}
	})
	wantChanged := []string{"apps/Kustomization", "apps/anchors.yaml", "apps/helm/release.yaml", "apps/helm/values.yaml", "apps/multi.yaml",
		"apps/podinfo/deployment.yaml", "apps/podinfo/kustomization.yaml", "apps/podinfo/service.yaml"}
	if !slices.Equal(changed, wantChanged) {
		t.Errorf("changed files %v, want %v", changed, wantChanged)
	}
	err = fs.WalkDir(in, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		got, ok := out.Files[p]
		if !ok {
			if got, err = fs.ReadFile(in, p); err != nil {
				return err
			}
		}
		wantFile := filepath.Join("testdata/corpus/want", p)
		if *update {
			os.MkdirAll(filepath.Dir(wantFile), 0o755)
			return os.WriteFile(wantFile, got, 0o644)
		}
		want, err := os.ReadFile(wantFile)
		if err != nil {
			return err
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n--- got\n%s\n--- want\n%s", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The template data: paths relative to the update path, objects as kyaml names them.
	deploy := out.Changed.FileChanges["podinfo/deployment.yaml"]
	id := ObjectIdentifier{yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, NameMeta: yaml.NameMeta{Name: "podinfo", Namespace: "podinfo"}}}
	if got := deploy[id]; len(got) != 3 || got[0] != (Change{OldValue: "ghcr.io/stefanprodan/podinfo:6.0.0", NewValue: "ghcr.io/stefanprodan/podinfo:6.0.1", Setter: "flux-system:podinfo"}) {
		t.Errorf("changes of the Deployment: %+v", got)
	}
	if n := len(out.Changed.Changes()); n != 6 {
		t.Errorf("%d distinct changes, want 6: %+v", n, out.Changed.Changes())
	}
	if n := len(out.Changed.Objects()); n != 7 { // files without metadata share one identifier
		t.Errorf("%d changed objects, want 7: %+v", n, out.Changed.Objects())
	}
	// Applying again to the result changes nothing.
	again := fstest.MapFS{}
	fs.WalkDir(in, ".", func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			data, _ := fs.ReadFile(in, p)
			if f, ok := out.Files[p]; ok {
				data = f
			}
			again[p] = &fstest.MapFile{Data: data}
		}
		return nil
	})
	second, err := Apply(again, "apps", "flux-system", corpusPolicies())
	if err != nil || len(second.Files) != 0 {
		t.Errorf("a second pass changed %d files (%v)", len(second.Files), err)
	}
}
