package integration_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	gogit "github.com/go-git/go-git/v5"
	gitobject "github.com/go-git/go-git/v5/plumbing/object"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func gitRepositoryCases() []testCase {
	return []testCase{
		{"refs, and an unchanged head costs no clone", testGitRefs},
		{"default and spec.ignore exclusions, sparse checkout", testGitIgnore},
		{"credentials from secretRef", testGitCredentials},
		{"commit and tag signatures verified", testGitVerify},
		{"include another GitRepository's artifact", testGitInclude},
		{"submodules", testGitSubmodules},
		{"an unknown branch is retried; a non-ADO url with provider azure stalls", testGitFailures},
	}
}

// gitServer serves bare repositories with git's own http-backend, counting the requests that
// transfer objects (POST git-upload-pack), and optionally requiring basic auth.
type gitServer struct {
	root    string
	url     string
	fetches atomic.Int64
}

func startGitServer(t *testing.T, user, password string) *gitServer {
	t.Helper()
	s := &gitServer{root: t.TempDir()}
	backend := testenv.GitHTTPBackend(t, s.root)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user != "" {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			s.fetches.Add(1)
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// repo creates a repository with files on main, and returns its URL and a work tree to commit
// more from.
func (s *gitServer) repo(t *testing.T, name string, files map[string]string) (string, string) {
	t.Helper()
	work := filepath.Join(s.root, name+"-work")
	os.MkdirAll(work, 0o755)
	testenv.Git(t, work, "init", "-q", "-b", "main")
	s.commit(t, work, files)
	testenv.Git(t, s.root, "clone", "-q", "--bare", work, name+".git")
	testenv.Git(t, work, "remote", "add", "origin", filepath.Join(s.root, name+".git"))
	return s.url + "/" + name + ".git", work
}

// commit commits files in work, pushes main and the tags to the bare repository when it has one,
// and returns the commit.
func (s *gitServer) commit(t *testing.T, work string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755)
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Git(t, work, "add", ".")
	testenv.Git(t, work, "commit", "-q", "-m", "change")
	if strings.Contains(testenv.Git(t, work, "remote"), "origin") {
		testenv.Git(t, work, "push", "-q", "origin", "main", "--tags")
	}
	return testenv.Git(t, work, "rev-parse", "HEAD")
}

func gitRepository(ns, name, url string, ref *sourcev1.GitRepositoryRef) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.GitRepositorySpec{URL: url, Reference: ref, Interval: metav1.Duration{Duration: time.Hour}}}
}

func expectGitArtifact(t *testing.T, obj *sourcev1.GitRepository, revision string, files map[string]string) {
	t.Helper()
	a := obj.Status.Artifact
	if a == nil || a.Revision != revision {
		t.Fatalf("artifact = %+v, want revision %s", a, revision)
	}
	expectFiles(t, untar(t, fetchArtifact(t, a)), files)
}

