package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// hello answers `version` with its line: the program the fast tests put in their images.
const hello = `package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("hello-image v1")
		return
	}
	fmt.Fprintln(os.Stderr, "usage: hello version")
	os.Exit(2)
}
`

// other differs from hello by one line, for the digest to change with the binary.
const other = `package main

import "fmt"

func main() { fmt.Println("another binary") }
`

// created is the tests' SOURCE_DATE_EPOCH.
func created() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }

// compile builds src as a static linux binary for each architecture, as hack/image builds
// azimuth, and returns the binaries.
func compile(t *testing.T, src string, archs ...string) []Binary {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module prog\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out []Binary
	for _, arch := range archs {
		bin := filepath.Join(dir, "prog-"+arch)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", bin, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOWORK=off", "GOFLAGS=-buildvcs=false")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build for %s: %v\n%s", arch, err, b)
		}
		out = append(out, Binary{Platform: v1.Platform{OS: "linux", Architecture: arch}, Path: bin})
	}
	return out
}

// file is one tar entry of an image, its header and contents.
type file struct {
	hdr  *tar.Header
	body []byte
}

// layerFiles reads a layer's entries in their order.
func layerFiles(t *testing.T, l v1.Layer) []file {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []file
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, tr); err != nil {
			t.Fatal(err)
		}
		out = append(out, file{hdr: h, body: b.Bytes()})
	}
}

// imageFiles reads every layer of img, by name.
func imageFiles(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]file{}
	for _, l := range layers {
		for _, f := range layerFiles(t, l) {
			out[f.hdr.Name] = f
		}
	}
	return out
}

// images returns idx's images by architecture, failing t on anything but an image manifest.
func images(t *testing.T, idx v1.ImageIndex) map[string]v1.Image {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]v1.Image{}
	for _, d := range m.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			t.Fatalf("manifest %s has platform %v", d.Digest, d.Platform)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Platform.Architecture] = img
	}
	return out
}

func digest(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	h, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
