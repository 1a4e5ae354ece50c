package git

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-git/go-git/v5/plumbing"
	gittransport "github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// remoteRepo serves a bare repository over git's own http-backend, with a main branch of two
// commits, a lightweight tag v1.0.0 on the first, an annotated tag v1.1.0 on the second, and a
// branch dev. It returns the URL, the two commits, and the directory that holds repo.git.
func remoteRepo(t *testing.T, auth func(*http.Request) bool) (string, [2]string, string) {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "work")
	os.MkdirAll(work, 0o755)
	testenv.Git(t, work, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(work, "app.yaml"), []byte("kind: ConfigMap\n"), 0o644)
	testenv.Git(t, work, "add", ".")
	testenv.Git(t, work, "commit", "-q", "-m", "first")
	first := testenv.Git(t, work, "rev-parse", "HEAD")
	testenv.Git(t, work, "tag", "v1.0.0")
	os.WriteFile(filepath.Join(work, "app.yaml"), []byte("kind: Secret\n"), 0o644)
	testenv.Git(t, work, "commit", "-q", "-am", "second")
	second := testenv.Git(t, work, "rev-parse", "HEAD")
	testenv.Git(t, work, "tag", "-a", "v1.1.0", "-m", "release")
	testenv.Git(t, work, "branch", "dev", first)
	testenv.Git(t, root, "clone", "-q", "--bare", work, "repo.git")
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	h := &cgi.Handler{Path: filepath.Join(strings.TrimSpace(string(backend)), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth != nil && !auth(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "TF400813: not authorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git", [2]string{first, second}, root
}

func factory(t *testing.T) *Factory {
	t.Helper()
	f, err := NewFactory(access.NewResolver(nil, nil, nil, transport.Options{}), transport.Options{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestResolveAndClone(t *testing.T) {
	u, commits, _ := remoteRepo(t, nil)
	remote, err := factory(t).Remote(t.Context(), Spec{Spec: access.Spec{Namespace: "ns"}, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := remote.Refs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		ref      Ref
		revision string
		content  string
	}{
		{"branch", Ref{Branch: "main"}, "main@sha1:" + commits[1], "kind: Secret\n"},
		{"other branch", Ref{Branch: "dev"}, "dev@sha1:" + commits[0], "kind: ConfigMap\n"},
		{"lightweight tag", Ref{Tag: "v1.0.0"}, "v1.0.0@sha1:" + commits[0], "kind: ConfigMap\n"},
		{"annotated tag", Ref{Tag: "v1.1.0"}, "v1.1.0@sha1:" + commits[1], "kind: Secret\n"},
		{"semver", Ref{SemVer: ">=1.0.0"}, "v1.1.0@sha1:" + commits[1], "kind: Secret\n"},
		{"name", Ref{Name: "refs/heads/dev"}, "refs/heads/dev@sha1:" + commits[0], "kind: ConfigMap\n"},
		{"commit", Ref{Commit: commits[0]}, "sha1:" + commits[0], "kind: ConfigMap\n"},
		{"commit on a branch", Ref{Branch: "main", Commit: commits[0]}, "main@sha1:" + commits[0], "kind: ConfigMap\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, err := Resolve(tc.ref, refs)
			if err != nil || target.Revision != tc.revision {
				t.Fatalf("Resolve = %+v, %v; want revision %s", target, err, tc.revision)
			}
			checkout, err := remote.Fetch(t.Context(), t.TempDir(), target)
			if err != nil {
				t.Fatal(err)
			}
			if err := fstest.TestFS(checkout.Tree, "app.yaml"); err != nil {
				t.Errorf("the tree is not a valid fs.FS: %v", err)
			}
			if got, _ := fs.ReadFile(checkout.Tree, "app.yaml"); string(got) != tc.content {
				t.Errorf("app.yaml = %q, want %q", got, tc.content)
			}
		})
	}
	for _, ref := range []Ref{{Branch: "nope"}, {Tag: "v9"}, {Name: "refs/heads/nope"}, {SemVer: ">=9.0.0"}} {
		if _, err := Resolve(ref, refs); err == nil {
			t.Errorf("Resolve(%+v) found something", ref)
		}
	}
	if _, err := Resolve(Ref{Commit: "abc"}, refs); err == nil || !strings.Contains(err.Error(), "40 hexadecimal digits") {
		t.Errorf("a short commit: %v", err)
	}
	// The default is master, which this remote lacks: the error names it.
	if _, err := Resolve(Ref{}, refs); !errors.Is(err, ErrRefNotFound) || !strings.Contains(err.Error(), "'master'") {
		t.Errorf("the default branch: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	u, _, _ := remoteRepo(t, func(r *http.Request) bool {
		user, pass, ok := r.BasicAuth()
		return ok && user == "git" && pass == "pat"
	})
	anonymous, err := factory(t).Remote(t.Context(), Spec{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	_, err = anonymous.Refs(t.Context())
	var refusal *RefusalError
	if !errors.As(err, &refusal) || !errors.Is(err, gittransport.ErrAuthenticationRequired) || !strings.Contains(err.Error(), "anonymous access") {
		t.Fatalf("without credentials: %v", err)
	}
	parsed, _ := url.Parse(u)
	withPAT := &Remote{url: u}
	if err := withPAT.static(Spec{SecretRef: "pat"}, map[string][]byte{"password": []byte("pat")}, parsed); err != nil {
		t.Fatal(err)
	}
	if _, err := withPAT.Refs(t.Context()); err != nil {
		t.Fatalf("with a PAT and no user name: %v", err)
	}
	for name, data := range map[string]map[string][]byte{
		"bearer over http":    {"bearerToken": []byte("t")},
		"bearer beside basic": {"bearerToken": []byte("t"), "password": []byte("p")},
	} {
		if err := (&Remote{}).static(Spec{SecretRef: "s"}, data, parsed); err == nil || strings.Contains(err.Error(), "t\"") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := factory(t).Remote(t.Context(), Spec{URL: "ssh://git@example.com/repo"}); err == nil || !strings.Contains(err.Error(), "'identity' and 'known_hosts'") {
		t.Errorf("an ssh URL without a secret: %v", err)
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("main", "", "", "", "")
	f.Add("", "v1", ">=1", "refs/tags/v1", "0123456789012345678901234567890123456789")
	refs := []*plumbing.Reference{
		plumbing.NewHashReference("refs/heads/main", plumbing.NewHash("1111111111111111111111111111111111111111")),
		plumbing.NewHashReference("refs/tags/v1", plumbing.NewHash("2222222222222222222222222222222222222222")),
	}
	f.Fuzz(func(t *testing.T, branch, tag, semver, name, commit string) {
		target, err := Resolve(Ref{Branch: branch, Tag: tag, SemVer: semver, Name: name, Commit: commit}, refs)
		if err == nil && (target.Hash.IsZero() || target.Revision == "") {
			t.Fatalf("a target without a commit: %+v", target)
		}
	})
}