func testGitRefs(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "", "")
	url, work := srv.repo(t, "fleet", map[string]string{"deploy/app.yaml": "v: 1\n"})
	first := testenv.Git(t, work, "rev-parse", "HEAD")
	testenv.Git(t, work, "tag", "v1.0.0")
	second := srv.commit(t, work, map[string]string{"deploy/app.yaml": "v: 2\n"})
	testenv.Git(t, work, "tag", "-a", "v1.1.0", "-m", "release")
	testenv.Git(t, work, "push", "-q", "origin", "--tags")

	branch := gitRepository(ns, "branch", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	semver := gitRepository(ns, "semver", url, &sourcev1.GitRepositoryRef{SemVer: "<1.1.0"})
	commit := gitRepository(ns, "commit", url, &sourcev1.GitRepositoryRef{Commit: first})
	h.create(t, branch, semver, commit)
	for _, c := range []struct {
		obj      *sourcev1.GitRepository
		revision string
		content  string
	}{{branch, "main@sha1:" + second, "v: 2\n"}, {semver, "v1.0.0@sha1:" + first, "v: 1\n"}, {commit, "sha1:" + first, "v: 1\n"}} {
		h.waitFor(t, c.obj, "ready", ready(c.obj))
		expectGitArtifact(t, c.obj, c.revision, map[string]string{"deploy/app.yaml": c.content})
	}
	h.waitEvent(t, branch, sourcev1.GitRepositoryKind, "Normal", sourcev1.NewArtifactReason, "main@sha1:"+second)

	// An unchanged head: the remote is asked for its refs, and nothing is fetched.
	fetches := srv.fetches.Load()
	token := h.requestReconcile(t, branch)
	h.waitFor(t, branch, "the request handled", func() bool { return branch.Status.LastHandledReconcileAt == token })
	if n := srv.fetches.Load() - fetches; n != 0 {
		t.Errorf("an unchanged head fetched %d times", n)
	}

	// A new commit on the branch is a new artifact.
	third := srv.commit(t, work, map[string]string{"deploy/app.yaml": "v: 3\n"})
	h.requestReconcile(t, branch)
	h.waitFor(t, branch, "the new commit", func() bool { a := branch.Status.Artifact; return a != nil && a.Revision == "main@sha1:"+third })
	expectGitArtifact(t, branch, "main@sha1:"+third, map[string]string{"deploy/app.yaml": "v: 3\n"})
}

