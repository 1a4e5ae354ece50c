package git

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// pushable serves remoteRepo with receive-pack enabled, and returns its URL and bare directory.
func pushable(t *testing.T, auth func(*http.Request) bool) (string, string) {
	t.Helper()
	u, _, root := remoteRepo(t, auth)
	bare := filepath.Join(root, "repo.git")
	testenv.Git(t, bare, "config", "http.receivepack", "true")
	return u, bare
}

// setApp is an edit that sets app.yaml to content, counting its calls.
func setApp(content string, calls *atomic.Int32) Edit {
	return func(tree fs.FS) (Change, error) {
		calls.Add(1)
		return Change{Files: map[string][]byte{"app.yaml": []byte(content)}, Message: "Update app.yaml\n"}, nil
	}
}

func TestUpdatePushes(t *testing.T) {
	u, bare := pushable(t, nil)
	remote, err := factory(t).Remote(t.Context(), Spec{Spec: access.Spec{Namespace: "ns"}, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	before := testenv.Git(t, bare, "rev-parse", "main")
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var calls atomic.Int32
	res, err := remote.Update(t.Context(), UpdateOptions{
		Checkout: Ref{Branch: "main"}, Branch: "main", Author: Signature{Name: "Flux Bot", Email: "flux@example.com"},
		Now: func() time.Time { return when },
	}, setApp("kind: Deployment\n", &calls))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pushed() || res.Attempts != 1 || res.Base.String() != before || res.Checkout.Revision != "main@sha1:"+before {
		t.Fatalf("result %+v", res)
	}
	if got := testenv.Git(t, bare, "log", "-1", "--format=%H|%P|%an|%ae|%cn|%ct|%s", "main"); got != res.Commit.String()+"|"+before+"|Flux Bot|flux@example.com|Flux Bot|1767323045|Update app.yaml" {
		t.Errorf("the remote's main: %s", got)
	}
	if got := testenv.Git(t, bare, "show", "main:app.yaml"); got != "kind: Deployment" {
		t.Errorf("app.yaml = %q", got)
	}
	// git itself finds the pushed repository sound.
	testenv.Git(t, bare, "fsck", "--strict")

	// The same change again changes nothing: no commit, nothing pushed.
	head := testenv.Git(t, bare, "rev-parse", "main")
	res, err = remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main"}, setApp("kind: Deployment\n", &calls))
	if err != nil || res.Pushed() || testenv.Git(t, bare, "rev-parse", "main") != head {
		t.Fatalf("an unchanged file: %+v, %v", res, err)
	}
	res, err = remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main"}, func(fs.FS) (Change, error) { return Change{}, nil })
	if err != nil || res.Pushed() {
		t.Fatalf("no change: %+v, %v", res, err)
	}
	// An edit's error ends the update with nothing pushed, and is returned as it is.
	boom := errors.New("boom")
	if _, err := remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main"}, func(fs.FS) (Change, error) { return Change{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("an edit's error: %v", err)
	}
	if testenv.Git(t, bare, "rev-parse", "main") != head {
		t.Fatal("something was pushed")
	}
}

// TestUpdateRetriesWhenTheRemoteMoved: another writer pushes between the fetch and the push;
// the update fetches again, redoes its edit on the new head, and pushes on top of it: nothing
// of the other writer's is lost, and nothing is forced.
func TestUpdateRetriesWhenTheRemoteMoved(t *testing.T) {
	u, bare := pushable(t, nil)
	remote, err := factory(t).Remote(t.Context(), Spec{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	testenv.Git(t, other, "clone", "-q", bare, ".")
	var calls atomic.Int32
	edit := func(tree fs.FS) (Change, error) {
		if calls.Add(1) <= 2 {
			// Another writer pushes while this attempt is under way.
			testenv.Git(t, other, "pull", "-q", "--rebase", "origin", "main")
			testenv.Git(t, other, "commit", "-q", "--allow-empty", "-m", "concurrent "+string(rune('0'+calls.Load())))
			testenv.Git(t, other, "push", "-q", "origin", "HEAD:main")
		}
		return Change{Files: map[string][]byte{"app.yaml": []byte("kind: Job\n")}, Message: "automation"}, nil
	}
	res, err := remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main", Author: Signature{Name: "a", Email: "a@b"}}, edit)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 3 || calls.Load() != 3 {
		t.Errorf("%d attempts, %d edits; want 3 of each", res.Attempts, calls.Load())
	}
	log := testenv.Git(t, bare, "log", "--format=%s", "main")
	if !strings.HasPrefix(log, "automation\nconcurrent 2\nconcurrent 1\n") {
		t.Errorf("the remote's history:\n%s", log)
	}
	if parent := testenv.Git(t, bare, "rev-parse", "main^"); parent != res.Base.String() {
		t.Errorf("the commit's parent %s, want the moved head %s", parent, res.Base)
	}

	// A remote that moves at every attempt: the update gives up, saying why, and loses nothing.
	calls.Store(0)
	always := func(tree fs.FS) (Change, error) {
		calls.Add(1)
		testenv.Git(t, other, "pull", "-q", "--rebase", "origin", "main")
		testenv.Git(t, other, "commit", "-q", "--allow-empty", "-m", "busy")
		testenv.Git(t, other, "push", "-q", "origin", "HEAD:main")
		return Change{Files: map[string][]byte{"app.yaml": []byte("kind: CronJob\n")}, Message: "automation"}, nil
	}
	_, err = remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main", Attempts: 2}, always)
	if err == nil || !strings.Contains(err.Error(), "giving up after 2 attempts") {
		t.Fatalf("err = %v", err)
	}
	head := testenv.Git(t, other, "rev-parse", "HEAD")
	if got := testenv.Git(t, bare, "rev-parse", "main"); got != head {
		t.Errorf("the remote's main is %s, want the other writer's %s", got, head)
	}
}

// TestUpdateBranchAndRefspec: a push branch that does not exist starts at the checkout's
// commit; once it exists, the changes are made on it; the refspec gets the same commit.
func TestUpdateBranchAndRefspec(t *testing.T) {
	u, bare := pushable(t, nil)
	remote, err := factory(t).Remote(t.Context(), Spec{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	main := testenv.Git(t, bare, "rev-parse", "main")
	var calls atomic.Int32
	opts := UpdateOptions{Checkout: Ref{Tag: "v1.1.0"}, Branch: "auto", Refspec: "HEAD:refs/heads/review", Author: Signature{Name: "a", Email: "a@b"}}
	res, err := remote.Update(t.Context(), opts, setApp("first\n", &calls))
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.Git(t, bare, "rev-parse", "auto", "review", "auto^"); got != res.Commit.String()+"\n"+res.Commit.String()+"\n"+main {
		t.Errorf("auto, review, auto^ = %s", got)
	}
	edit := func(tree fs.FS) (Change, error) {
		data, _ := fs.ReadFile(tree, "app.yaml")
		return Change{Files: map[string][]byte{"app.yaml": append(data, "second\n"...)}, Message: "m"}, nil
	}
	opts.Refspec = "auto:review"
	second, err := remote.Update(t.Context(), opts, edit)
	if err != nil {
		t.Fatal(err)
	}
	if second.Base != res.Commit || testenv.Git(t, bare, "show", "auto:app.yaml") != "first\nsecond" || testenv.Git(t, bare, "rev-parse", "review") != second.Commit.String() {
		t.Errorf("the second update did not build on the push branch: %+v", second)
	}
	for _, bad := range []string{"+HEAD:refs/heads/x", "HEAD", "main:refs/heads/x", "HEAD:"} {
		if _, err := refspecFor(bad, "auto", plumbing.ZeroHash); err == nil {
			t.Errorf("refspec %q accepted", bad)
		}
	}
}

// TestUpdateRefused: a remote that lets the credentials read but not push is a refusal that
// says what pushing needs.
func TestUpdateRefused(t *testing.T) {
	u, _ := pushable(t, func(r *http.Request) bool {
		return r.URL.Query().Get("service") != "git-receive-pack" && !strings.HasSuffix(r.URL.Path, "/git-receive-pack")
	})
	remote, err := factory(t).Remote(t.Context(), Spec{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	_, err = remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main"}, setApp("x\n", &calls))
	var refusal *RefusalError
	if !errors.As(err, &refusal) || !strings.Contains(err.Error(), "Contributors") || !strings.Contains(err.Error(), "vso.code_write") {
		t.Fatalf("err = %v", err)
	}
}

// TestSignedCommit: a commit signed with the automation's key verifies with its public key.
func TestSignedCommit(t *testing.T) {
	u, bare := pushable(t, nil)
	remote, err := factory(t).Remote(t.Context(), Spec{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	entity, err := openpgp.NewEntity("Flux Bot", "", "flux@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var secret, public bytes.Buffer
	w, _ := armor.Encode(&secret, openpgp.PrivateKeyType, nil)
	entity.SerializePrivate(w, nil)
	w.Close()
	w, _ = armor.Encode(&public, openpgp.PublicKeyType, nil)
	entity.Serialize(w)
	w.Close()
	key, err := ReadSigningKey("signing", secret.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	res, err := remote.Update(t.Context(), UpdateOptions{Checkout: Ref{Branch: "main"}, Branch: "main", SigningKey: key, Author: Signature{Name: "Flux Bot", Email: "flux@example.com"}}, setApp("signed\n", &calls))
	if err != nil {
		t.Fatal(err)
	}
	checkout, err := remote.Fetch(t.Context(), t.TempDir(), Target{Reference: "refs/heads/main", Hash: res.Commit, Shallow: true})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := checkout.VerifyCommit(public.String()); err != nil || id != entity.PrimaryKey.KeyIdString() {
		t.Fatalf("verify: %s, %v", id, err)
	}
	if testenv.Git(t, bare, "cat-file", "-p", "main") == "" {
		t.Fatal("no commit")
	}

	for name, tc := range map[string]struct {
		armored, passphrase []byte
		want                string
	}{
		"missing":    {nil, nil, "has no 'git.asc' key"},
		"garbage":    {[]byte("not a key"), nil, "not an ASCII-armored OpenPGP key"},
		"public key": {public.Bytes(), nil, "holds a public key"},
	} {
		if _, err := ReadSigningKey("signing", tc.armored, tc.passphrase); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	// A key protected by a passphrase needs it.
	protected, _ := openpgp.NewEntity("Flux Bot", "", "flux@example.com", nil)
	protected.EncryptPrivateKeys([]byte("secret"), nil)
	var buf bytes.Buffer
	w, _ = armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	protected.SerializePrivateWithoutSigning(w, nil)
	w.Close()
	if _, err := ReadSigningKey("signing", buf.Bytes(), nil); err == nil || !strings.Contains(err.Error(), "'passphrase'") {
		t.Errorf("no passphrase: %v", err)
	}
	if _, err := ReadSigningKey("signing", buf.Bytes(), []byte("wrong")); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("a wrong passphrase: %v", err)
	}
	if _, err := ReadSigningKey("signing", buf.Bytes(), []byte("secret")); err != nil {
		t.Errorf("the right passphrase: %v", err)
	}
}
