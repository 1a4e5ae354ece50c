package image

import (
	"bytes"
	"debug/elf"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestImage builds images of small programs compiled once, as hack/image compiles azimuth, and
// checks them in subtests: the index and its files, reproducibility, refusals, the layout, and
// a push to the local ACR.
func TestImage(t *testing.T) {
	bins := compile(t, hello, "arm64", "amd64") // arm64 first: the index sorts them
	idx, err := Build(t.Context(), Options{Binaries: bins, Created: created(), Version: "v0.1.0", Revision: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	amd := bins[1]
	t.Run("index", func(t *testing.T) { testIndex(t, idx) })
	t.Run("reproducible", func(t *testing.T) { testReproducible(t, bins) })
	t.Run("refuses", func(t *testing.T) { testRefuses(t, amd) })
	t.Run("layout", func(t *testing.T) { testLayout(t, idx) })
	t.Run("push", func(t *testing.T) { testPush(t, idx) })
}

// testIndex: an index of two images, one per platform, each running the binary for its
// architecture as nonroot, with the files the Deployment needs and nothing root owns writable.
func testIndex(t *testing.T, idx v1.ImageIndex) {
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	imgs := images(t, idx) // fails on a manifest without a linux platform
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 || m.Manifests[0].Platform.Architecture != "amd64" || m.Manifests[1].Platform.Architecture != "arm64" {
		t.Fatalf("manifests %+v: want amd64 then arm64", m.Manifests)
	}
	base := map[v1.Hash]bool{}
	for _, img := range imgs {
		layers, err := img.Layers()
		if err != nil || len(layers) != 2 {
			t.Fatalf("layers %v, %v", layers, err)
		}
		d, _ := layers[0].Digest()
		base[d] = true
	}
	if len(base) != 1 {
		t.Errorf("base layers %v, want one shared by every platform", base)
	}
	for arch, img := range imgs {
		t.Run(arch, func(t *testing.T) {
			checkConfig(t, img, arch)
			checkFiles(t, img, machines[arch])
		})
	}
}

func checkConfig(t *testing.T, img v1.Image, arch string) {
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != arch || !cf.Created.Time.Equal(created()) {
		t.Errorf("config os %s architecture %s created %v", cf.OS, cf.Architecture, cf.Created)
	}
	if c.User != "65532:65532" || strings.Join(c.Entrypoint, " ") != "/azimuth" || strings.Join(c.Cmd, " ") != "controller" || c.WorkingDir != "/" || len(c.Env) != 0 {
		t.Errorf("config user %q entrypoint %q cmd %q workdir %q env %q", c.User, c.Entrypoint, c.Cmd, c.WorkingDir, c.Env)
	}
	want := map[string]string{
		"org.opencontainers.image.created":  "2026-11-30T12:00:00Z",
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.version":  "v0.1.0",
		"org.opencontainers.image.revision": "abc123",
	}
	for k, v := range want {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if len(cf.History) != 2 || len(cf.RootFS.DiffIDs) != 2 || cf.RootFS.Type != "layers" {
		t.Errorf("%d history entries and %d layers of type %q, want 2 and 2 of type layers", len(cf.History), len(cf.RootFS.DiffIDs), cf.RootFS.Type)
	}
	for _, h := range cf.History {
		if !h.Created.Time.Equal(created()) {
			t.Errorf("history %q created %v", h.CreatedBy, h.Created)
		}
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
}

func checkFiles(t *testing.T, img v1.Image, machine elf.Machine) {
	files := imageFiles(t, img)
	for name, f := range files {
		h := f.hdr
		if !h.ModTime.Equal(created()) {
			t.Errorf("%s: time %v", name, h.ModTime)
		}
		if h.Uid == 0 && h.Mode&0o022 != 0 {
			t.Errorf("%s: owned by root and writable by others (%o)", name, h.Mode)
		}
	}
	bin, ok := files["azimuth"]
	if !ok {
		t.Fatalf("no /azimuth among %v", keys(files))
	}
	if bin.hdr.Mode != 0o555 || bin.hdr.Uid != 0 {
		t.Errorf("/azimuth mode %o uid %d, want 0555 root", bin.hdr.Mode, bin.hdr.Uid)
	}
	ef, err := elf.NewFile(bytes.NewReader(bin.body))
	if err != nil {
		t.Fatalf("/azimuth is not ELF: %v", err)
	}
	if ef.Machine != machine {
		t.Errorf("/azimuth machine %s, want %s", ef.Machine, machine)
	}
	if !strings.Contains(string(files["etc/passwd"].body), "nonroot:x:65532:65532:") || !strings.Contains(string(files["etc/group"].body), "nonroot:x:65532:") {
		t.Errorf("passwd %q group %q", files["etc/passwd"].body, files["etc/group"].body)
	}
	for dir, mode := range map[string]int64{"tmp/": 0o1777, "data/": 0o755} {
		h := files[dir].hdr
		if h == nil || h.Typeflag != '5' || h.Mode != mode || h.Uid != NonRoot || h.Gid != NonRoot {
			t.Errorf("%s: %+v, want a directory %o owned by 65532:65532", dir, h, mode)
		}
	}
}

func keys(m map[string]file) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLayersAreSorted: each layer lists its entries by name, whatever order they were given in.
func TestLayersAreSorted(t *testing.T) {
	l, err := newLayer(baseEntries(), created())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range layerFiles(t, l) {
		names = append(names, f.hdr.Name)
	}
	if got := strings.Join(names, " "); got != "data/ etc/ etc/group etc/passwd tmp/" {
		t.Errorf("entries %s", got)
	}
}

// testReproducible: binaries compiled again from the same source, in another directory and
// given in another order, give the same index digest; another time or another binary gives
// another.
func testReproducible(t *testing.T, bins []Binary) {
	build := func(bins []Binary, at time.Time) v1.Hash {
		idx, err := Build(t.Context(), Options{Binaries: bins, Created: at, Version: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		return digest(t, idx)
	}
	first := build(bins, created())
	second := compile(t, hello, "amd64", "arm64")
	if again := build(second, created()); again != first {
		t.Errorf("two builds of the same source: %s and %s", first, again)
	}
	if later := build(second, created().Add(time.Second)); later == first {
		t.Errorf("a later SOURCE_DATE_EPOCH gives the same digest %s", later)
	}
	oneChanged := append(compile(t, other, "amd64"), second[1]) // second[1] is hello for arm64
	if changed := build(oneChanged, created()); changed == first {
		t.Errorf("another binary gives the same digest %s", changed)
	}
}

// testRefuses: what cannot run in the image is refused with what to do.
func testRefuses(t *testing.T, amd Binary) {
	tests := []struct {
		name string
		bins []Binary
		want string
	}{
		{"none", nil, "no binary"},
		{"wrong arch", []Binary{{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, Path: amd.Path}}, "GOARCH"},
		{"windows", []Binary{{Platform: v1.Platform{OS: "windows", Architecture: "amd64"}, Path: amd.Path}}, "linux only"},
		{"twice", []Binary{amd, amd}, "two binaries for linux/amd64"},
		{"not elf", []Binary{{Platform: amd.Platform, Path: "build_test.go"}}, "GOOS=linux"},
		{"missing", []Binary{{Platform: amd.Platform, Path: "nowhere"}}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(t.Context(), Options{Binaries: tc.bins})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestBuildRefusesDynamicBinary: a binary that needs a dynamic loader (the host's ls) is refused,
// since the image has none.
func TestBuildRefusesDynamicBinary(t *testing.T) {
	ls := "/bin/ls"
	f, err := elf.Open(ls)
	if err != nil || runtime.GOOS != "linux" {
		t.Skipf("no Linux ELF %s here: %v", ls, err)
	}
	f.Close()
	if _, ok := machines[runtime.GOARCH]; !ok {
		t.Skipf("architecture %s has no image", runtime.GOARCH)
	}
	_, err = Build(t.Context(), Options{Binaries: []Binary{{Platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Path: ls}}})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("error %v, want one saying to build with CGO_ENABLED=0", err)
	}
}
