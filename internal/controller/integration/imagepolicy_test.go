package integration_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
)

func imagePolicyCases() []testCase {
	return []testCase{
		{"SemVer", testPolicySemVer},
		{"Alphabetical", testPolicyAlphabetical},
		{"Numerical", testPolicyNumerical},
		{"DigestReflection", testPolicyDigestReflection},
		{"MissingRepository", testPolicyMissingRepository},
		{"CrossNamespace", testPolicyCrossNamespace},
		{"InvalidPolicy", testPolicyInvalid},
	}
}

func imagePolicy(namespace, name, repository string, policy imagev1.ImagePolicyChoice) *imagev1.ImagePolicy {
	return &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: repository}, Policy: policy},
	}
}

// scannedRepository pushes tags to a new repository and returns an ImageRepository, named app,
// that scanned them.
func scannedRepository(t *testing.T, h *harness, ns string, tags ...string) *imagev1.ImageRepository {
	t.Helper()
	image := h.reg.open + "/" + ns + "/app"
	pushImage(t, image, tags...)
	repo := imageRepository(ns, "app", imagev1.ImageRepositorySpec{Image: image, Insecure: true})
	h.create(t, repo)
	h.waitFor(t, repo, "Ready", ready(repo))
	return repo
}

func expectLatest(t *testing.T, h *harness, policy *imagev1.ImagePolicy, want imagev1.ImageRef) {
	t.Helper()
	h.waitFor(t, policy, "latestRef "+want.String(), func() bool {
		return ready(policy)() && policy.Status.LatestRef != nil && *policy.Status.LatestRef == want
	})
}

// semver picks the highest version in range, not the last string, and moves when a newer tag
// is scanned.
func testPolicySemVer(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := scannedRepository(t, h, ns, "1.0.0", "1.2.3", "1.10.0", "2.0.0-rc.1", "latest", "v1.9.9")
	image := repo.Spec.Image
	policy := imagePolicy(ns, "app", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}})
	h.create(t, policy)
	expectLatest(t, h, policy, imagev1.ImageRef{Name: image, Tag: "1.10.0"})
	if policy.Status.ObservedPreviousRef != nil {
		t.Errorf("status.observedPreviousRef = %+v on the first choice", policy.Status.ObservedPreviousRef)
	}

	pushImage(t, image, "1.11.0")
	h.requestReconcile(t, repo)
	expectLatest(t, h, policy, imagev1.ImageRef{Name: image, Tag: "1.11.0"})
	if p := policy.Status.ObservedPreviousRef; p == nil || *p != (imagev1.ImageRef{Name: image, Tag: "1.10.0"}) {
		t.Errorf("status.observedPreviousRef = %+v, want the previous tag 1.10.0", p)
	}
	h.waitEvent(t, policy, imagev1.ImagePolicyKind, "Normal", "", "1.11.0")
}

// alphabetical compares what filterTags extracts, in either order.
func testPolicyAlphabetical(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := scannedRepository(t, h, ns, "RELEASE.2024-01-15", "RELEASE.2024-03-01", "RELEASE.2023-12-31", "zzz-other")
	filter := &imagev1.TagFilter{Pattern: `^RELEASE\.(?P<date>.*)$`, Extract: "$date"}
	asc := imagePolicy(ns, "asc", "app", imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "asc"}})
	asc.Spec.FilterTags = filter
	desc := imagePolicy(ns, "desc", "app", imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: "desc"}})
	desc.Spec.FilterTags = filter
	h.create(t, asc, desc)
	expectLatest(t, h, asc, imagev1.ImageRef{Name: repo.Spec.Image, Tag: "RELEASE.2024-03-01"})
	expectLatest(t, h, desc, imagev1.ImageRef{Name: repo.Spec.Image, Tag: "RELEASE.2023-12-31"})
}

// numerical compares extracted numbers as numbers (10 > 9), in either order.
func testPolicyNumerical(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := scannedRepository(t, h, ns, "main-a1b2-9", "main-c3d4-10", "feature-x-99", "latest")
	filter := &imagev1.TagFilter{Pattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, Extract: "$ts"}
	asc := imagePolicy(ns, "asc", "app", imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "asc"}})
	asc.Spec.FilterTags = filter
	desc := imagePolicy(ns, "desc", "app", imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: "desc"}})
	desc.Spec.FilterTags = filter
	h.create(t, asc, desc)
	expectLatest(t, h, asc, imagev1.ImageRef{Name: repo.Spec.Image, Tag: "main-c3d4-10"})
	expectLatest(t, h, desc, imagev1.ImageRef{Name: repo.Spec.Image, Tag: "main-a1b2-9"})
}

