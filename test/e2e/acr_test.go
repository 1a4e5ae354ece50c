package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

func ociRepository(ns, repository, tag string, withServiceAccount bool) *sourcev1.OCIRepository {
	o := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "manifests"},
		Spec: sourcev1.OCIRepositorySpec{
			URL:       "oci://" + registryHost + "/" + repository,
			Reference: &sourcev1.OCIRepositoryRef{Tag: tag},
			Provider:  sourcev1.AzureOCIProvider,
			Interval:  metav1.Duration{Duration: time.Hour},
		},
	}
	if withServiceAccount {
		o.Spec.ServiceAccountName = "source"
	}
	return o
}

// TestOCIRepositoryWithObjectLevelWorkloadIdentity: a tenant's service account, federated with a
// managed identity that has AcrPull, pulls an artifact, and the stored artifact is served with
// the digest the status names.
func TestOCIRepositoryWithObjectLevelWorkloadIdentity(t *testing.T) {
	s := system(t)
	s.tenant(t, nsWorkloadIdentity, controllerMI, controllerID)
	digest := s.push(t, "tenant-wi/manifests", "1.0.0", map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"})

	obj := ociRepository(nsWorkloadIdentity, "tenant-wi/manifests", "1.0.0", true)
	if err := s.env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, obj, "Ready=True", func() bool { st, _, _ := readyStatus(obj); return st == metav1.ConditionTrue })

	a := obj.Status.Artifact
	if want := "1.0.0@" + digest.String(); a == nil || a.Revision != want {
		t.Fatalf("artifact = %+v, want revision %s", a, want)
	}
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := fmt.Sprintf("sha256:%x", sha256.Sum256(body)); got != a.Digest {
		t.Fatalf("served artifact digest %s, status says %s", got, a.Digest)
	}
	if files := tarNames(t, body); !strings.Contains(files, "deploy/app.yaml") {
		t.Fatalf("artifact holds %q, want deploy/app.yaml", files)
	}
	_, reason, msg := readyStatus(obj)
	if reason != meta.SucceededReason || !strings.Contains(msg, digest.String()) {
		t.Fatalf("Ready reason %q message %q", reason, msg)
	}
}

// TestMissingRoleIsExplained: an identity that exchanges its token fine but lacks AcrPull gets
// AuthenticationFailed with the role, the registry and the command that grants it.
func TestMissingRoleIsExplained(t *testing.T) {
	s := system(t)
	s.tenant(t, nsDenied, noRoleMI, noRoleMIID)
	s.push(t, "tenant-denied/manifests", "1.0.0", map[string]string{"a.yaml": "a: 1\n"})

	obj := ociRepository(nsDenied, "tenant-denied/manifests", "1.0.0", true)
	if err := s.env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, obj, "AuthenticationFailed", func() bool { _, reason, _ := readyStatus(obj); return reason == sourcev1.AuthenticationFailedReason })
	_, _, msg := readyStatus(obj)
	t.Logf("Ready=False AuthenticationFailed: %s", msg)
	for _, want := range []string{noRoleMIID, `"AcrPull"`, "the registry azimuthlocal", "az role assignment create --assignee " + noRoleMIID} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// TestFeatureGateOff: with the gate off, naming a service account stalls the object with
// FeatureGateDisabled and says how to enable it.
func TestFeatureGateOff(t *testing.T) {
	s := system(t)
	s.tenant(t, nsGateOff, controllerMI, controllerID)
	obj := ociRepository(nsGateOff, "tenant-wi/manifests", "1.0.0", true)
	if err := s.env.Client.Create(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, obj, "Stalled", func() bool { _, reason, _ := readyStatus(obj); return reason == meta.FeatureGateDisabledReason })
	_, _, msg := readyStatus(obj)
	if !strings.Contains(msg, "--feature-gates=ObjectLevelWorkloadIdentity=true") {
		t.Fatalf("message %q does not say how to enable the gate", msg)
	}
	stalled := false
	for _, c := range obj.Status.Conditions {
		stalled = stalled || (c.Type == meta.StalledCondition && c.Status == metav1.ConditionTrue)
	}
	if !stalled {
		t.Fatalf("not Stalled: %s", describe(obj.Status.Conditions))
	}
}

// TestImagePolicyFollowsNewTags: an ImageRepository scanned with the node's managed identity
// (no service account: the controller's own identity) feeds an ImagePolicy, which moves to a
// newer tag once it is pushed and a reconcile is requested with reconcile.fluxcd.io/requestedAt.
func TestImagePolicyFollowsNewTags(t *testing.T) {
	s := system(t)
	s.tenant(t, nsPolicy, "", controllerID)
	for _, tag := range []string{"1.0.0", "1.1.0", "2.0.0-rc.1"} {
		s.push(t, "tenant-policy/app", tag, map[string]string{"x": tag})
	}
	repo := &imagev1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsPolicy, Name: "app"},
		Spec:       imagev1.ImageRepositorySpec{Image: registryHost + "/tenant-policy/app", Provider: imagev1.AzureProvider, Interval: metav1.Duration{Duration: time.Hour}},
	}
	policy := &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: nsPolicy, Name: "app"},
		Spec: imagev1.ImagePolicySpec{
			ImageRepositoryRef: meta.NamespacedObjectReference{Name: "app"},
			Policy:             imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
		},
	}
	for _, o := range []client.Object{repo, policy} {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	s.waitFor(t, policy, "latest 1.1.0", func() bool { return policy.Status.LatestRef != nil && policy.Status.LatestRef.Tag == "1.1.0" })
	if repo := repo; s.env.Client.Get(t.Context(), client.ObjectKeyFromObject(repo), repo) == nil && (repo.Status.LastScanResult == nil || repo.Status.LastScanResult.TagCount != 3) {
		t.Fatalf("scan result = %+v, want 3 tags", repo.Status.LastScanResult)
	}

	s.push(t, "tenant-policy/app", "1.2.0", map[string]string{"x": "1.2.0"})
	requested := time.Now().Format(time.RFC3339Nano)
	patch := client.MergeFrom(repo.DeepCopy())
	repo.Annotations = map[string]string{meta.ReconcileRequestAnnotation: requested}
	if err := s.env.Client.Patch(t.Context(), repo, patch); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, repo, "the requested reconcile", func() bool { return repo.Status.LastHandledReconcileAt == requested })
	s.waitFor(t, policy, "latest 1.2.0", func() bool { return policy.Status.LatestRef != nil && policy.Status.LatestRef.Tag == "1.2.0" })
	if prev := policy.Status.ObservedPreviousRef; prev == nil || prev.Tag != "1.1.0" {
		t.Fatalf("observedPreviousRef = %+v, want tag 1.1.0", prev)
	}
	if want := registryHost + "/tenant-policy/app"; policy.Status.LatestRef.Name != want {
		t.Fatalf("latestRef.name = %q, want %q", policy.Status.LatestRef.Name, want)
	}
}

func tarNames(t *testing.T, data []byte) string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			return strings.Join(names, " ")
		}
		names = append(names, h.Name)
	}
}
