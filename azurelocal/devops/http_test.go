package devops_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/devops"
)

// cloneAndPush clones with the environment and git options given, checks the seeded content,
// commits and pushes a new branch, and checks that the repository has it.
func cloneAndPush(t *testing.T, url string, env, opts []string, branch string) {
	t.Helper()
	branch = unique(branch)
	dir := filepath.Join(t.TempDir(), "clone")
	mustGit(t, env, append(append([]string{}, opts...), "clone", "--quiet", url, dir)...)
	if data, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || string(data) != "hello\n" {
		t.Fatalf("README.md = %q, %v", data, err)
	}
	if head := strings.TrimSpace(mustGit(t, nil, "-C", dir, "rev-parse", "HEAD")); head != local.seeded {
		t.Fatalf("HEAD = %s, want the seeded %s", head, local.seeded)
	}
	if err := os.WriteFile(filepath.Join(dir, branch+".txt"), []byte(branch+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(t, nil, "-C", dir, "add", ".")
	mustGit(t, nil, "-C", dir, "commit", "--quiet", "-m", branch)
	mustGit(t, env, append(append([]string{"-C", dir}, opts...), "push", "--quiet", "origin", "HEAD:refs/heads/"+branch)...)
	want := strings.TrimSpace(mustGit(t, nil, "-C", dir, "rev-parse", "HEAD"))
	bare, err := local.azure.DevOps().RepoPath(org, project, repo)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(mustGit(t, nil, "--git-dir", bare, "rev-parse", "refs/heads/"+branch)); got != want {
		t.Errorf("the repository has %s at %s, want %s", branch, got, want)
	}
}

// TestGitWithEntraToken: the git CLI clones and pushes with a Contributor's Entra token in a
// Bearer header, through the proxy; the requests are recorded as the principal's.
func TestGitWithEntraToken(t *testing.T) {
	mark := local.log.Len()
	cloneAndPush(t, repoURL, nil, bearer(devopsToken(t, contributor)), "bearer")
	recs := local.log.Since(mark, nil)
	var pushes int
	for _, r := range recs {
		if r.Principal != contributor.objectID || r.Auth != "bearer" || r.Status != http.StatusOK || r.Project != project {
			t.Errorf("record %+v", r)
		}
		if r.Request == devops.ReceivePack {
			pushes++
		}
	}
	if pushes != 1 {
		t.Errorf("%d receive-pack requests in %+v", pushes, recs)
	}
}

// TestGitWithPAT: a PAT as the password, with the organization as the user name
// (https://contoso@dev.azure.com/... as Azure DevOps prints clone URLs); also an Entra token as
// the password, as azure-devops-go-api sends it.
func TestGitWithPAT(t *testing.T) {
	cloneAndPush(t, withCredentials(repoURL, org, alicePAT), nil, nil, "pat")
	cloneAndPush(t, withCredentials(repoURL, "anything", devopsToken(t, contributor)), nil, nil, "token-as-password")
	// The repository named like its project, and names in another case, are the same.
	if r := do(t, "GET", "https://dev.azure.com/CONTOSO/my%20project/_git/INFRA/info/refs?service=git-upload-pack", basic("", alicePAT), nil); r.status != http.StatusOK ||
		r.header.Get("Content-Type") != "application/x-git-upload-pack-advertisement" {
		t.Errorf("another case: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	// A PAT as the user name with no password works too.
	if r := do(t, "GET", repoURL+"/info/refs?service=git-upload-pack", basic(alicePAT, ""), nil); r.status != http.StatusOK {
		t.Errorf("PAT as user name: %d %q", r.status, r.body)
	}
}

func basic(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// TestReaderCannotPush: a Reader (and a read-only PAT of a Contributor) clones, and its push is
// refused with 403 TF401027, which git prints after "remote: ".
func TestReaderCannotPush(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		opts      []string
		identity  string
	}{
		{"reader token", repoURL, bearer(devopsToken(t, reader)), reader.name},
		{"read-only PAT", withCredentials(repoURL, org, aliceROPAT), nil, alice},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			mustGit(t, nil, append(append([]string{}, tt.opts...), "clone", "--quiet", tt.url, dir)...)
			mustGit(t, nil, "-C", dir, "commit", "--quiet", "--allow-empty", "-m", "denied")
			out, err := git(t, nil, append(append([]string{"-C", dir}, tt.opts...), "push", "origin", "HEAD:refs/heads/denied")...)
			if err == nil {
				t.Fatalf("the push succeeded:\n%s", out)
			}
			msg := "TF401027: You need the Git 'GenericContribute' permission to perform this action. Details: identity '" + tt.identity + "', scope 'repository'."
			mustContain(t, out, "remote: "+msg, "The requested URL returned error: 403")
		})
	}
	r := do(t, "GET", repoURL+"/info/refs?service=git-receive-pack", bearerHeader(devopsToken(t, reader)), nil)
	msg := "TF401027: You need the Git 'GenericContribute' permission to perform this action. Details: identity 'reader-app', scope 'repository'."
	if want := "001f# service=git-receive-pack\n0000" + "0000" + pktLine(msg+"\n") + msg + "\n"; r.status != http.StatusForbidden || r.body != want {
		t.Errorf("receive-pack advertisement for a reader: %d %q, want 403 %q", r.status, r.body, want)
	}
}

// TestRefusals: each credential Azure DevOps refuses, as git shows it and on the wire. git sends
// credentials from the URL after the first 401, so the refusal of those is what it prints.
func TestRefusals(t *testing.T) {
	notAuthorized := func(user string) string {
		return "TF400813: The user '" + user + "' is not authorized to access this resource."
	}
	strangerToken, outsiderToken, orgOnlyToken := devopsToken(t, stranger), devopsToken(t, outsider), devopsToken(t, orgOnly)
	armToken := entraToken(t, contributor, "https://management.azure.com/.default")
	notFound := func(repo string) string {
		return "TF401019: The Git repository with name or identifier " + repo + " does not exist or you do not have permissions for the operation you are attempting."
	}
	tests := []struct {
		name   string
		url    string // the repository
		secret string // sent as the password, with the organization as the user name
		status int
		body   string
		// serviceError is part of X-TFS-ServiceError, when set.
		serviceError string
		gitSays      []string
	}{
		{"non-member token", repoURL, strangerToken, 401, notAuthorized(stranger.objectID), "",
			[]string{"remote: " + notAuthorized(stranger.objectID), "Authentication failed"}},
		{"token of another tenant", repoURL, outsiderToken, 401, notAuthorized(outsider.objectID), "",
			[]string{"remote: " + notAuthorized(outsider.objectID)}},
		{"non-member PAT", repoURL, carolPAT, 401, notAuthorized(carol), "",
			[]string{"remote: " + notAuthorized(carol), "Authentication failed"}},
		{"expired PAT", repoURL, expiredPAT, 401, notAuthorized(""), "Access%20Denied%3A%20The%20Personal%20Access%20Token%20used%20has%20expired.",
			[]string{"remote: " + notAuthorized(""), "Authentication failed"}},
		{"PAT of another organization", repoURL, otherPAT, 401, notAuthorized(""), "", []string{"remote: " + notAuthorized("")}},
		{"unknown PAT", repoURL, "nope", 401, notAuthorized(""), "", []string{"Authentication failed"}},
		{"wrong audience", repoURL, armToken, 401, notAuthorized(""), "audience%20%27https%3A%2F%2Fmanagement.azure.com%27",
			[]string{"remote: " + notAuthorized("")}},
		{"member without a project group", repoURL, orgOnlyToken, 404, notFound("infra"), "",
			[]string{"remote: " + notFound("infra"), "not found"}},
		{"unknown repository", strings.Replace(repoURL, "infra", "nope", 1), alicePAT, 404, notFound("nope"), "", []string{"remote: " + notFound("nope")}},
		{"unknown organization", strings.Replace(repoURL, org, "nowhere", 1), alicePAT, 404, notFound("infra"), "", []string{"remote: " + notFound("infra")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "GET", tt.url+"/info/refs?service=git-upload-pack", basic(org, tt.secret), nil)
			if r.status != tt.status || strings.TrimSpace(r.body) != tt.body || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Errorf("got %d %q (%s), want %d %q", r.status, r.body, r.header.Get("Content-Type"), tt.status, tt.body)
			}
			if se := r.header.Get("X-TFS-ServiceError"); !strings.Contains(se, tt.serviceError) {
				t.Errorf("X-TFS-ServiceError = %q, want it to contain %q", se, tt.serviceError)
			}
			if tt.status == 401 {
				checkChallenge(t, r.header)
			}
			if strings.HasPrefix(tt.secret, "eyJ") {
				// The same token in a Bearer header gets the same answer.
				if b := do(t, "GET", tt.url+"/info/refs?service=git-upload-pack", bearerHeader(tt.secret), nil); b.status != r.status || b.body != r.body {
					t.Errorf("as a Bearer header: %d %q", b.status, b.body)
				}
			}
			out, err := git(t, nil, "clone", withCredentials(tt.url, org, tt.secret), filepath.Join(t.TempDir(), "clone"))
			if err == nil {
				t.Fatalf("the clone succeeded:\n%s", out)
			}
			mustContain(t, out, tt.gitSays...)
		})
	}
}