func testGitIgnore(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "", "")
	files := map[string]string{
		"deploy/app.yaml": "a\n", "docs/logo.png": "png", ".github/workflows/ci.yaml": "ci\n",
		"scratch/notes.txt": "n\n", ".sourceignore": "scratch/\n",
		"deploy/.sourceignore": "*.local.yaml\n", "deploy/dev.local.yaml": "d\n", "other/dev.local.yaml": "o\n",
	}
	url, work := srv.repo(t, "fleet", files)
	head := testenv.Git(t, work, "rev-parse", "HEAD")
	defaults := gitRepository(ns, "defaults", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	custom := gitRepository(ns, "custom", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	ignore := "docs/\n"
	custom.Spec.Ignore = &ignore
	h.create(t, defaults, custom)
	h.waitFor(t, defaults, "ready", ready(defaults))
	// .git and the CI and image defaults are left out, and what the .sourceignore files name,
	// each below its own directory.
	nested := map[string]string{"deploy/.sourceignore": "*.local.yaml\n", "other/dev.local.yaml": "o\n"}
	expectGitArtifact(t, defaults, "main@sha1:"+head, with(nested, map[string]string{"deploy/app.yaml": "a\n", ".sourceignore": "scratch/\n"}))
	h.waitFor(t, custom, "ready", ready(custom))
	// spec.ignore replaces the defaults; .git stays out.
	expectGitArtifact(t, custom, "main@sha1:"+head, with(nested, map[string]string{
		"deploy/app.yaml": "a\n", ".github/workflows/ci.yaml": "ci\n", ".sourceignore": "scratch/\n",
	}))
	if custom.Status.ObservedIgnore == nil || *custom.Status.ObservedIgnore != ignore {
		t.Errorf("status.observedIgnore = %v", custom.Status.ObservedIgnore)
	}

	// spec.sparseCheckout keeps its directories alone (and .sourceignore still applies).
	sparse := gitRepository(ns, "sparse", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	sparse.Spec.SparseCheckout = []string{"deploy", "/scratch/"}
	h.create(t, sparse)
	h.waitFor(t, sparse, "ready", ready(sparse))
	expectGitArtifact(t, sparse, "main@sha1:"+head, map[string]string{"deploy/app.yaml": "a\n", "deploy/.sourceignore": "*.local.yaml\n"})
	if len(sparse.Status.ObservedSparseCheckout) != 2 {
		t.Errorf("status.observedSparseCheckout = %v", sparse.Status.ObservedSparseCheckout)
	}
}

// with returns the union of two sets of files.
func with(a, b map[string]string) map[string]string {
	m := maps.Clone(b)
	maps.Copy(m, a)
	return m
}

func testGitCredentials(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "git", "a-personal-access-token")
	url, work := srv.repo(t, "private", map[string]string{"app.yaml": "x\n"})
	head := testenv.Git(t, work, "rev-parse", "HEAD")

	anonymous := gitRepository(ns, "anonymous", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	h.create(t, anonymous)
	h.waitFor(t, anonymous, "refused", is(anonymous, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason))
	if msg := condition(anonymous, meta.ReadyCondition).Message; !strings.Contains(msg, "anonymous access") {
		t.Errorf("the refusal does not say who was refused: %s", msg)
	}

	// A PAT with no user name, as Azure DevOps takes it.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pat"}, StringData: map[string]string{"username": "git", "password": "a-personal-access-token"}}
	withPAT := gitRepository(ns, "with-pat", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	withPAT.Spec.SecretRef = &meta.LocalObjectReference{Name: "pat"}
	h.create(t, secret, withPAT)
	h.waitFor(t, withPAT, "ready", ready(withPAT))
	expectGitArtifact(t, withPAT, "main@sha1:"+head, map[string]string{"app.yaml": "x\n"})
	if strings.Contains(dump(withPAT), "a-personal-access-token") {
		t.Error("the status holds the token")
	}

	// A bearer token beside basic auth is refused before anything is sent.
	both := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "both"}, StringData: map[string]string{"username": "git", "password": "p", "bearerToken": "t"}}
	confused := gitRepository(ns, "confused", url, &sourcev1.GitRepositoryRef{Branch: "main"})
	confused.Spec.SecretRef = &meta.LocalObjectReference{Name: "both"}
	h.create(t, both, confused)
	h.waitFor(t, confused, "refused", is(confused, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason))
	if msg := condition(confused, meta.ReadyCondition).Message; !strings.Contains(msg, "cannot be set at the same time") {
		t.Errorf("message: %s", msg)
	}
}

func testGitFailures(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "", "")
	url, _ := srv.repo(t, "fleet", map[string]string{"app.yaml": "x\n"})
	missing := gitRepository(ns, "missing", url, &sourcev1.GitRepositoryRef{Branch: "nope"})
	notADO := gitRepository(ns, "not-ado", url, nil)
	notADO.Spec.Provider = sourcev1.AzureGitProvider
	h.create(t, missing, notADO)
	h.waitFor(t, missing, "failed", is(missing, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.GitOperationFailedReason))
	if c := condition(missing, meta.StalledCondition); c != nil {
		t.Errorf("an unknown branch stalled: the branch may be pushed later")
	}
	if msg := condition(missing, meta.ReadyCondition).Message; !strings.Contains(msg, "branch 'nope' not found") {
		t.Errorf("message: %s", msg)
	}
	h.waitFor(t, notADO, "stalled", stalled(notADO, sourcev1.URLInvalidReason))
	if msg := condition(notADO, meta.ReadyCondition).Message; !strings.Contains(msg, "https://dev.azure.com/ORG/PROJECT/_git/REPO") {
		t.Errorf("message: %s", msg)
	}
}

