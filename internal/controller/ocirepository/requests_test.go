package ocirepository

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// TestPullMakesNoNeedlessRequest: a first reconcile asks the registry once for its API (the
// ping), once for the tag's manifest and once for the layer, as crane does; a later one that
// finds its artifact stored makes a HEAD alone, in the session the first one started; and once
// the tag moves, a HEAD finds the new digest, then the manifest by digest and the layer.
func TestPullMakesNoNeedlessRequest(t *testing.T) {
	var mu sync.Mutex
	var requests []string
	handler := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path)
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(tarGzOf(t, "app.yaml", "kind: ConfigMap\n"), types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/app:1.0.0", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	storage, err := artifact.NewStorage(t.TempDir(), "http://test")
	if err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Storage: storage, Access: oci.NewFactory(access.NewResolver(nil, nil, nil, transport.Options{}))}
	obj := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"},
		Spec: sourcev1.OCIRepositorySpec{URL: "oci://" + host + "/app", Insecure: true,
			Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"}, Interval: metav1.Duration{Duration: time.Minute}},
	}

	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := requests
		requests = nil
		return out
	}
	take()
	p, err := r.plan(t.Context(), obj)
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.pull(t.Context(), obj, p, artifactDir(obj))
	if err != nil {
		t.Fatal(err)
	}
	got := take()
	wantRequests(t, "the first pull", got, "GET /v2/", "GET /v2/app/manifests/1.0.0", "GET /v2/app/blobs/")

	obj.Status.Artifact = a
	p, err = r.plan(t.Context(), obj)
	if err != nil || !r.upToDate(obj, p) {
		t.Fatalf("the stored artifact is not up to date: %v", err)
	}
	wantRequests(t, "an unchanged reconcile", take(), "HEAD /v2/app/manifests/1.0.0")

	moved, err := mutate.AppendLayers(img, static.NewLayer(tarGzOf(t, "app.yaml", "kind: Secret\n"), types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, moved); err != nil {
		t.Fatal(err)
	}
	take()
	if p, err = r.plan(t.Context(), obj); err != nil || r.upToDate(obj, p) {
		t.Fatalf("a moved tag: %v, up to date %v", err, err == nil && r.upToDate(obj, p))
	}
	if _, err := r.pull(t.Context(), obj, p, artifactDir(obj)); err != nil {
		t.Fatal(err)
	}
	wantRequests(t, "a pull of a moved tag", take(), "HEAD /v2/app/manifests/1.0.0", "GET /v2/app/manifests/"+p.digest.String(), "GET /v2/app/blobs/")
}

// wantRequests fails unless got are the requests want, each want a prefix of its request.
func wantRequests(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("%s made these requests:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// tarGzOf is a gzipped tarball of one file.
func tarGzOf(t *testing.T, name, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, content)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