// checkChallenge checks the headers of a 401 that make clients retry with credentials.
func checkChallenge(t *testing.T, h http.Header) {
	t.Helper()
	want := []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenantID, `Basic realm="https://dev.azure.com/"`, "TFS-Federated"}
	if got := h.Values("WWW-Authenticate"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	if got := h.Get("X-VSS-ResourceTenant"); got != tenantID {
		t.Errorf("X-VSS-ResourceTenant = %q", got)
	}
}

// TestBearerRefusals: a Bearer header that Azure DevOps refuses gets 401 and its challenge, so
// git, which has no other credential, stops at once (it would ask for a user name).
func TestBearerRefusals(t *testing.T) {
	for _, tt := range []struct {
		name  string
		token string
	}{
		{"non-member", devopsToken(t, stranger)},
		{"wrong audience", entraToken(t, contributor, "https://management.azure.com/.default")},
		{"malformed", "not-a-token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// git(), which fails the test if git hangs, runs it with no terminal to prompt on.
			out, err := git(t, nil, append(bearer(tt.token), "clone", repoURL, filepath.Join(t.TempDir(), "clone"))...)
			if err == nil {
				t.Fatalf("the clone succeeded:\n%s", out)
			}
			mustContain(t, out, "could not read Username for 'https://dev.azure.com'")
		})
	}
}

