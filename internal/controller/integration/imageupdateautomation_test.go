package integration_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

func imageUpdateAutomationCases() []testCase {
	return []testCase{
		{"push, templated message, no change no commit, a new tag pushes again", testAutomationPushes},
		{"the remote moved: retried, nothing lost", testAutomationRemoteMoved},
		{"a marker naming a missing or not-ready policy: nothing pushed", testAutomationPolicyNotReady},
		{"invalid template, removed field, bad signing key: nothing pushed", testAutomationInvalid},
		{"signed commit verified by git verify-commit", testAutomationSigned},
		{"a principal that may read but not push", testAutomationRefused},
		{"policySelector", testAutomationSelector},
	}
}

// pushServer serves one bare repository with git's http-backend, receive-pack on, behind basic
// auth; beforePush, when set, runs before each push is served.
type pushServer struct {
	bare, url  string
	beforePush atomic.Pointer[func()]
}

const gitUser, gitPassword = "flux", "s3cret"

func startPushServer(t *testing.T, files map[string]string, canPush bool) *pushServer {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "work")
	os.MkdirAll(work, 0o755)
	testenv.Git(t, work, "init", "-q", "-b", "main")
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755)
		os.WriteFile(filepath.Join(work, name), []byte(content), 0o644)
	}
	testenv.Git(t, work, "add", ".")
	testenv.Git(t, work, "commit", "-q", "-m", "initial")
	testenv.Git(t, root, "clone", "-q", "--bare", work, "repo.git")
	s := &pushServer{bare: filepath.Join(root, "repo.git")}
	testenv.Git(t, s.bare, "config", "http.receivepack", "true")
	backend := testenv.GitHTTPBackend(t, root)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != gitUser || p != gitPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		pushing := r.URL.Query().Get("service") == "git-receive-pack" || strings.HasSuffix(r.URL.Path, "/git-receive-pack")
		if pushing && !canPush {
			http.Error(w, "TF401027: You need the Git 'GenericContribute' permission to perform this action.", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			if f := s.beforePush.Load(); f != nil {
				(*f)()
			}
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/repo.git"
	return s
}

func (s *pushServer) git(t *testing.T, args ...string) string {
	t.Helper()
	return testenv.Git(t, s.bare, args...)
}

// source creates the GitRepository (with its credentials) of s in ns.
func (s *pushServer) source(t *testing.T, h *harness, ns string) {
	t.Helper()
	h.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "git"}, StringData: map[string]string{"username": gitUser, "password": gitPassword}})
	repo := gitRepository(ns, "fleet", s.url, &sourcev1.GitRepositoryRef{Branch: "main"})
	repo.Spec.SecretRef = &meta.LocalObjectReference{Name: "git"}
	h.create(t, repo)
}

// automation is an ImageUpdateAutomation of the GitRepository fleet, pushing to main.
func automation(ns, name, path, template string) *imagev1.ImageUpdateAutomation {
	return &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "fleet"},
			Interval:  metav1.Duration{Duration: time.Hour},
			GitSpec: &imagev1.GitSpec{
				Checkout: &imagev1.GitCheckoutSpec{Reference: sourcev1.GitRepositoryRef{Branch: "main"}},
				Commit: imagev1.CommitSpec{
					Author:          imagev1.CommitUser{Name: "Flux Bot", Email: "flux@example.com"},
					MessageTemplate: template,
				},
				Push: &imagev1.PushSpec{Branch: "main"},
			},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: path},
		},
	}
}

// scannedPolicy scans tags of a new image and returns the policy "app" (semver >=1.0.0) that
// picked the latest, and the image's name.
func scannedPolicy(t *testing.T, h *harness, ns string, tags ...string) (*imagev1.ImageRepository, *imagev1.ImagePolicy) {
	t.Helper()
	repo := scannedRepository(t, h, ns, tags...)
	policy := imagePolicy(ns, "app", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}})
	h.create(t, policy)
	h.waitFor(t, policy, "a latest image", func() bool { return policy.Status.LatestRef != nil })
	return repo, policy
}