// A commit and a tag signed with a key the secret holds are verified and stored; a key it does
// not hold, or a tag asked of a branch, is a VerificationError and nothing is stored.
func testGitVerify(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "", "")
	url, work := srv.repo(t, "signed", map[string]string{"app.yaml": "unsigned\n"})
	signer, err := openpgp.NewEntity("Developer", "", "dev@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := openpgp.NewEntity("Stranger", "", "stranger@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := gogit.PlainOpen(work)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	os.WriteFile(filepath.Join(work, "app.yaml"), []byte("signed\n"), 0o644)
	wt.Add("app.yaml")
	who := &gitobject.Signature{Name: "Developer", Email: "dev@example.com", When: time.Now()}
	head, err := wt.Commit("signed", &gogit.CommitOptions{Author: who, SignKey: signer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateTag("v1.0.0", head, &gogit.CreateTagOptions{Tagger: who, Message: "release", SignKey: signer}); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, work, "push", "-q", "origin", "main", "--tags")

	keys := func(name string, e *openpgp.Entity) *corev1.Secret {
		var buf bytes.Buffer
		w, _ := armor.Encode(&buf, openpgp.PublicKeyType, nil)
		e.Serialize(w)
		w.Close()
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"author.asc": buf.String()}}
	}
	verified := func(name string, ref *sourcev1.GitRepositoryRef, mode sourcev1.GitVerificationMode, secret string) *sourcev1.GitRepository {
		o := gitRepository(ns, name, url, ref)
		o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: mode, SecretRef: meta.LocalObjectReference{Name: secret}}
		return o
	}
	head1 := verified("head", &sourcev1.GitRepositoryRef{Branch: "main"}, sourcev1.GitVerifyHEAD, "trusted")
	tag := verified("tag", &sourcev1.GitRepositoryRef{Tag: "v1.0.0"}, sourcev1.GitVerifyTagAndHEAD, "trusted")
	wrongKey := verified("wrong-key", &sourcev1.GitRepositoryRef{Branch: "main"}, sourcev1.GitVerifyHEAD, "untrusted")
	tagOfBranch := verified("tag-of-branch", &sourcev1.GitRepositoryRef{Branch: "main"}, sourcev1.GitVerifyTag, "trusted")
	h.create(t, keys("trusted", signer), keys("untrusted", stranger), head1, tag, wrongKey, tagOfBranch)

	for _, o := range []*sourcev1.GitRepository{head1, tag} {
		h.waitFor(t, o, "ready", ready(o))
		if c := condition(o, sourcev1.SourceVerifiedCondition); c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, signer.PrimaryKey.KeyIdString()) {
			t.Errorf("%s: SourceVerified = %+v", o.Name, c)
		}
		if m := o.Status.SourceVerificationMode; m == nil || *m != o.Spec.Verification.Mode {
			t.Errorf("%s: status.sourceVerificationMode = %v", o.Name, m)
		}
	}
	expectGitArtifact(t, tag, "v1.0.0@sha1:"+head.String(), map[string]string{"app.yaml": "signed\n"})
	for _, o := range []*sourcev1.GitRepository{wrongKey, tagOfBranch} {
		h.waitFor(t, o, "refused", is(o, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.VerificationErrorReason))
		if c := condition(o, sourcev1.SourceVerifiedCondition); c == nil || c.Status != metav1.ConditionFalse {
			t.Errorf("%s: SourceVerified = %+v", o.Name, c)
		}
		if o.Status.Artifact != nil {
			t.Errorf("%s: an unverified commit was stored: %+v", o.Name, o.Status.Artifact)
		}
	}
}