// TestExpiredToken: a token that was valid is refused once it expires.
func TestExpiredToken(t *testing.T) {
	token := devopsToken(t, contributor)
	if r := do(t, "GET", repoURL+"/info/refs?service=git-upload-pack", bearerHeader(token), nil); r.status != http.StatusOK {
		t.Fatalf("fresh token: %d %q", r.status, r.body)
	}
	local.clock.Advance(2 * time.Hour)
	defer local.clock.Advance(-2 * time.Hour)
	r := do(t, "GET", repoURL+"/info/refs?service=git-upload-pack", bearerHeader(token), nil)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("X-TFS-ServiceError"), "expired") {
		t.Errorf("expired token: %d %q %q", r.status, r.body, r.header.Get("X-TFS-ServiceError"))
	}
	checkChallenge(t, r.header)
}

// TestAnonymous: no credentials, or a scheme Azure DevOps does not take, gets the challenge.
func TestAnonymous(t *testing.T) {
	for _, h := range []http.Header{nil, {"Authorization": {"Negotiate abc"}}} {
		r := do(t, "GET", repoURL+"/info/refs?service=git-upload-pack", h, nil)
		if want := "TF400813: Resource not available for anonymous access. Client authentication required.\n"; r.status != http.StatusUnauthorized || r.body != want {
			t.Errorf("%v: %d %q", h, r.status, r.body)
		}
		checkChallenge(t, r.header)
	}
}