func deployment(image, ns string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app # the app\nspec:\n  template:\n    spec:\n      containers:\n" +
		"        - name: app\n          image: " + image + ":1.0.0 # {\"$imagepolicy\": \"" + ns + ":app\"}\n"
}

// pushed waits until obj pushed a commit other than previous, and returns it.
func pushed(t *testing.T, h *harness, obj *imagev1.ImageUpdateAutomation, previous string) string {
	t.Helper()
	h.waitFor(t, obj, "a push", func() bool {
		return ready(obj)() && obj.Status.LastPushCommit != "" && obj.Status.LastPushCommit != previous
	})
	return obj.Status.LastPushCommit
}

func testAutomationPushes(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo, policy := scannedPolicy(t, h, ns, "1.0.0", "1.1.0")
	image := repo.Spec.Image
	s := startPushServer(t, map[string]string{
		"apps/deploy.yaml":         deployment(image, ns),
		"apps/kustomization.yaml":  "images:\n  - name: app\n    newTag: 1.0.0 # {\"$imagepolicy\": \"" + ns + ":app:tag\"}\n",
		"outside/deploy.yaml":      deployment(image, ns),
		"apps/unrelated/cm.yaml":   "kind: ConfigMap\n",
		"apps/other-namespace.yml": "image: x:1 # {\"$imagepolicy\": \"elsewhere:app\"}\n",
	}, true)
	s.source(t, h, ns)
	before := s.git(t, "rev-parse", "main")
	obj := automation(ns, "podinfo", "./apps", "Automated image update by {{ .AutomationObject }} ({{ .Values.env }})\n\n"+
		"Files:\n{{ range $file, $_ := .Changed.FileChanges -}}\n- {{ $file }}\n{{ end -}}\n"+
		"Objects:\n{{ range $resource, $changes := .Changed.Objects -}}\n- {{ $resource.Kind }} {{ $resource.Name }}\n{{ end -}}\n"+
		"Changes:\n{{ range .Changed.Changes -}}\n- {{ .OldValue }} -> {{ .NewValue }} ({{ .Setter }})\n{{ end -}}")
	obj.Spec.GitSpec.Commit.MessageTemplateValues = map[string]imagev1.TemplateValue{"env": "prod"}
	h.create(t, obj)
	commit := pushed(t, h, obj, "")

	if got := s.git(t, "rev-parse", "main"); got != commit {
		t.Fatalf("the remote's main is %s, status.lastPushCommit %s", got, commit)
	}
	if parent := s.git(t, "rev-parse", "main^"); parent != before {
		t.Errorf("the commit's parent is %s, want the previous head %s", parent, before)
	}
	// Objects are a map keyed by a struct, which text/template ranges over in no set order (as
	// in Flux): the message is compared line by line as a set.
	wantLines := []string{"Automated image update by " + ns + "/podinfo (prod)", "", "Files:", "- deploy.yaml", "- kustomization.yaml",
		"Objects:", "- Deployment app", "-", "Changes:", "- " + image + ":1.0.0 -> " + image + ":1.1.0 (" + ns + ":app)", "- 1.0.0 -> 1.1.0 (" + ns + ":app:tag)"}
	if got := s.git(t, "log", "-1", "--format=%B", "main"); !sameLines(got, wantLines) {
		t.Errorf("message:\n%s\nwant the lines:\n%s", got, strings.Join(wantLines, "\n"))
	}
	if got := s.git(t, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main"); got != "Flux Bot <flux@example.com>|Flux Bot <flux@example.com>" {
		t.Errorf("author|committer = %s", got)
	}
	if got := s.git(t, "diff", "--name-only", before, "main"); got != "apps/deploy.yaml\napps/kustomization.yaml" {
		t.Errorf("changed files:\n%s", got)
	}
	if got := s.git(t, "show", "main:apps/deploy.yaml"); got+"\n" != strings.Replace(deployment(image, ns), ":1.0.0", ":1.1.0", 1) {
		t.Errorf("deploy.yaml:\n%s", got)
	}
	if obj.Status.ObservedSourceRevision != "main@sha1:"+commit || obj.Status.LastPushTime == nil || obj.Status.LastAutomationRunTime == nil {
		t.Errorf("status: %+v", obj.Status)
	}
	if p := obj.Status.ObservedPolicies["app"]; p != *policy.Status.LatestRef {
		t.Errorf("observedPolicies = %+v", obj.Status.ObservedPolicies)
	}
	h.waitEvent(t, obj, imagev1.ImageUpdateAutomationKind, "Normal", meta.SucceededReason, "pushed commit '"+commit+"' to 'refs/heads/main'")
	expectCondition(t, obj, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason)

	// Nothing changed: a requested run makes no commit.
	token := h.requestReconcile(t, obj)
	h.waitFor(t, obj, "the requested run", func() bool { return obj.Status.LastHandledReconcileAt == token })
	if got := s.git(t, "rev-parse", "main"); got != commit || obj.Status.LastPushCommit != commit {
		t.Fatalf("a run without change pushed %s", got)
	}

	// A new tag: the policy moves, which runs the automation by itself.
	pushImage(t, image, "1.2.0")
	h.requestReconcile(t, repo)
	second := pushed(t, h, obj, commit)
	if got := s.git(t, "show", "main:apps/kustomization.yaml"); !strings.Contains(got, "newTag: 1.2.0 # {") {
		t.Errorf("kustomization.yaml after 1.2.0:\n%s", got)
	}
	if parent := s.git(t, "rev-parse", "main^"); parent != commit || s.git(t, "rev-parse", "main") != second {
		t.Errorf("the second commit is not on the first")
	}
	expectUnchangedSpec(t, obj)
}

