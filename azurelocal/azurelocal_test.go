package azurelocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// defaultSecretApp returns the default directory's client-secret application.
func defaultSecretApp(t *testing.T) (tenant string, app directory.Application) {
	t.Helper()
	spec := directory.Default().Spec()
	for _, a := range spec.Applications {
		if len(a.ClientSecrets) > 0 {
			return a.Tenant, a
		}
	}
	t.Fatal("the default directory has no client-secret application")
	return "", directory.Application{}
}

// TestStartServesTheDefaultDirectory is the "done when": a plain HTTP client with only the
// connect-to map and the CA gets a token for the default directory's client-secret application.
func TestStartServesTheDefaultDirectory(t *testing.T) {
	a := azuretest.Start(t, "", nil)
	tenant, app := defaultSecretApp(t)
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.ClientSecrets[0].Value}, "scope": {"https://management.azure.com/.default"},
	}
	resp, err := httpClient(t, a).PostForm("https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		ExtExpiresIn int    `json:"ext_expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, decode error %v", resp.StatusCode, err)
	}
	if body.TokenType != "Bearer" || body.ExpiresIn != 3600 || body.ExtExpiresIn != 3600 {
		t.Errorf("response %+v", body)
	}
	claims, err := a.Entra().Verifier().Verify(body.AccessToken, "https://management.azure.com")
	if err != nil {
		t.Fatal(err)
	}
	if claims.AppID != app.ClientID || claims.ObjectID != app.PrincipalID || claims.Issuer != "https://sts.windows.net/"+tenant+"/" {
		t.Errorf("claims %+v", claims)
	}
}

func TestStateFiles(t *testing.T) {
	stateDir := t.TempDir()
	a := azuretest.Start(t, "", &azurelocal.Options{StateDir: stateDir})
	ca, err := os.ReadFile(filepath.Join(stateDir, "ca.pem"))
	if err != nil || !bytes.Equal(ca, a.CAPEM()) {
		t.Fatalf("ca.pem: %v", err)
	}
	connectTo, err := os.ReadFile(filepath.Join(stateDir, azurelocal.ConnectToFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"login.microsoftonline.com:443:" + a.GatewayAddr(),
		"*.azurecr.io:443:" + a.GatewayAddr(),
		"169.254.169.254:80:" + a.IMDSAddr(),
		"ssh.dev.azure.com:22:" + a.SSHAddr(),
		"*.servicebus.windows.net:443:" + a.GatewayAddr(),
		"*.servicebus.windows.net:5671:" + a.EventHubsAddr(),
	} {
		if !strings.Contains(string(connectTo), want+"\n") {
			t.Errorf("connect-to lacks %q:\n%s", want, connectTo)
		}
	}
	for _, f := range []string{azurelocal.TLSCertFile, azurelocal.TLSKeyFile, azurelocal.CertificateAppFile} {
		if _, err := os.Stat(filepath.Join(stateDir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	usage := a.Usage()
	tenant, app := defaultSecretApp(t)
	for _, want := range []string{
		"curl --connect-to login.microsoftonline.com:443:" + a.GatewayAddr() + " --cacert " + filepath.Join(stateDir, "ca.pem"),
		"client_id=" + app.ClientID,
		"https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token",
		filepath.Join(stateDir, azurelocal.ConnectToFile),
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
	// A restart keeps the CA, so configured clients keep working.
	a.Stop()
	b := azuretest.Start(t, "", &azurelocal.Options{StateDir: stateDir})
	if !bytes.Equal(a.CAPEM(), b.CAPEM()) {
		t.Error("a restart must reuse the CA")
	}
}

func TestGatewayRoutesAndRegister(t *testing.T) {
	a := azuretest.Start(t, "", nil)
	client := httpClient(t, a)
	resp, err := client.Get("https://myacr.azurecr.io/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unregistered emulator host: %d", resp.StatusCode)
	}
	if err := a.Register("*.azurecr.io", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })); err != nil {
		t.Fatal(err)
	}
	resp, err = client.Get("https://myacr.azurecr.io/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("registered emulator host: %d", resp.StatusCode)
	}
	if err := a.Register("example.com", http.NotFoundHandler()); err == nil {
		t.Error("Register must refuse a host the certificate does not cover")
	}
}

// TestObserveAndGate shows how a test proves that two token fetches overlapped: the gate holds
// each request until both have arrived, and the observer records start and end.
func TestObserveAndGate(t *testing.T) {
	var mu sync.Mutex
	var records []entra.Record
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	a := azuretest.Start(t, "", &azurelocal.Options{
		ObserveToken: func(r entra.Record) { mu.Lock(); records = append(records, r); mu.Unlock() },
		GateToken: func(ctx context.Context, _ entra.Record) {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
		},
	})
	tenant, app := defaultSecretApp(t)
	client := httpClient(t, a)
	var wg sync.WaitGroup
	for _, scope := range []string{"https://vault.azure.net/.default", "https://storage.azure.com/.default"} {
		wg.Go(func() {
			resp, err := client.PostForm("https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", url.Values{
				"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
				"client_secret": {app.ClientSecrets[0].Value}, "scope": {scope},
			})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	<-arrived
	<-arrived
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(records) != 2 {
		t.Fatalf("got %d records", len(records))
	}
	r0, r1 := records[0], records[1]
	if !(r0.Start.Before(r1.End) && r1.Start.Before(r0.End)) {
		t.Errorf("the two fetches did not overlap: %+v %+v", r0, r1)
	}
	for _, r := range records {
		if r.ClientID != app.ClientID || r.Grant != entra.GrantClientSecret || r.Status != 200 {
			t.Errorf("record %+v", r)
		}
	}
}

// TestBlobOnlyWhenAsked: without Options.Blob no Azurite starts, and the blob hosts say how to
// turn it on; asked for with no storage account to serve, Start fails saying what to declare.
func TestBlobOnlyWhenAsked(t *testing.T) {
	a := azuretest.Start(t, "", nil)
	if a.Blob() != nil {
		t.Fatal("Blob runs without being asked for")
	}
	resp, err := httpClient(t, a).Get("https://azimuthlocal.blob.core.windows.net/?comp=list")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || resp.Header.Get("x-ms-error-code") != "NotImplemented" || !strings.Contains(string(body), "azurelocal.Options.Blob") {
		t.Errorf("blob host without Blob: %s %s", resp.Status, body)
	}
	spec := directory.Default().Spec()
	spec.Resources.StorageAccounts = nil
	dir, err := directory.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = azurelocal.Start(t.Context(), &azurelocal.Options{StateDir: t.TempDir(), Directory: dir, Blob: &azurelocal.BlobOptions{}})
	if err == nil || !strings.Contains(err.Error(), "resources.storageAccounts") {
		t.Errorf("Blob without storage accounts: %v", err)
	}
}