// TestOnlySmartHTTP: only info/refs with a service and the two service endpoints are served.
func TestOnlySmartHTTP(t *testing.T) {
	auth := basic(org, alicePAT)
	for _, tt := range []struct{ method, path string }{
		{"GET", "/info/refs"},
		{"GET", "/info/refs?service=git-upload-archive"},
		{"POST", "/info/refs?service=git-upload-pack"},
		{"GET", "/git-upload-pack"},
		{"GET", "/HEAD"},
		{"GET", "/objects/info/packs"},
		{"GET", ""},
	} {
		if r := do(t, tt.method, repoURL+tt.path, auth, nil); r.status != http.StatusNotFound {
			t.Errorf("%s %s: %d %q", tt.method, tt.path, r.status, r.body)
		}
	}
	for _, path := range []string{"/", "/contoso", "/contoso/My%20Project/_git", "/contoso/a%2Fb/_git/infra/info/refs?service=git-upload-pack", "/contoso/x/y/_git/infra/info/refs?service=git-upload-pack"} {
		if r := do(t, "GET", "https://dev.azure.com"+path, auth, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d %q", path, r.status, r.body)
		}
	}
}

// TestMultiAck: an upload-pack request whose want lacks multi_ack is refused with 400 TF401041;
// git's own requests carry multi_ack_detailed and pass.
func TestMultiAck(t *testing.T) {
	auth := basic(org, alicePAT)
	auth.Set("Content-Type", "application/x-git-upload-pack-request")
	want := "want " + local.seeded + " side-band-64k ofs-delta agent=test\n"
	body := []byte(pktLine(want) + "0000" + pktLine("done\n"))
	r := do(t, "POST", repoURL+"/git-upload-pack", auth, body)
	if r.status != http.StatusBadRequest || r.body != "TF401041: The Git protocol sent is not as expected (Clients must support multi-ack.).\n" {
		t.Errorf("without multi_ack: %d %q", r.status, r.body)
	}
	body = []byte(pktLine("want "+local.seeded+" multi_ack side-band-64k ofs-delta agent=test\n") + "0000" + pktLine("done\n"))
	if r := do(t, "POST", repoURL+"/git-upload-pack", auth, body); r.status != http.StatusOK || !strings.Contains(r.body, "PACK") {
		t.Errorf("with multi_ack: %d %.200q", r.status, r.body)
	}
}

func pktLine(s string) string {
	const hex = "0123456789abcdef"
	n := len(s) + 4
	return string([]byte{hex[n>>12&15], hex[n>>8&15], hex[n>>4&15], hex[n&15]}) + s
}

// TestProtocolV2Ignored: asked for protocol v2, the emulator answers in v0, as Azure Repos does.
func TestProtocolV2Ignored(t *testing.T) {
	h := basic(org, alicePAT)
	h.Set("Git-Protocol", "version=2")
	r := do(t, "GET", repoURL+"/info/refs?service=git-upload-pack", h, nil)
	if r.status != http.StatusOK || strings.Contains(r.body, "version 2") || !strings.Contains(r.body, "multi_ack_detailed") {
		t.Errorf("%d %q", r.status, r.body)
	}
}

// TestCreate: a repository added at run time is served, empty, and takes a first push.
func TestCreate(t *testing.T) {
	name := unique("created")
	path, err := local.azure.DevOps().Create(org, project, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, "HEAD")); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(repoURL, "/infra", "/"+name, 1)
	dir := filepath.Join(t.TempDir(), "clone")
	out := mustGit(t, nil, append(bearer(devopsToken(t, contributor)), "clone", url, dir)...)
	mustContain(t, out, "empty repository")
	mustGit(t, nil, "-C", dir, "commit", "--quiet", "--allow-empty", "-m", "first")
	mustGit(t, nil, append(append([]string{"-C", dir}, bearer(devopsToken(t, contributor))...), "push", "--quiet", "origin", "HEAD:main")...)
	if out := mustGit(t, nil, "ls-remote", withCredentials(url, org, alicePAT)); !strings.Contains(out, "refs/heads/main") {
		t.Errorf("ls-remote: %s", out)
	}
	if _, err := local.azure.DevOps().Create(org, "nope", "x"); err == nil {
		t.Error("Create in an unknown project must fail")
	}
}