// sameLines tells whether message has the lines want, in any order, trailing spaces aside.
func sameLines(message string, want []string) bool {
	got := strings.Split(strings.TrimSpace(message), "\n")
	for i := range got {
		got[i] = strings.TrimRight(got[i], " ")
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	return slices.Equal(got, want)
}

// testAutomationRemoteMoved: another writer pushes while the automation pushes; the automation
// fetches again, makes its change on the new head, and pushes: both commits are on main.
func testAutomationRemoteMoved(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo, _ := scannedPolicy(t, h, ns, "1.0.0", "1.1.0")
	s := startPushServer(t, map[string]string{"deploy.yaml": deployment(repo.Spec.Image, ns), "README.md": "fleet\n"}, true)
	other := t.TempDir()
	testenv.Git(t, other, "clone", "-q", s.bare, ".")
	var raced atomic.Int32
	race := func() {
		if raced.Add(1) == 1 {
			os.WriteFile(filepath.Join(other, "README.md"), []byte("fleet, edited by a person\n"), 0o644)
			testenv.Git(t, other, "commit", "-q", "-am", "a person's commit")
			testenv.Git(t, other, "push", "-q", "origin", "HEAD:main")
		}
	}
	s.beforePush.Store(&race)
	s.source(t, h, ns)
	obj := automation(ns, "podinfo", "", "")
	h.create(t, obj)
	commit := pushed(t, h, obj, "")
	if got := s.git(t, "log", "--format=%s", "main"); got != "Update from image update automation\na person's commit\ninitial" {
		t.Errorf("the remote's history:\n%s", got)
	}
	if got := s.git(t, "show", commit+":README.md"); got != "fleet, edited by a person" {
		t.Errorf("the person's change was lost: README.md = %q", got)
	}
	if got := s.git(t, "show", commit+":deploy.yaml"); !strings.Contains(got, ":1.1.0 #") {
		t.Errorf("deploy.yaml:\n%s", got)
	}
	if raced.Load() < 2 {
		t.Errorf("%d pushes reached the server, want a retry", raced.Load())
	}
}

// testAutomationPolicyNotReady: a marker that names a policy that does not exist, or one that
// has no latest image, fails the run with DependencyNotReady naming the file and line, and
// nothing is pushed; once the policy is there, the automation runs by itself and pushes.
func testAutomationPolicyNotReady(t *testing.T, h *harness) {
	ns := h.namespace(t)
	s := startPushServer(t, map[string]string{"deploy.yaml": deployment("example.com/app", ns)}, true)
	s.source(t, h, ns)
	head := s.git(t, "rev-parse", "main")
	obj := automation(ns, "podinfo", "", "")
	h.create(t, obj)
	h.waitFor(t, obj, "DependencyNotReady", is(obj, meta.ReadyCondition, metav1.ConditionFalse, meta.DependencyNotReadyReason))
	if msg := condition(obj, meta.ReadyCondition).Message; !strings.Contains(msg, "deploy.yaml:10: marker \""+ns+":app\": ImagePolicy "+ns+"/app does not exist") || !strings.Contains(msg, "nothing pushed") {
		t.Errorf("message: %s", msg)
	}
	// A policy without a latest image yet: its ImageRepository does not exist.
	waiting := imagePolicy(ns, "app", "missing-repository", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}})
	h.create(t, waiting)
	h.waitFor(t, obj, "not ready", func() bool {
		c := condition(obj, meta.ReadyCondition)
		return c != nil && c.Reason == meta.DependencyNotReadyReason && strings.Contains(c.Message, "ImagePolicy "+ns+"/app is not ready")
	})
	if got := s.git(t, "rev-parse", "main"); got != head || obj.Status.LastPushCommit != "" {
		t.Fatalf("something was pushed: %s", got)
	}
	// The repository comes: the policy picks a tag, which runs the automation.
	image := h.reg.open + "/" + ns + "/app"
	pushImage(t, image, "1.0.0", "1.3.0")
	h.create(t, imageRepository(ns, "missing-repository", imagev1.ImageRepositorySpec{Image: image, Insecure: true}))
	pushed(t, h, obj, "")
	if got := s.git(t, "show", "main:deploy.yaml"); !strings.Contains(got, "image: "+image+":1.3.0 #") {
		t.Errorf("deploy.yaml:\n%s", got)
	}
}

