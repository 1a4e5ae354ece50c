package main

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

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// exportedEnv reads the `export NAME=VALUE` lines of a command's output.
func exportedEnv(t *testing.T, out string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		env[name] = strings.Trim(value, `'"`)
	}
	for _, name := range []string{"HTTPS_PROXY", "SSL_CERT_FILE", "NO_PROXY"} {
		if env[name] == "" {
			t.Fatalf("the output has no 'export %s=' line:\n%s", name, out)
		}
	}
	return env
}

// TestDevAzureProxy is issue 10's item 8 for `azimuth dev azure`: it prints the lines to export,
// and a plain net/http client set up from them alone (proxy and CA) reaches Entra ID's OpenID
// discovery on its real host name, while another host is refused; crane, run with the printed
// HTTPS_PROXY and SSL_CERT_FILE only, logs in to the local ACR with the default directory's
// client-secret application and pushes and lists.
func TestDevAzureProxy(t *testing.T) {
	state := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	usage, _ := startDevAzure(t, ctx, "--state-dir", state)
	env := exportedEnv(t, usage)
	if env["SSL_CERT_FILE"] != filepath.Join(state, "ca.pem") {
		t.Errorf("SSL_CERT_FILE=%s, want the state directory's ca.pem", env["SSL_CERT_FILE"])
	}

	proxyURL, err := url.Parse(env["HTTPS_PROXY"])
	if err != nil || proxyURL.Scheme != "http" {
		t.Fatalf("HTTPS_PROXY=%s: %v", env["HTTPS_PROXY"], err)
	}
	caPEM, err := os.ReadFile(env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	app := defaultSecretApp(t)
	tenant := directory.Default().Tenants()[0].ID
	resp, err := client.Get("https://login.microsoftonline.com/" + tenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || doc.TokenEndpoint != "https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token" {
		t.Fatalf("discovery through the proxy: status %d, %+v, %v", resp.StatusCode, doc, err)
	}
	if _, err := client.Get("https://github.com/"); err == nil || !strings.Contains(err.Error(), "Forbidden: github.com:443 is not a host of the local Azure") {
		t.Errorf("github.com through the proxy: err = %v, want a refusal", err)
	}

	crane := craneForTest(t)
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), crane, args...)
		cmd.Env = []string{"HOME=" + home, "HTTPS_PROXY=" + env["HTTPS_PROXY"], "SSL_CERT_FILE=" + env["SSL_CERT_FILE"]}
		cmd.Dir = home
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: 6})
	tw.Write([]byte("hello\n"))
	tw.Close()
	if err := os.WriteFile(filepath.Join(home, "layer.tar"), layer.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	registry := "azimuthlocal.azurecr.io"
	run("auth", "login", registry, "-u", app.ClientID, "-p", app.ClientSecrets[0].Value)
	run("append", "-f", "layer.tar", "-t", registry+"/samples/hello:v1")
	if out := run("ls", registry+"/samples/hello"); !strings.Contains(out, "v1") {
		t.Errorf("crane ls: %q, want v1", out)
	}
}

// craneForTest is bin/crane, which make tools builds; without it the test builds crane from the
// pinned tools module.
func craneForTest(t *testing.T) string {
	t.Helper()
	binDir := os.Getenv("AZIMUTH_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join("..", "..", "bin")
	}
	if p, err := filepath.Abs(filepath.Join(binDir, "crane")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	out := filepath.Join(t.TempDir(), "crane")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, "github.com/google/go-containerregistry/cmd/crane")
	cmd.Dir = filepath.Join("..", "..", "hack", "tools", "gen")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("no bin/crane (make tools builds it), and building it failed: %v\n%s", err, b)
	}
	return out
}