// spec.include mounts another GitRepository's artifact into this one's, and a new commit of the
// included repository rebuilds the includer; a missing include is IncludeUnavailable.
func testGitInclude(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "", "")
	sharedURL, sharedWork := srv.repo(t, "shared", map[string]string{"common/base.yaml": "v1\n", "README.md": "r\n"})
	appURL, appWork := srv.repo(t, "app", map[string]string{"deploy/app.yaml": "a\n", "vendor/common/stale.yaml": "old\n"})
	appHead := testenv.Git(t, appWork, "rev-parse", "HEAD")

	shared := gitRepository(ns, "shared", sharedURL, &sourcev1.GitRepositoryRef{Branch: "main"})
	app := gitRepository(ns, "app", appURL, &sourcev1.GitRepositoryRef{Branch: "main"})
	app.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "shared"}, FromPath: "common", ToPath: "vendor/common"}}
	missing := gitRepository(ns, "missing", appURL, &sourcev1.GitRepositoryRef{Branch: "main"})
	missing.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "nowhere"}}}
	h.create(t, shared, app, missing)

	h.waitFor(t, app, "ready", ready(app))
	// The include replaces the tree's own vendor/common.
	expectGitArtifact(t, app, "main@sha1:"+appHead, map[string]string{"deploy/app.yaml": "a\n", "vendor/common/base.yaml": "v1\n"})
	if len(app.Status.IncludedArtifacts) != 1 || len(app.Status.ObservedInclude) != 1 {
		t.Errorf("includedArtifacts %v, observedInclude %v", app.Status.IncludedArtifacts, app.Status.ObservedInclude)
	}

	// A new commit of the included repository rebuilds the includer.
	srv.commit(t, sharedWork, map[string]string{"common/base.yaml": "v2\n"})
	h.requestReconcile(t, shared)
	h.waitFor(t, app, "the new include", func() bool {
		a := app.Status.Artifact
		return a != nil && len(app.Status.IncludedArtifacts) == 1 && shared.Status.Artifact != nil &&
			app.Status.IncludedArtifacts[0].Revision != "" && strings.HasPrefix(app.Status.IncludedArtifacts[0].Revision, "main@sha1:"+testenv.Git(t, sharedWork, "rev-parse", "HEAD"))
	})
	expectGitArtifact(t, app, "main@sha1:"+appHead, map[string]string{"deploy/app.yaml": "a\n", "vendor/common/base.yaml": "v2\n"})

	h.waitFor(t, missing, "include unavailable", is(missing, sourcev1.IncludeUnavailableCondition, metav1.ConditionTrue, meta.DependencyNotReadyReason))
	if msg := condition(missing, meta.ReadyCondition).Message; !strings.Contains(msg, "GitRepository 'nowhere'") {
		t.Errorf("message: %s", msg)
	}
}

// spec.recurseSubmodules puts the submodule's recorded commit into the artifact, with the
// parent's credentials; without it, the submodule's directory stays out.
func testGitSubmodules(t *testing.T, h *harness) {
	ns := h.namespace(t)
	srv := startGitServer(t, "", "")
	libURL, libWork := srv.repo(t, "lib", map[string]string{"lib.yaml": "v1\n"})
	libHead := testenv.Git(t, libWork, "rev-parse", "HEAD")
	srv.commit(t, libWork, map[string]string{"lib.yaml": "v2, not recorded by the parent\n"})
	appURL, appWork := srv.repo(t, "app", map[string]string{"app.yaml": "a\n"})
	testenv.Git(t, appWork, "-c", "protocol.allow=always", "submodule", "add", "-q", libURL, "vendor/lib")
	testenv.Git(t, filepath.Join(appWork, "vendor/lib"), "checkout", "-q", libHead)
	testenv.Git(t, appWork, "add", ".")
	testenv.Git(t, appWork, "commit", "-q", "-m", "lib")
	testenv.Git(t, appWork, "push", "-q", "origin", "main")
	appHead := testenv.Git(t, appWork, "rev-parse", "HEAD")

	with := gitRepository(ns, "with", appURL, &sourcev1.GitRepositoryRef{Branch: "main"})
	with.Spec.RecurseSubmodules = true
	without := gitRepository(ns, "without", appURL, &sourcev1.GitRepositoryRef{Branch: "main"})
	h.create(t, with, without)
	h.waitFor(t, with, "ready", ready(with))
	h.waitFor(t, without, "ready", ready(without))
	// .gitmodules is a version control file, which artifacts leave out.
	expectGitArtifact(t, with, "main@sha1:"+appHead, map[string]string{"app.yaml": "a\n", "vendor/lib/lib.yaml": "v1\n"})
	expectGitArtifact(t, without, "main@sha1:"+appHead, map[string]string{"app.yaml": "a\n"})
	if !with.Status.ObservedRecurseSubmodules {
		t.Error("status.observedRecurseSubmodules is false")
	}
}