// testAutomationInvalid: a template that does not parse, one that uses a field Flux removed, and a
// signing key that does not parse fail the run with a reason that says so; nothing is pushed.
func testAutomationInvalid(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo, _ := scannedPolicy(t, h, ns, "1.0.0", "1.1.0")
	s := startPushServer(t, map[string]string{"deploy.yaml": deployment(repo.Spec.Image, ns)}, true)
	s.source(t, h, ns)
	head := s.git(t, "rev-parse", "main")

	broken := automation(ns, "broken", "", "{{ range .Changed.Changes }}")
	removed := automation(ns, "removed", "", "{{ range .Updated.Images }}{{ . }}{{ end }}")
	h.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "key"}, StringData: map[string]string{"git.asc": "-----BEGIN PGP PRIVATE KEY BLOCK-----\nnot a key\n"}})
	badKey := automation(ns, "bad-key", "", "")
	badKey.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "key"}}
	h.create(t, broken, removed, badKey)

	h.waitFor(t, broken, "stalled", stalled(broken, imagev1.GitOperationFailedReason))
	if msg := condition(broken, meta.ReadyCondition).Message; !strings.Contains(msg, "spec.git.commit.messageTemplate is not a Go template") {
		t.Errorf("broken template: %s", msg)
	}
	h.waitFor(t, removed, "stalled", stalled(removed, imagev1.RemovedTemplateFieldReason))
	if msg := condition(removed, meta.ReadyCondition).Message; !strings.Contains(msg, "'.Updated'") || !strings.Contains(msg, "'.Changed'") {
		t.Errorf("removed field: %s", msg)
	}
	h.waitFor(t, badKey, "SourceManagerFailed", is(badKey, meta.ReadyCondition, metav1.ConditionFalse, imagev1.SourceManagerFailedReason))
	if msg := condition(badKey, meta.ReadyCondition).Message; !strings.Contains(msg, "signing key secret 'key'") || !strings.Contains(msg, "not an ASCII-armored OpenPGP key") {
		t.Errorf("bad signing key: %s", msg)
	}
	if got := s.git(t, "rev-parse", "main"); got != head {
		t.Fatalf("something was pushed: %s", got)
	}
}

