package testenv

import (
	"context"
	"os"
	"os/exec"
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
