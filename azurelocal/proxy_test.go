package azurelocal_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Applications of the crane test's directory; each has the client secret craneSecret.
const (
	craneSecret = "crane-test-secret"
	cranePusher = "6b8e3f0a-2c4d-4e5f-9a1b-7c8d9e0f1a2b"
	cranePuller = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
	craneNobody = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	craneHost   = "cranereg.azurecr.io"
)

const craneDirectory = `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `}]
applications:
  - {name: pusher, clientId: ` + cranePusher + `, principalId: 2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d, clientSecrets: [{value: ` + craneSecret + `}]}
  - {name: puller, clientId: ` + cranePuller + `, principalId: 3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e, clientSecrets: [{value: ` + craneSecret + `}]}
  - {name: nobody, clientId: ` + craneNobody + `, principalId: 4c5d6e7f-8a9b-4c0d-9e2f-3a4b5c6d7e8f, clientSecrets: [{value: ` + craneSecret + `}]}
resources:
  registries: [{name: cranereg, subscription: ` + subID + `, resourceGroup: rg}]
roleAssignments:
  - {principal: pusher, role: AcrPush, scope: /subscriptions/` + subID + `/resourceGroups/rg}
  - {principal: puller, role: AcrPull, scope: /subscriptions/` + subID + `/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/cranereg}
