package gitrepository

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/git"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// BenchmarkFirstClone is PERFORMANCE.md's GitRepository case: the first fetch of a repository
// of 5,000 files over git's own http-backend (in this process, loopback HTTP), by the
// reconciler's own steps (list the refs, resolve, clone depth 1, archive and commit the artifact)
// beside `git clone --depth 1` of the same URL in the same run. hack/bench/git/git.sh prints
// the ratio (goal: Azimuth <= 1.2x git's time).
func BenchmarkFirstClone(b *testing.B) {
	url := benchRepository(b, 5000)
	b.Run("git-clone-depth1", func(b *testing.B) {
		for b.Loop() {
			dir := filepath.Join(b.TempDir(), "clone")
			out, err := exec.Command("git", "clone", "-q", "--depth", "1", url, dir).CombinedOutput()
			if err != nil {
				b.Fatalf("git clone: %v\n%s", err, out)
			}
		}
	})
	b.Run("azimuth", func(b *testing.B) {
		storage, err := artifact.NewStorage(b.TempDir(), "http://bench")
		if err != nil {
			b.Fatal(err)
		}
		remotes, err := git.NewFactory(access.NewResolver(nil, nil, nil, transport.Options{}), transport.Options{}, storage.Root)
		if err != nil {
			b.Fatal(err)
		}
		r := &Reconciler{Storage: storage, Git: remotes}
		obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "fleet"},
			Spec: sourcev1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Minute}, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}}
		for b.Loop() {
			remote, err := r.Git.Remote(b.Context(), gitSpec(obj))
			if err != nil {
				b.Fatal(err)
			}
			refs, err := remote.Refs(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			target, err := git.Resolve(gitRef(obj.Spec.Reference), refs)
			if err != nil {
				b.Fatal(err)
			}
			if a, err := r.store(b.Context(), obj, remote, target, nil); err != nil || *a.Size == 0 {
				b.Fatalf("artifact %+v, %v", a, err)
			}
		}
	})
}

// benchRepository serves a repository of n YAML files of about 1 KiB on main.
func benchRepository(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	work := filepath.Join(root, "work")
	for i := range n {
		dir := filepath.Join(work, "apps", fmt.Sprintf("team-%02d", i%50))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%d\ndata:\n  value: %q\n", i, strings.Repeat(fmt.Sprint(i), 120))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("app-%04d.yaml", i)), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	testenv.Git(b, work, "init", "-q", "-b", "main")
	testenv.Git(b, work, "add", ".")
	testenv.Git(b, work, "commit", "-q", "-m", "apps")
	testenv.Git(b, root, "clone", "-q", "--bare", work, "fleet.git")
	srv := httptest.NewServer(testenv.GitHTTPBackend(b, root))
	b.Cleanup(srv.Close)
	return srv.URL + "/fleet.git"
}