// digestReflectionPolicy Always and IfNotPresent record the chosen tag's manifest digest.
func testPolicyDigestReflection(t *testing.T, h *harness) {
	ns := h.namespace(t)
	image := h.reg.open + "/" + ns + "/app"
	pushImage(t, image, "1.0.0")
	d := pushImage(t, image, "1.1.0")
	repo := imageRepository(ns, "app", imagev1.ImageRepositorySpec{Image: image, Insecure: true})
	always := imagePolicy(ns, "always", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}})
	always.Spec.DigestReflectionPolicy = imagev1.ReflectAlways
	always.Spec.Interval = &metav1.Duration{Duration: time.Hour}
	ifNotPresent := imagePolicy(ns, "if-not-present", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}})
	ifNotPresent.Spec.DigestReflectionPolicy = imagev1.ReflectIfNotPresent
	h.create(t, repo, always, ifNotPresent)
	want := imagev1.ImageRef{Name: image, Tag: "1.1.0", Digest: d.String()}
	expectLatest(t, h, always, want)
	expectLatest(t, h, ifNotPresent, want)
}

// A policy whose ImageRepository does not exist waits for it, and chooses once it has scanned.
func testPolicyMissingRepository(t *testing.T, h *harness) {
	ns := h.namespace(t)
	policy := imagePolicy(ns, "app", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "*"}})
	h.create(t, policy)
	h.waitFor(t, policy, "waiting for the repository", is(policy, meta.ReadyCondition, metav1.ConditionFalse, imagev1.DependencyNotReadyReason))
	if c := condition(policy, meta.StalledCondition); c != nil {
		t.Errorf("a missing repository stalled the policy: %+v", c)
	}
	repo := scannedRepository(t, h, ns, "0.1.0", "0.2.0")
	expectLatest(t, h, policy, imagev1.ImageRef{Name: repo.Spec.Image, Tag: "0.2.0"})
}

// A policy may use an ImageRepository of another namespace only when the repository's
// spec.accessFrom selects the policy's namespace by its labels. A refusal is retried, so that
// labelling the namespace and granting access take effect without touching the policy.
func testPolicyCrossNamespace(t *testing.T, h *harness) {
	ns, other, stranger := h.namespace(t), h.namespace(t), h.namespace(t)
	repo := scannedRepository(t, h, other, "1.0.0")
	policy := imagePolicy(ns, "app", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "*"}})
	policy.Spec.ImageRepositoryRef.Namespace = other
	unlabelled := imagePolicy(stranger, "app", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "*"}})
	unlabelled.Spec.ImageRepositoryRef.Namespace = other
	h.create(t, policy, unlabelled)
	denied := func(p *imagev1.ImagePolicy, says string) {
		t.Helper()
		h.waitFor(t, p, "access denied: "+says, func() bool {
			r := condition(p, meta.ReadyCondition)
			return r != nil && r.Status == metav1.ConditionFalse && r.Reason == imagev1.AccessDeniedReason && strings.Contains(r.Message, says)
		})
		if s := condition(p, meta.StalledCondition); s != nil && s.Status == metav1.ConditionTrue {
			t.Errorf("a refusal that access can lift stalled: %s", s.Message)
		}
		if p.Status.LatestRef != nil {
			t.Errorf("status.latestRef = %+v from a repository that grants no access", p.Status.LatestRef)
		}
	}
	denied(policy, "has no spec.accessFrom")

	var namespace corev1.Namespace
	if err := h.client.Get(t.Context(), client.ObjectKey{Name: ns}, &namespace); err != nil {
		t.Fatal(err)
	}
	namespace.Labels = map[string]string{"team": "blue"}
	if err := h.client.Update(t.Context(), &namespace); err != nil {
		t.Fatal(err)
	}
	h.update(t, repo, func() {
		repo.Spec.AccessFrom = &meta.AccessFrom{NamespaceSelectors: []meta.NamespaceSelector{{MatchLabels: map[string]string{"team": "blue"}}}}
	})
	expectLatest(t, h, policy, imagev1.ImageRef{Name: repo.Spec.Image, Tag: "1.0.0"})
	denied(unlabelled, "does not grant access to namespace '"+stranger+"'")
}

// A policy that cannot be compiled stalls with reason InvalidPolicy.
func testPolicyInvalid(t *testing.T, h *harness) {
	ns := h.namespace(t)
	scannedRepository(t, h, ns, "1.0.0")
	badRange := imagePolicy(ns, "bad-range", "app", imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "not a range"}})
	badFilter := imagePolicy(ns, "bad-filter", "app", imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{}})
	badFilter.Spec.FilterTags = &imagev1.TagFilter{Pattern: "(unclosed"}
	h.create(t, badRange, badFilter)
	for _, p := range []*imagev1.ImagePolicy{badRange, badFilter} {
		h.waitFor(t, p, "stalled", stalled(p, imagev1.InvalidPolicyReason))
		if p.Status.LatestRef != nil {
			t.Errorf("%s: status.latestRef = %+v from an invalid policy", p.Name, p.Status.LatestRef)
		}
	}
	h.waitEvent(t, badRange, imagev1.ImagePolicyKind, "Warning", imagev1.InvalidPolicyReason, "not a range")
}
