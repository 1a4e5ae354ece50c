package devops_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/crypto/ssh"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/devops"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "1090e0d7-b4ed-4630-a0f9-72ed6994b253"
	otherTID = "e73df360-873b-421a-8bd5-63bda1408cf8"
	subID    = "5da91ac6-89e6-4405-8d91-2d4906f59f1e"
	secret   = "devops-test-secret"

	org     = "contoso"
	project = "My Project"
	repo    = "infra"
	// repoURL is how Azure DevOps prints the clone URL: the project's space escaped.
	repoURL = "https://dev.azure.com/contoso/My%20Project/_git/infra"
	sshPath = "v3/contoso/My%20Project/infra"

	alicePAT   = "alicepatreadwrite0000000000000000000000000000000000"
	aliceROPAT = "alicepatreadonly00000000000000000000000000000000000"
	expiredPAT = "alicepatexpired000000000000000000000000000000000000"
	carolPAT   = "carolpatnotamember00000000000000000000000000000000"
	otherPAT   = "alicepatotherorg00000000000000000000000000000000000"
)

// Applications of the test directory, each with the same client secret.
var (
	contributor = app{"contributor-app", "5f5e5584-ebe7-4ece-9d90-a1dd2e61d0b3", "746c78ae-22c8-44e4-87b4-28c2af5dc9b7", tenantID}
	reader      = app{"reader-app", "108ffbf4-85a6-4956-baaf-b705d55f3d59", "4c45b969-3470-4ef1-b715-42f1db7178f9", tenantID}
	stranger    = app{"stranger-app", "c96d688a-25ee-4986-8f13-ef7771f24e43", "c9e88313-ce7e-43bd-9955-fb1ea910eff5", tenantID}
	orgOnly     = app{"org-only-app", "c437ed77-ad35-4e9e-abd6-58b850196227", "ab0c335c-e42d-44f9-b94b-75d8149cdab5", tenantID}
	outsider    = app{"outsider-app", "37fddd0a-291b-49d7-9000-5d25ea598fb2", "7cd20148-46b3-4da4-9f20-7f169e29580e", otherTID}
	// admin is a Project Collection Administrator of contoso; newcomer belongs nowhere until
	// graph_test.go adds it.
	admin    = app{"admin-app", "0b7c6a4e-8f0e-4f57-9a43-2d9d1c0f6a11", "e3b1f7a2-5c4d-4e8f-9a1b-7c2d3e4f5a61", tenantID}
	newcomer = app{"newcomer-app", "9d2e4f61-3a5b-4c7d-8e9f-0a1b2c3d4e5f", "6f5e4d3c-2b1a-4098-8776-655443322110", tenantID}
)

type app struct{ name, clientID, objectID, tenant string }

const (
	alice = "alice@contoso.onmicrosoft.com" // a Contributor, with PATs and an SSH key
	bob   = "bob@contoso.onmicrosoft.com"   // a Reader, with an SSH key
	carol = "carol@contoso.onmicrosoft.com" // no member, with a PAT and an SSH key
)

