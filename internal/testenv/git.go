package testenv

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GitCommand is the real git, run in dir as a fixed author, with no system or user
// configuration: what tests and samples commit is the same on every machine.
func GitCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=azimuth", "GIT_AUTHOR_EMAIL=azimuth@example.com",
		"GIT_COMMITTER_NAME=azimuth", "GIT_COMMITTER_EMAIL=azimuth@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+dir)
	return cmd
}

// Git runs GitCommand and returns its output, trimmed; it fails t when git fails.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := GitCommand(t.Context(), dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// GitHTTPBackend is git's own smart HTTP server (git-http-backend, as CGI) for the bare
// repositories under root, every one exported.
func GitHTTPBackend(t testing.TB, root string) http.Handler {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	return &cgi.Handler{Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
}

// BareRepo commits files (path → content) on branch main in a work tree root/NAME-work, clones
// it bare to root/NAME.git, and returns the work tree, to commit more from.
func BareRepo(t testing.TB, root, name string, files map[string]string) string {
	t.Helper()
	work := filepath.Join(root, name+"-work")
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(work, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Git(t, root, "init", "-q", "-b", "main", work)
	Git(t, work, "add", ".")
	Git(t, work, "commit", "-q", "-m", "initial")
	Git(t, root, "clone", "-q", "--bare", work, name+".git")
	return work
}

// ServeGit serves a repository of files on branch main with git's http-backend until t ends,
// and returns its URL.
func ServeGit(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	BareRepo(t, root, "repo", files)
	srv := httptest.NewServer(GitHTTPBackend(t, root))
	t.Cleanup(srv.Close)
	return srv.URL + "/repo.git"
}