`

// TestProxyReachesEntra: a plain net/http client whose only settings are the proxy's URL and the
// local CA reaches Entra ID's OpenID discovery on its real host name; a host outside the map is
// refused rather than reached.
func TestProxyReachesEntra(t *testing.T) {
	a := azuretest.Start(t, "", nil)
	proxyURL, err := url.Parse(a.ProxyURL())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(envValue(t, a, "SSL_CERT_FILE"))
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		t.Fatalf("SSL_CERT_FILE: %v", err)
	}
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	tenant, _ := defaultSecretApp(t)
	resp, err := client.Get("https://login.microsoftonline.com/" + tenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	if doc.TokenEndpoint != "https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token" || !strings.Contains(doc.Issuer, tenant) {
		t.Errorf("discovery document %+v", doc)
	}
	if _, err := client.Get("https://example.com/"); err == nil || !strings.Contains(err.Error(), "not a host of the local Azure") {
		t.Errorf("example.com through the proxy: err = %v, want a refusal", err)
	}
}

// TestCraneThroughProxy is issue 10's item 8 as a user meets it: crane, run with only
// HTTPS_PROXY and SSL_CERT_FILE from ProxyEnv (and a HOME for its login), logs in to the local
// ACR with a service principal's client ID and secret, pushes, lists and pulls; a principal
// without a role and a wrong secret are refused as ACR refuses them.
func TestCraneThroughProxy(t *testing.T) {
	crane := craneBinary(t)
	dir, err := directory.Parse([]byte(craneDirectory))
	if err != nil {
		t.Fatal(err)
	}
	a := azuretest.Start(t, "", &azurelocal.Options{Directory: dir})
	home := t.TempDir()
	run := func(t *testing.T, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, crane, args...)
		cmd.Env = []string{"HOME=" + home, "HTTPS_PROXY=" + envValue(t, a, "HTTPS_PROXY"), "SSL_CERT_FILE=" + envValue(t, a, "SSL_CERT_FILE")}
		cmd.Dir = home
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	mustRun := func(t *testing.T, args ...string) string {
		t.Helper()
		out, err := run(t, args...)
		if err != nil {
			t.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	layer := filepath.Join(home, "layer.tar")
	writeTar(t, layer, "hello.txt", "hello from the local ACR\n")

	mustRun(t, "auth", "login", craneHost, "-u", cranePusher, "-p", craneSecret)
	mustRun(t, "append", "-f", layer, "-t", craneHost+"/samples/hello:v1")

	mustRun(t, "auth", "login", craneHost, "-u", cranePuller, "-p", craneSecret)
	if out := mustRun(t, "ls", craneHost+"/samples/hello"); strings.TrimSpace(out) != "v1" {
		t.Errorf("crane ls: %q, want v1", out)
	}
	mustRun(t, "pull", craneHost+"/samples/hello:v1", "hello.tar")
	if fi, err := os.Stat(filepath.Join(home, "hello.tar")); err != nil || fi.Size() == 0 {
		t.Errorf("crane pull wrote nothing: %v", err)
	}
	if out, err := run(t, "append", "-f", layer, "-t", craneHost+"/samples/hello:v2"); err == nil || !strings.Contains(out, "UNAUTHORIZED") {
		t.Errorf("push as AcrPull: err %v, output %s; want UNAUTHORIZED", err, out)
	}

	mustRun(t, "auth", "login", craneHost, "-u", craneNobody, "-p", craneSecret)
	out, err := run(t, "ls", craneHost+"/samples/hello")
	t.Logf("crane ls without a role: %s", out)
	if err == nil || !strings.Contains(out, "UNAUTHORIZED: authentication required") {
		t.Errorf("ls without a role: err %v, output %s; want ACR's UNAUTHORIZED", err, out)
	}

	mustRun(t, "auth", "login", craneHost, "-u", cranePuller, "-p", "wrong-secret")
	out, err = run(t, "ls", craneHost+"/samples/hello")
	t.Logf("crane ls with a wrong secret: %s", out)
	if err == nil || !strings.Contains(out, "UNAUTHORIZED: Invalid clientid or client secret.") {
		t.Errorf("ls with a wrong secret: err %v, output %s; want UNAUTHORIZED: Invalid clientid or client secret.", err, out)
	}
}

// envValue returns NAME's value in the Azure's ProxyEnv.
func envValue(t *testing.T, a *azurelocal.Azure, name string) string {
	t.Helper()
	for _, kv := range a.ProxyEnv() {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	t.Fatalf("ProxyEnv has no %s: %v", name, a.ProxyEnv())
	return ""
}

// craneBinary is bin/crane, built by make tools; without it, the test builds crane from the
// pinned tools module.
func craneBinary(t *testing.T) string {
	t.Helper()
	binDir := os.Getenv("AZIMUTH_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join("..", "bin")
	}
	if p, err := filepath.Abs(filepath.Join(binDir, "crane")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	out := filepath.Join(t.TempDir(), "crane")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, "github.com/google/go-containerregistry/cmd/crane")
	cmd.Dir = filepath.Join("..", "hack", "tools", "gen")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("no bin/crane (make tools builds it), and building it failed: %v\n%s", err, b)
	}
	return out
}

func writeTar(t *testing.T, path, name, content string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCurlThroughProxy: curl, with nothing but the ProxyEnv variables, reaches Entra ID's OpenID
// discovery (curl reads its CA from CURL_CA_BUNDLE, not SSL_CERT_FILE), and gets the proxy's 403
// for a host outside the map.
func TestCurlThroughProxy(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl on PATH")
	}
	a := azuretest.Start(t, "", nil)
	tenant, _ := defaultSecretApp(t)
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), curl, append([]string{"-sS", "--max-time", "30"}, args...)...)
		cmd.Env = append([]string{"HOME=" + t.TempDir()}, a.ProxyEnv()...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("-f", "https://login.microsoftonline.com/"+tenant+"/v2.0/.well-known/openid-configuration")
	if err != nil || !strings.Contains(out, `"token_endpoint":"https://login.microsoftonline.com/`+tenant+`/oauth2/v2.0/token"`) {
		t.Fatalf("curl through the proxy: %v\n%s", err, out)
	}
	out, err = run("-v", "https://example.com/")
	if err == nil || !strings.Contains(out, "403 Forbidden: example.com:443 is not a host of the local Azure") {
		t.Errorf("curl to example.com: %v\n%s", err, out)
	}
}