func testDirectory(keys map[string]string) string {
	appEntry := func(a app) string {
		return fmt.Sprintf("  - {name: %s, tenant: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", a.name, a.tenant, a.clientID, a.objectID, secret)
	}
	return `
tenants: [{id: ` + tenantID + `}, {id: ` + otherTID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
applications:
` + appEntry(contributor) + appEntry(reader) + appEntry(stranger) + appEntry(orgOnly) + appEntry(outsider) + appEntry(admin) + appEntry(newcomer) + `
users:
  - {name: ` + alice + `, objectId: 20e4ee1e-36db-4e1a-a889-6606110abd92, tenant: ` + tenantID + `}
  - {name: ` + bob + `, objectId: 145b617a-6a58-4ec9-adaf-2eaf62639ab6, tenant: ` + tenantID + `}
  - {name: ` + carol + `, objectId: d239b478-0d59-4e77-8826-f6ba0b4e9e73, tenant: ` + tenantID + `}
resources:
  devopsOrganizations:
    - name: ` + org + `
      subscription: ` + subID + `
      resourceGroup: devops
      members: [org-only-app]
      administrators: [admin-app]
      projects:
        - name: ` + project + `
          repositories: [` + repo + `]
          readers: [reader-app, ` + bob + `]
          contributors: [contributor-app, ` + alice + `]
      personalAccessTokens:
        - {name: rw, user: ` + alice + `, token: ` + alicePAT + `, scopes: [vso.code_write], expires: "2099-01-01"}
        - {name: ro, user: ` + alice + `, token: ` + aliceROPAT + `, scopes: [vso.code], expires: "2099-01-01"}
        - {name: old, user: ` + alice + `, token: ` + expiredPAT + `, scopes: [vso.code_write], expires: "2020-01-01T00:00:00Z"}
        - {name: carol, user: ` + carol + `, token: ` + carolPAT + `, scopes: [vso.code_write], expires: "2099-01-01"}
      sshKeys:
        - {name: alice, user: ` + alice + `, publicKey: "` + keys[alice] + `"}
        - {name: bob, user: ` + bob + `, publicKey: "` + keys[bob] + `"}
        - {name: carol, user: ` + carol + `, publicKey: "` + keys[carol] + `"}
    - name: fabrikam
      subscription: ` + subID + `
      resourceGroup: devops
      members: [` + alice + `]
      personalAccessTokens:
        - {name: rw, user: ` + alice + `, token: ` + otherPAT + `, scopes: [vso.code_write], expires: "2099-01-01"}
`
}

// fixture is the local Azure that every test of the package shares. It is set once in TestMain
// and read-only afterwards, but for the clock, which tests that move it put back.
type fixture struct {
	azure  *azuretest.Azure
	client *http.Client // applies the connect-to map and trusts the local CA
	rt     *http.Transport
	rules  []transport.Rule
	clock  *azuretest.Clock
	log    *azuretest.Recorder[devops.Record]
	home   string            // HOME of git subprocesses: no user configuration
	keys   map[string]string // private key files by user; "stranger" is registered nowhere
	seeded string            // the commit on main of the seeded repository
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "devops-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	keys, pubs := map[string]string{}, map[string]string{}
	for _, u := range []string{alice, bob, carol, "stranger"} {
		if keys[u], pubs[u], err = writeKey(tmp, u); err != nil {
			return 0, err
		}
	}
	clock := &azuretest.Clock{}
	rec := &azuretest.Recorder[devops.Record]{}
	a, err := azuretest.StartAzure(testDirectory(pubs), &azurelocal.Options{Clock: clock.Now, ObserveDevOps: rec.Add})
	if err != nil {
		return 0, err
	}
	defer a.Stop()
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
	if err != nil {
		return 0, err
	}
	tr, err := transport.New(&transport.Options{ConnectTo: rules, RootCAs: a.CAPool()})
	if err != nil {
		return 0, err
	}
	defer tr.CloseIdleConnections()
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return 0, err
	}
	local = &fixture{azure: a, client: &http.Client{Transport: tr}, rt: tr, rules: rules, clock: clock, log: rec, home: home, keys: keys}
	if local.seeded, err = seed(tmp); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// writeKey makes an RSA key for user and writes it as ssh does (PEM, mode 0600). It returns the
// file and the public key in authorized_keys form.
func writeKey(dir, user string) (string, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	path := filepath.Join(dir, strings.Split(user, "@")[0]+"_rsa")
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", "", err
	}
	return path, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " " + user, nil
}

// seed puts a commit on main (README.md: "hello") and a tag v1 into the repository, on disk.
func seed(tmp string) (string, error) {
	bare, err := local.azure.DevOps().RepoPath(org, project, repo)
	if err != nil {
		return "", err
	}
	work := filepath.Join(tmp, "seed")
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main", work},
		{"-C", work, "config", "commit.gpgsign", "false"},
	} {
		if out, err := gitCmd(context.Background(), nil, args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %v: %v: %s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("hello\n"), 0o644); err != nil {
		return "", err
	}
	for _, args := range [][]string{
		{"-C", work, "add", "README.md"},
		{"-C", work, "commit", "--quiet", "-m", "first"},
		{"-C", work, "tag", "v1"},
		{"-C", work, "push", "--quiet", bare, "main", "v1"},
	} {
		if out, err := gitCmd(context.Background(), nil, args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %v: %v: %s", args, err, out)
		}
	}
	out, err := gitCmd(context.Background(), nil, "-C", work, "rev-parse", "HEAD").Output()
	return strings.TrimSpace(string(out)), err
}

// gitCmd is the real git CLI with no user or system configuration, no prompts, the local
// Azure's proxy and CA, and env on top.
func gitCmd(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + local.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	}, local.azure.ProxyEnv()...)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// git runs git for at most a minute and returns its combined output and error.
func git(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := gitCmd(ctx, env, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("git %v hung: %s", args, out)
	}
	return string(out), err
}

// mustGit runs git and fails t when it fails.
func mustGit(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, err := git(t, env, args...)
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return out
}

// entraToken gets a token for a and scope as azidentity does, with the client secret.
func entraToken(t *testing.T, a app, scope string) string {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(a.tenant, a.clientID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: local.client}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// devopsToken is a's token for Azure DevOps.
func devopsToken(t *testing.T, a app) string {
	t.Helper()
	return entraToken(t, a, devops.Resource+"/.default")
}

// bearer is the git option that sends token as a Bearer header.
func bearer(token string) []string {
	return []string{"-c", "http.extraHeader=Authorization: Bearer " + token}
}

// withCredentials puts user and password into a URL's user information.
func withCredentials(rawURL, user, password string) string {
	return strings.Replace(rawURL, "https://", "https://"+user+":"+password+"@", 1)
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request through the connect-to map and reads the answer.
func do(t *testing.T, method, url string, header http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(data)}
}

var serial atomic.Int64

// unique makes a name no earlier test of this process used, so that tests run again with -count
// find no branch or repository of their last run.
func unique(name string) string { return fmt.Sprintf("%s-%d", name, serial.Add(1)) }

// mustContain fails t for each want that out lacks.
func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
