package acr_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// TestCrane: go-containerregistry's own CLI, a client Azimuth does not control, logs in with a
// refresh token from the exchange and pushes, lists and pulls through the local ACR. crane has
// no connect-to option, so it reaches the gateway through an HTTPS proxy (HTTPS_PROXY) that
// applies the connect-to map, and trusts the local CA through SSL_CERT_FILE.
func TestCrane(t *testing.T) {
	crane := findCrane(t)
	proxy := startConnectProxy(t, local.transport.ConnectTo)
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"HTTPS_PROXY=http://" + proxy, "HTTP_PROXY=http://" + proxy, "NO_PROXY=", "no_proxy=",
		"SSL_CERT_FILE=" + filepath.Join(local.azure.StateDir(), pki.CAFile),
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), crane, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			return out.String(), errors.New(err.Error() + ": " + errOut.String())
		}
		return out.String(), nil
	}
	login := func(p principal) {
		t.Helper()
		kc := keychain(t, secretIdentity(p), nil)
		rt, err := kc.RefreshToken(t.Context(), registry)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := run(rt.Token, "auth", "login", registry, "--username", acr.Username, "--password-stdin"); err != nil {
			t.Fatalf("crane auth login: %v", err)
		}
	}

	img, err := random.Image(1024, 3)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	tarPath := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(tarPath, mustRef(t, registry+"/crane/app:v1"), img); err != nil {
		t.Fatal(err)
	}

	login(pusher)
	if _, err := run("", "push", tarPath, registry+"/crane/app:v1"); err != nil {
		t.Fatalf("crane push: %v", err)
	}
	if _, err := run("", "tag", registry+"/crane/app:v1", "v2"); err != nil {
		t.Fatalf("crane tag: %v", err)
	}
	tags, err := run("", "ls", registry+"/crane/app")
	if err != nil || strings.Fields(tags)[0] != "v1" || strings.Fields(tags)[1] != "v2" {
		t.Fatalf("crane ls: %q, %v", tags, err)
	}
	got, err := run("", "digest", registry+"/crane/app:v2")
	if err != nil || strings.TrimSpace(got) != digest.String() {
		t.Fatalf("crane digest: %q, %v; want %s", got, err, digest)
	}
	pulled := filepath.Join(t.TempDir(), "pulled.tar")
	if _, err := run("", "pull", registry+"/crane/app@"+digest.String(), pulled); err != nil {
		t.Fatalf("crane pull: %v", err)
	}
	back, err := tarball.ImageFromPath(pulled, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := back.Digest(); d != digest {
		t.Errorf("pulled digest %s, want %s", d, digest)
	}
	catalog, err := run("", "catalog", registry)
	if err != nil || !strings.Contains(catalog, "crane/app") {
		t.Errorf("crane catalog: %q, %v", catalog, err)
	}

	// The same client with the refresh token of an identity without a role is refused, with ACR's words.
	login(nobody)
	if _, err := run("", "pull", registry+"/crane/app:v1", filepath.Join(t.TempDir(), "denied.tar")); err == nil ||
		!strings.Contains(err.Error(), "UNAUTHORIZED: authentication required, visit https://aka.ms/acr/authorization") {
		t.Errorf("crane pull without a role: %v", err)
	}
}

// findCrane returns $AZIMUTH_BIN_DIR/crane or the module's bin/crane, which `make tools` builds.
func findCrane(t *testing.T) string {
	t.Helper()
	var candidates []string
	if dir := os.Getenv("AZIMUTH_BIN_DIR"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, "crane"))
	}
	if root, err := moduleRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, "bin", "crane"))
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return c
		}
	}
	t.Fatalf("crane not found (looked at %s): run `make tools`, which builds bin/crane, or set AZIMUTH_BIN_DIR", strings.Join(candidates, ", "))
	return ""
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// startConnectProxy runs an HTTP CONNECT proxy that dials through the connect-to map, as a
// corporate proxy in front of Azure would dial the real addresses. It returns its address.
func startConnectProxy(t *testing.T, connectTo transport.ConnectTo) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { tunnel(conn, connectTo) })
		}
	})
	return l.Addr().String()
}

func tunnel(client net.Conn, connectTo transport.ConnectTo) {
	defer client.Close()
	br := bufio.NewReader(client)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	upstream, err := net.Dial("tcp", connectTo.Resolve(req.Host))
	if err != nil {
		io.WriteString(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer upstream.Close()
	io.WriteString(client, "HTTP/1.1 200 Connection Established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(upstream, br); upstream.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(client, upstream); client.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}
