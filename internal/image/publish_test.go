package image

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
)

// registry is the local ACR's registry of the default directory, where `make image` pushes.
const registry = "azimuthlocal.azurecr.io"

// testPush: the index pushed to the local ACR as `make image` pushes it (the credentials
// `crane auth login` stores, the proxy and CA `azimuth dev azure` prints) comes back with the
// same digest, and the binary taken out of the pulled image runs: it is static. Before the
// login, the refusal says how to log in.
func testPush(t *testing.T, idx v1.ImageIndex) {
	a := azuretest.Start(t, "", nil)
	rt := proxied(t, a)
	tag := registry + "/azimuth:test"

	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no config.json: anonymous
	_, err := Push(t.Context(), idx, tag, &PushOptions{Transport: rt})
	if err == nil || !strings.Contains(err.Error(), "crane auth login "+registry) {
		t.Errorf("anonymous push: error %v, want one saying to run crane auth login", err)
	}

	loginAsCrane(t, a)
	got, err := Push(t.Context(), idx, tag, &PushOptions{Transport: rt})
	if err != nil {
		t.Fatal(err)
	}
	if want := digest(t, idx); got.DigestStr() != want.String() || got.Context().Name() != registry+"/azimuth" {
		t.Errorf("Push returned %s, want %s/azimuth@%s", got, registry, want)
	}
	ref, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(ref, remote.WithContext(t.Context()),
		remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	if d := digest(t, pulled); d != digest(t, idx) {
		t.Errorf("pulled %s, pushed %s", d, digest(t, idx))
	}
	imgs := images(t, pulled)
	if len(imgs) != 2 || imgs["arm64"] == nil {
		t.Fatalf("pulled images %v", imgs)
	}
	runBinary(t, imgs[runtime.GOARCH])
}

// runBinary runs img's /azimuth with `version` when the host can run it.
func runBinary(t *testing.T, img v1.Image) {
	if runtime.GOOS != "linux" || img == nil {
		t.Logf("no image for %s/%s: not run", runtime.GOOS, runtime.GOARCH)
		return
	}
	bin := filepath.Join(t.TempDir(), "azimuth")
	if err := os.WriteFile(bin, imageFiles(t, img)["azimuth"].body, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
	if err != nil || string(out) != "hello-image v1\n" {
		t.Errorf("/azimuth version: %v, %q", err, out)
	}
}

// testLayout: the layout holds the index with its digest, and writing it again replaces the
// entry rather than adding one.
func testLayout(t *testing.T, idx v1.ImageIndex) {
	dir := t.TempDir()
	for range 2 {
		if err := WriteLayout(dir, idx); err != nil {
			t.Fatal(err)
		}
	}
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != digest(t, idx) {
		t.Fatalf("layout index.json %+v, want the index %s once", m.Manifests, digest(t, idx))
	}
	inner, err := root.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if d := digest(t, inner); d != digest(t, idx) {
		t.Errorf("read back %s, wrote %s", d, digest(t, idx))
	}
	runBinary(t, images(t, inner)[runtime.GOARCH])
}

// proxied is the transport `azimuth dev azure`'s exports give a Go client: its proxy, trusting
// its CA. Set explicitly, since net/http reads HTTPS_PROXY once per process.
func proxied(t *testing.T, a *azurelocal.Azure) http.RoundTripper {
	u, err := url.Parse(a.ProxyURL())
	if err != nil {
		t.Fatal(err)
	}
	rt := remote.DefaultTransport.(*http.Transport).Clone()
	rt.Proxy = http.ProxyURL(u)
	rt.TLSClientConfig = &tls.Config{RootCAs: a.CAPool()}
	return rt
}

// loginAsCrane writes the Docker config `crane auth login` writes for the default directory's
// flux-secret-app, which holds AcrPush on the registry, and points DOCKER_CONFIG at it.
func loginAsCrane(t *testing.T, a *azurelocal.Azure) {
	app, ok := a.Directory().Principal("flux-secret-app")
	if !ok || app.Application == nil || len(app.Application.ClientSecrets) == 0 {
		t.Fatal("the default directory has no flux-secret-app with a secret")
	}
	auth := base64.StdEncoding.EncodeToString([]byte(app.ClientID + ":" + app.Application.ClientSecrets[0].Value))
	cfg, err := json.Marshal(map[string]any{"auths": map[string]any{registry: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}