// testAutomationSigned: the commit is signed with the key of the secret, and git itself verifies
// it with the public key imported into a keyring of its own.
func testAutomationSigned(t *testing.T, h *harness) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg is not installed: git verify-commit needs it")
	}
	ns := h.namespace(t)
	repo, _ := scannedPolicy(t, h, ns, "1.0.0", "1.1.0")
	s := startPushServer(t, map[string]string{"deploy.yaml": deployment(repo.Spec.Image, ns)}, true)
	s.source(t, h, ns)
	entity, err := openpgp.NewEntity("Flux Bot", "", "flux@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	entity.EncryptPrivateKeys([]byte("passphrase"), nil)
	secret := armored(t, openpgp.PrivateKeyType, func(w io.Writer) error { return entity.SerializePrivateWithoutSigning(w, nil) })
	public := armored(t, openpgp.PublicKeyType, entity.Serialize)
	h.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "signing"}, StringData: map[string]string{"git.asc": secret, "passphrase": "passphrase"}})
	obj := automation(ns, "signed", "", "")
	obj.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "signing"}}
	h.create(t, obj)
	commit := pushed(t, h, obj, "")

	gnupg := t.TempDir()
	run := func(name string, stdin string, args ...string) string {
		cmd := exec.CommandContext(t.Context(), name, args...)
		if name == "git" {
			cmd = testenv.GitCommand(t.Context(), s.bare, args...)
		}
		cmd.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
		if name == "git" {
			cmd.Env = append(cmd.Env, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		}
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("gpg", public, "--batch", "--import")
	out := run("git", "", "verify-commit", "--verbose", commit)
	if !strings.Contains(out, "Good signature from \"Flux Bot <flux@example.com>\"") || !strings.Contains(out, strings.ToUpper(entity.PrimaryKey.KeyIdString())) {
		t.Errorf("git verify-commit:\n%s", out)
	}
}

// armored is what serialize writes, ASCII-armored as blockType.
func armored(t *testing.T, blockType string, serialize func(io.Writer) error) string {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String()
}

// testAutomationRefused: credentials that may read but not push fail with AuthenticationFailed,
// saying that pushing needs write access; nothing else changes.
func testAutomationRefused(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo, _ := scannedPolicy(t, h, ns, "1.0.0", "1.1.0")
	s := startPushServer(t, map[string]string{"deploy.yaml": deployment(repo.Spec.Image, ns)}, false)
	s.source(t, h, ns)
	obj := automation(ns, "reader", "", "")
	h.create(t, obj)
	h.waitFor(t, obj, "AuthenticationFailed", is(obj, meta.ReadyCondition, metav1.ConditionFalse, imagev1.AuthenticationFailedReason))
	msg := condition(obj, meta.ReadyCondition).Message
	for _, want := range []string{"username and password of secret " + ns + "/git", "pushing needs write access", "Contributors", "vso.code_write"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	h.waitEvent(t, obj, imagev1.ImageUpdateAutomationKind, "Warning", imagev1.AuthenticationFailedReason, "pushing needs write access")
}

// testAutomationSelector: a policy the selector leaves out is not applied (its marker is left as
// it is, and the repository is up to date); a selector that does not parse stalls.
func testAutomationSelector(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo, _ := scannedPolicy(t, h, ns, "1.0.0", "1.1.0")
	s := startPushServer(t, map[string]string{"deploy.yaml": deployment(repo.Spec.Image, ns)}, true)
	s.source(t, h, ns)
	head := s.git(t, "rev-parse", "main")
	obj := automation(ns, "selective", "", "")
	obj.Spec.PolicySelector = &imagev1.LabelSelector{MatchLabels: map[string]imagev1.LabelValue{"team": "other"}}
	bad := automation(ns, "bad-selector", "", "")
	bad.Spec.PolicySelector = &imagev1.LabelSelector{MatchLabels: map[string]imagev1.LabelValue{"not a key!": "x"}}
	h.create(t, obj, bad)
	h.waitFor(t, obj, "Ready", ready(obj))
	if msg := condition(obj, meta.ReadyCondition).Message; msg != "repository up-to-date" || len(obj.Status.ObservedPolicies) != 0 || obj.Status.ObservedSourceRevision != "main@sha1:"+head {
		t.Errorf("Ready %q, status %+v", msg, obj.Status)
	}
	h.waitFor(t, bad, "stalled", stalled(bad, imagev1.InvalidPolicySelectorReason))
	if got := s.git(t, "rev-parse", "main"); got != head {
		t.Fatalf("something was pushed: %s", got)
	}
}
