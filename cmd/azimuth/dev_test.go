package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// startupBound is how long `azimuth dev azure` may take to serve (issue 3: "serving within 5
// seconds"). It bounds a wait; no test measures time.
const startupBound = 5 * time.Second

// startDevAzure runs `azimuth dev azure` with args in process until ctx ends, and returns its
// output once it serves.
func startDevAzure(t *testing.T, ctx context.Context, args ...string) (string, *background) {
	t.Helper()
	bg := &background{out: &syncBuffer{}, done: make(chan struct{})}
	go func() {
		defer close(bg.done)
		cmd := newRootCmd()
		cmd.SetOut(bg.out)
		cmd.SetErr(bg.out)
		cmd.SetArgs(append([]string{"dev", "azure"}, args...))
		bg.err = cmd.ExecuteContext(ctx)
	}()
	t.Cleanup(func() { <-bg.done })
	return bg.out.waitFor(t, "Press Ctrl-C to stop.", startupBound, bg.done), bg
}

// plainClient is a net/http client that knows only the two files `azimuth dev azure` writes:
// it trusts STATE/ca.pem and dials as STATE/connect-to says.
func plainClient(t *testing.T, state string) *http.Client {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(state, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	connectTo, err := os.ReadFile(filepath.Join(state, "connect-to"))
	if err != nil {
		t.Fatal(err)
	}
	redirect := map[string]string{}
	for _, line := range strings.Split(string(connectTo), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) == 4 && !strings.HasPrefix(f[0], "#") {
			redirect[f[0]+":"+f[1]] = f[2] + ":" + f[3]
		}
	}
	var dialer net.Dialer
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := redirect[addr]; ok {
				addr = to
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// defaultSecretApp is the default directory's application with a client secret.
func defaultSecretApp(t *testing.T) directory.Application {
	t.Helper()
	for _, app := range directory.Default().Spec().Applications {
		if len(app.ClientSecrets) > 0 {
			return app
		}
	}
	t.Fatal("the default directory has no application with a client secret")
	return directory.Application{}
}

// tokenResponse is the part of Entra ID's answer the tests read.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
}

func (r tokenResponse) check(t *testing.T, clientID string) {
	t.Helper()
	if r.TokenType != "Bearer" || r.AccessToken == "" {
		t.Fatalf("token response %+v", r)
	}
	claims, err := decodeClaims(r.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims["appid"] != clientID || claims["aud"] != "https://management.azure.com" {
		t.Errorf("claims %v, want appid %s for https://management.azure.com", claims, clientID)
	}
}

// TestDevAzure is issue 3's "done when": `azimuth dev azure` serves, and a client holding only
// the written ca.pem and connect-to, or the printed curl command, gets a token for the default
// directory's client-secret application.
func TestDevAzure(t *testing.T) {
	state := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	usage, done := startDevAzure(t, ctx, "--state-dir", state)
	app := defaultSecretApp(t)

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecrets[0].Value}, "scope": {"https://management.azure.com/.default"}}
	resp, err := plainClient(t, state).PostForm("https://login.microsoftonline.com/"+app.Tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var body tokenResponse
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s, %v", resp.Status, err)
	}
	body.check(t, app.ClientID)

	t.Run("the printed curl command", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl is not installed")
		}
		line := curlCommand(t, usage)
		out, err := exec.CommandContext(t.Context(), "sh", "-c", line).Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		var body tokenResponse
		if err := json.Unmarshal(out, &body); err != nil {
			t.Fatalf("curl printed %q: %v", out, err)
		}
		body.check(t, app.ClientID)
	})

	cancel()
	if err := done.wait(t, 30*time.Second); err != nil {
		t.Fatalf("stopping: %v", err)
	}
	if !strings.Contains(done.out.String(), "The local Azure stopped.") {
		t.Errorf("no word of stopping:\n%s", done.out)
	}
	gateway := strings.Split(strings.Split(usage, "gateway (HTTPS)")[1], " ")
	for _, field := range gateway {
		if _, _, err := net.SplitHostPort(field); err == nil {
			if conn, err := net.Dial("tcp", field); err == nil {
				conn.Close()
				t.Errorf("the gateway %s still accepts connections after the command stopped", field)
			}
			break
		}
	}
}

// curlCommand returns the curl command the usage text prints, continuation lines joined.
func curlCommand(t *testing.T, usage string) string {
	t.Helper()
	var parts []string
	for _, line := range strings.Split(usage, "\n") {
		line = strings.TrimSpace(line)
		if len(parts) == 0 && !strings.HasPrefix(line, "curl ") {
			continue
		}
		parts = append(parts, strings.TrimSuffix(line, `\`))
		if !strings.HasSuffix(line, `\`) {
			break
		}
	}
	if len(parts) == 0 {
		t.Fatalf("no curl command in:\n%s", usage)
	}
	return strings.Join(parts, " ")
}

func TestDevAzurePrintDirectory(t *testing.T) {
	out, _, err := run(t.Context(), "dev", "azure", "--print-directory")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(directory.DefaultYAML()) {
		t.Errorf("--print-directory printed:\n%s", out)
	}
	if _, err := directory.Parse([]byte(out)); err != nil {
		t.Errorf("the printed directory does not load: %v", err)
	}
	if _, _, err := run(t.Context(), "dev", "azure", "--print-directory", "--directory", "x.yaml"); err == nil {
		t.Error("--print-directory with --directory: want an error")
	}
}

func TestDevAzureDirectoryFile(t *testing.T) {
	dir := t.TempDir()
	custom := strings.ReplaceAll(string(directory.DefaultYAML()), "flux-secret-app", "my-secret-app")
	if err := os.WriteFile(filepath.Join(dir, "directory.yaml"), []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	usage, done := startDevAzure(t, ctx, "--state-dir", filepath.Join(dir, "state"), "--directory", filepath.Join(dir, "directory.yaml"))
	cancel()
	if err := done.wait(t, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(usage, "application 'my-secret-app'") {
		t.Errorf("the usage does not come from the directory file:\n%s", usage)
	}

	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("tenants: [{id: not-a-guid}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t.Context(), "dev", "azure", "--state-dir", filepath.Join(dir, "state"), "--directory", filepath.Join(dir, "bad.yaml"))
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "not-a-guid") {
		t.Errorf("err = %v, want one that names the file and the problem", err)
	}
}

// TestDevAzureStopsOnSignal runs the built binary, as a user does, and interrupts it.
func TestDevAzureStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the azimuth binary")
	}
	bin := filepath.Join(t.TempDir(), "azimuth")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "dev", "azure", "--state-dir", t.TempDir())
			bg := &background{out: &syncBuffer{}, done: make(chan struct{})}
			cmd.Stdout, cmd.Stderr = bg.out, bg.out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { bg.err = cmd.Wait(); close(bg.done) }()
			t.Cleanup(func() {
				select {
				case <-bg.done:
				default:
					cmd.Process.Kill()
					<-bg.done
				}
			})
			bg.out.waitFor(t, "Press Ctrl-C to stop.", startupBound, bg.done)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := bg.wait(t, 30*time.Second); err != nil {
				t.Fatalf("exit: %v\n%s", err, bg.out)
			}
			if !strings.Contains(bg.out.String(), "The local Azure stopped.") {
				t.Errorf("no word of stopping:\n%s", bg.out)
			}
		})
	}
}
