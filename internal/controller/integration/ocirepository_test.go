package integration_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/static"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

func ociRepositoryCases() []testCase {
	return []testCase{
		{"Tag", testOCITag},
		{"Ignore", testOCIIgnore},
		{"LayerSelector", testOCILayerSelector},
		{"SemVer", testOCISemVer},
		{"Digest", testOCIDigest},
		{"MissingTag", testOCIMissingTag},
		{"InvalidURL", testOCIInvalidURL},
		{"FeatureGateDisabled", testOCIFeatureGateDisabled},
		{"Delete", testOCIDelete},
		{"Suspend", testOCISuspend},
		{"TLS", testOCITLS},
		{"MutualTLS", testOCIMutualTLS},
		{"PullSecret", testOCIPullSecret},
	}
}

// ociRepository is an OCIRepository that checks every hour, so that only the test makes it
// reconcile again.
func ociRepository(namespace, name string, spec sourcev1.OCIRepositorySpec) *sourcev1.OCIRepository {
	spec.Interval = metav1.Duration{Duration: time.Hour}
	return &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
}

// fetchArtifact downloads the artifact from the manager's artifact server, and checks it
// against the digest and size in status.
func fetchArtifact(t *testing.T, a *meta.Artifact) []byte {
	t.Helper()
	body := get(t, a.URL)
	if got := sha256Digest(body); got != a.Digest {
		t.Errorf("the served artifact has digest %s, status.artifact.digest says %s", got, a.Digest)
	}
	if a.Size == nil || *a.Size != int64(len(body)) {
		t.Errorf("the served artifact has %d bytes, status.artifact.size says %v", len(body), a.Size)
	}
	return body
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %q: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return body
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (h *harness) artifactFile(a *meta.Artifact) string {
	return filepath.Join(h.storageRoot, filepath.FromSlash(a.Path))
}

func expectRevision(t *testing.T, obj *sourcev1.OCIRepository, want string) *meta.Artifact {
	t.Helper()
	if a := obj.Status.Artifact; a == nil || a.Revision != want {
		t.Fatalf("status.artifact = %+v, want revision %s", a, want)
	}
	return obj.Status.Artifact
}

func expectFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Fatalf("the artifact holds %v, want %v", got, want)
	}
}

// A tag is pulled and served; a reconcile that finds the same revision leaves the artifact
// alone; a tag pushed again is pulled again.
func testOCITag(t *testing.T, h *harness) {
	ns := h.namespace(t)
	files := map[string]string{"deploy/app.yaml": "kind: ConfigMap\n", "deploy/svc.yaml": "kind: Service\n"}
	d := pushArtifact(t, h.reg.open+"/"+ns+"/app:v1", map[string]string{"org.opencontainers.image.revision": "main@sha1:0123abcd"}, contentLayer(t, files))
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{
		URL: "oci://" + h.reg.open + "/" + ns + "/app", Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}, Insecure: true,
	})
	h.create(t, obj)
	h.waitFor(t, obj, "Ready", ready(obj))

	revision := "v1@" + d.String()
	a := expectRevision(t, obj, revision)
	expectCondition(t, obj, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, meta.SucceededReason)
	for _, c := range []string{sourcev1.FetchFailedCondition, meta.ReconcilingCondition, meta.StalledCondition} {
		if condition(obj, c) != nil {
			t.Errorf("condition %s is present on a Ready object: %+v", c, condition(obj, c))
		}
	}
	if obj.Status.ObservedGeneration != obj.Generation {
		t.Errorf("status.observedGeneration = %d, want %d", obj.Status.ObservedGeneration, obj.Generation)
	}
	if got := sha256Digest(get(t, obj.Status.URL)); got != a.Digest {
		t.Errorf("status.url %q serves content of digest %s, want the latest artifact's %s", obj.Status.URL, got, a.Digest)
	}
	if a.Metadata["org.opencontainers.image.revision"] != "main@sha1:0123abcd" {
		t.Errorf("status.artifact.metadata = %v, want the manifest's annotations", a.Metadata)
	}
	if !controllerutil.ContainsFinalizer(obj, sourcev1.SourceFinalizer) {
		t.Errorf("finalizers = %v, want %s", obj.Finalizers, sourcev1.SourceFinalizer)
	}
	expectUnchangedSpec(t, obj)
	expectFiles(t, untar(t, fetchArtifact(t, a)), files)
	h.waitEvent(t, obj, sourcev1.OCIRepositoryKind, "Normal", sourcev1.NewArtifactReason, revision)

	// The same revision again: nothing is written.
	before, err := os.Stat(h.artifactFile(a))
	if err != nil {
		t.Fatal(err)
	}
	token := h.requestReconcile(t, obj)
	h.waitFor(t, obj, "the reconcile request is handled", func() bool { return obj.Status.LastHandledReconcileAt == token })
	after, err := os.Stat(h.artifactFile(a))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("an unchanged revision rewrote the artifact file")
	}
	if b := obj.Status.Artifact; b == nil || !b.LastUpdateTime.Equal(&a.LastUpdateTime) || b.Digest != a.Digest {
		t.Errorf("an unchanged revision changed status.artifact from %+v to %+v", a, b)
	}

	// The tag now names other content: a new revision.
	files2 := map[string]string{"deploy/app.yaml": "kind: ConfigMap\ndata: {v: '2'}\n"}
	d2 := pushArtifact(t, h.reg.open+"/"+ns+"/app:v1", nil, contentLayer(t, files2))
	h.requestReconcile(t, obj)
	revision2 := "v1@" + d2.String()
	h.waitFor(t, obj, "the new revision is stored", func() bool { return ready(obj)() && obj.Status.Artifact.HasRevision(revision2) })
	expectFiles(t, untar(t, fetchArtifact(t, obj.Status.Artifact)), files2)
	h.waitEvent(t, obj, sourcev1.OCIRepositoryKind, "Normal", "", revision2)
}

// spec.ignore leaves files out, and a change of it rebuilds the artifact of the same revision.
func testOCIIgnore(t *testing.T, h *harness) {
	ns := h.namespace(t)
	files := map[string]string{"app.yaml": "kind: Deployment\n", "secrets/key.txt": "k", "docs/guide.md": "# guide", "README.md": "# app"}
	pushArtifact(t, h.reg.open+"/"+ns+"/app:latest", nil, contentLayer(t, files))
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{
		URL: "oci://" + h.reg.open + "/" + ns + "/app", Insecure: true, Ignore: new("secrets/\n*.md\n"),
	})
	h.create(t, obj)
	h.waitFor(t, obj, "Ready", ready(obj))
	if !strings.HasPrefix(obj.Status.Artifact.Revision, "latest@sha256:") {
		t.Errorf("revision %s: with no spec.ref the tag latest is pulled", obj.Status.Artifact.Revision)
	}
	expectFiles(t, untar(t, fetchArtifact(t, obj.Status.Artifact)), map[string]string{"app.yaml": "kind: Deployment\n"})

	h.update(t, obj, func() { obj.Spec.Ignore = new("secrets/") })
	h.waitFor(t, obj, "the new ignore rules are applied", func() bool {
		return ready(obj)() && obj.Status.ObservedIgnore != nil && *obj.Status.ObservedIgnore == "secrets/"
	})
	delete(files, "secrets/key.txt")
	expectFiles(t, untar(t, fetchArtifact(t, obj.Status.Artifact)), files)
}

// layerSelector picks a layer by media type, and copy stores it byte for byte.
func testOCILayerSelector(t *testing.T, h *harness) {
	ns := h.namespace(t)
	chartFiles := map[string]string{"podinfo/Chart.yaml": "name: podinfo\n"}
	chart := tarGz(t, chartFiles)
	chartLayer := static.NewLayer(chart, helmChartType)
	d := pushArtifact(t, h.reg.open+"/"+ns+"/chart:1.0.0", nil, contentLayer(t, map[string]string{"other.yaml": "x"}), chartLayer)
	spec := func(sel sourcev1.OCILayerSelector) sourcev1.OCIRepositorySpec {
		return sourcev1.OCIRepositorySpec{
			URL: "oci://" + h.reg.open + "/" + ns + "/chart", Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"}, Insecure: true, LayerSelector: &sel,
		}
	}
	copied := ociRepository(ns, "copy", spec(sourcev1.OCILayerSelector{MediaType: string(helmChartType), Operation: sourcev1.OCILayerCopy}))
	extracted := ociRepository(ns, "extract", spec(sourcev1.OCILayerSelector{MediaType: string(helmChartType)}))
	absent := ociRepository(ns, "absent", spec(sourcev1.OCILayerSelector{MediaType: "application/vnd.example.absent"}))
	h.create(t, copied, extracted, absent)

	h.waitFor(t, copied, "Ready", ready(copied))
	a := expectRevision(t, copied, "1.0.0@"+d.String())
	layerDigest := digest(t, chartLayer).String()
	if a.Digest != layerDigest {
		t.Errorf("status.artifact.digest = %s, want the layer's digest %s", a.Digest, layerDigest)
	}
	stored, err := os.ReadFile(h.artifactFile(a))
	if err != nil {
		t.Fatal(err)
	}
	if sha256Digest(stored) != layerDigest {
		t.Errorf("the stored file's digest is %s, want the layer's %s", sha256Digest(stored), layerDigest)
	}
	if !bytes.Equal(fetchArtifact(t, a), chart) {
		t.Error("the served artifact is not the layer as pushed")
	}

	h.waitFor(t, extracted, "Ready", ready(extracted))
	expectFiles(t, untar(t, fetchArtifact(t, extracted.Status.Artifact)), chartFiles)

	h.waitFor(t, absent, "the layer is not found", is(absent, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.OCILayerOperationFailedReason))
	expectCondition(t, absent, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCILayerOperationFailedReason)
}

// ref.semver picks the highest tag in range (among those semverFilter matches), and moves to a
// newer tag when a reconcile is requested.
func testOCISemVer(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := h.reg.open + "/" + ns + "/app"
	digests := map[string]string{}
	for _, tag := range []string{"1.0.0", "1.1.0", "1.2.0-rc.1", "1.2.0", "2.0.0", "latest"} {
		digests[tag] = pushArtifact(t, repo+":"+tag, nil, contentLayer(t, map[string]string{"version": tag})).String()
	}
	stable := ociRepository(ns, "stable", sourcev1.OCIRepositorySpec{
		URL: "oci://" + repo, Insecure: true, Reference: &sourcev1.OCIRepositoryRef{SemVer: "<2.0.0", Tag: "2.0.0"},
	})
	rc := ociRepository(ns, "rc", sourcev1.OCIRepositorySpec{
		URL: "oci://" + repo, Insecure: true, Reference: &sourcev1.OCIRepositoryRef{SemVer: ">=1.0.0-0 <2.0.0", SemverFilter: `-rc\.`},
	})
	h.create(t, stable, rc)

	h.waitFor(t, stable, "Ready", ready(stable))
	expectRevision(t, stable, "1.2.0@"+digests["1.2.0"])
	expectFiles(t, untar(t, fetchArtifact(t, stable.Status.Artifact)), map[string]string{"version": "1.2.0"})
	h.waitFor(t, rc, "Ready", ready(rc))
	expectRevision(t, rc, "1.2.0-rc.1@"+digests["1.2.0-rc.1"])

	newer := pushArtifact(t, repo+":1.3.0", nil, contentLayer(t, map[string]string{"version": "1.3.0"}))
	token := h.requestReconcile(t, stable)
	want := "1.3.0@" + newer.String()
	h.waitFor(t, stable, "the newer tag is stored", func() bool { return ready(stable)() && stable.Status.Artifact.HasRevision(want) })
	if stable.Status.LastHandledReconcileAt != token {
		t.Errorf("status.lastHandledReconcileAt = %q, want %q", stable.Status.LastHandledReconcileAt, token)
	}
	expectFiles(t, untar(t, fetchArtifact(t, stable.Status.Artifact)), map[string]string{"version": "1.3.0"})
	h.waitEvent(t, stable, sourcev1.OCIRepositoryKind, "Normal", "", want)
}

// ref.digest pulls that manifest, whatever the other fields say.
func testOCIDigest(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := h.reg.open + "/" + ns + "/app"
	d1 := pushArtifact(t, repo+":v1", nil, contentLayer(t, map[string]string{"v": "1"}))
	pushArtifact(t, repo+":v2", nil, contentLayer(t, map[string]string{"v": "2"}))
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{
		URL: "oci://" + repo, Insecure: true, Reference: &sourcev1.OCIRepositoryRef{Digest: d1.String(), Tag: "v2", SemVer: ">=0.0.0"},
	})
	h.create(t, obj)
	h.waitFor(t, obj, "Ready", ready(obj))
	expectRevision(t, obj, d1.String())
	expectFiles(t, untar(t, fetchArtifact(t, obj.Status.Artifact)), map[string]string{"v": "1"})
}

// A missing tag is a pull failure that is retried, with a Warning event; once the tag exists
// the object recovers.
func testOCIMissingTag(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := h.reg.open + "/" + ns + "/app"
	pushArtifact(t, repo+":v1", nil, contentLayer(t, map[string]string{"v": "1"}))
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{URL: "oci://" + repo, Insecure: true, Reference: &sourcev1.OCIRepositoryRef{Tag: "v9"}})
	h.create(t, obj)
	h.waitFor(t, obj, "the pull fails", is(obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.OCIPullFailedReason))
	expectCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCIPullFailedReason)
	expectCondition(t, obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason)
	if c := condition(obj, meta.StalledCondition); c != nil {
		t.Errorf("a missing tag stalled the object: %+v", c)
	}
	if obj.Status.Artifact != nil {
		t.Errorf("status.artifact = %+v, want none", obj.Status.Artifact)
	}
	h.waitEvent(t, obj, sourcev1.OCIRepositoryKind, "Warning", sourcev1.OCIPullFailedReason, repo)

	d := pushArtifact(t, repo+":v9", nil, contentLayer(t, map[string]string{"v": "9"}))
	h.requestReconcile(t, obj)
	h.waitFor(t, obj, "Ready", ready(obj))
	expectRevision(t, obj, "v9@"+d.String())
	if c := condition(obj, sourcev1.FetchFailedCondition); c != nil {
		t.Errorf("FetchFailed stays after a successful pull: %+v", c)
	}
	h.waitEvent(t, obj, sourcev1.OCIRepositoryKind, "Normal", "", "v9@")
}

// A URL that names no valid repository stalls the object.
func testOCIInvalidURL(t *testing.T, h *harness) {
	ns := h.namespace(t)
	for name, url := range map[string]string{
		"upper-case": "oci://" + h.reg.open + "/" + ns + "/Not_Valid",
		"with-tag":   "oci://" + h.reg.open + "/" + ns + "/app:v1",
	} {
		obj := ociRepository(ns, name, sourcev1.OCIRepositorySpec{URL: url, Insecure: true})
		h.create(t, obj)
		h.waitFor(t, obj, "stalled", stalled(obj, sourcev1.URLInvalidReason))
		if obj.Status.Artifact != nil {
			t.Errorf("%s: status.artifact = %+v, want none", name, obj.Status.Artifact)
		}
	}
}

// provider azure with a service account needs the ObjectLevelWorkloadIdentity gate, which is
// off: the object stalls and says how to turn it on.
func testOCIFeatureGateDisabled(t *testing.T, h *harness) {
	ns := h.namespace(t)
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{
		URL: "oci://azimuth.azurecr.io/app", Provider: sourcev1.AzureOCIProvider, ServiceAccountName: "app",
	})
	h.create(t, obj)
	h.waitFor(t, obj, "stalled", stalled(obj, meta.FeatureGateDisabledReason))
	if msg := condition(obj, meta.ReadyCondition).Message; !strings.Contains(msg, "--feature-gates=ObjectLevelWorkloadIdentity=true") {
		t.Errorf("Ready message %q does not say how to enable the feature gate", msg)
	}
	h.waitEvent(t, obj, sourcev1.OCIRepositoryKind, "Warning", meta.FeatureGateDisabledReason, "ObjectLevelWorkloadIdentity")
}

// Deleting the object removes its artifacts, then its finalizer.
func testOCIDelete(t *testing.T, h *harness) {
	ns := h.namespace(t)
	pushArtifact(t, h.reg.open+"/"+ns+"/app:latest", nil, contentLayer(t, map[string]string{"a": "1"}))
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{URL: "oci://" + h.reg.open + "/" + ns + "/app", Insecure: true})
	h.create(t, obj)
	h.waitFor(t, obj, "Ready", ready(obj))
	if !controllerutil.ContainsFinalizer(obj, sourcev1.SourceFinalizer) {
		t.Fatalf("finalizers = %v, want %s", obj.Finalizers, sourcev1.SourceFinalizer)
	}
	dir := filepath.Dir(h.artifactFile(obj.Status.Artifact))
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	if err := h.client.Delete(t.Context(), obj); err != nil {
		t.Fatal(err)
	}
	h.waitGone(t, obj)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the object's artifact directory outlived it: stat = %v", err)
	}
}

// A suspended object handles reconcile requests without pulling anything.
func testOCISuspend(t *testing.T, h *harness) {
	ns := h.namespace(t)
	repo := h.reg.open + "/" + ns + "/app"
	d := pushArtifact(t, repo+":latest", nil, contentLayer(t, map[string]string{"v": "1"}))
	obj := ociRepository(ns, "app", sourcev1.OCIRepositorySpec{URL: "oci://" + repo, Insecure: true, Suspend: true})
	obj.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "first"}
	h.create(t, obj)
	h.waitFor(t, obj, "the reconcile request is handled", func() bool { return obj.Status.LastHandledReconcileAt == "first" })
	if obj.Status.Artifact != nil || condition(obj, meta.ReadyCondition) != nil {
		t.Fatalf("a suspended object was reconciled:\n%s", dump(obj))
	}
	if _, err := os.Stat(filepath.Join(h.storageRoot, "ocirepository", ns)); !os.IsNotExist(err) {
		t.Errorf("a suspended object stored something: stat = %v", err)
	}

	h.update(t, obj, func() { obj.Spec.Suspend = false })
	h.waitFor(t, obj, "Ready once resumed", ready(obj))
	revision := "latest@" + d.String()
	expectRevision(t, obj, revision)

	h.update(t, obj, func() { obj.Spec.Suspend = true })
	pushArtifact(t, repo+":latest", nil, contentLayer(t, map[string]string{"v": "2"}))
	token := h.requestReconcile(t, obj)
	h.waitFor(t, obj, "the reconcile request is handled", func() bool { return obj.Status.LastHandledReconcileAt == token })
	expectRevision(t, obj, revision)
}

// A registry with a private CA is trusted through spec.certSecretRef, and only then.
func testOCITLS(t *testing.T, h *harness) {
	ns := h.namespace(t)
	files := map[string]string{"app.yaml": "kind: Secret\n"}
	d := pushArtifact(t, h.reg.open+"/"+ns+"/app:v1", nil, contentLayer(t, files))
	h.create(t, h.reg.caSecret(ns, "registry-ca"))
	spec := sourcev1.OCIRepositorySpec{URL: "oci://" + secureHost + "/" + ns + "/app", Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}}
	trusting := ociRepository(ns, "trusting", spec)
	trusting.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "registry-ca"}
	untrusting := ociRepository(ns, "untrusting", spec)
	h.create(t, trusting, untrusting)

	h.waitFor(t, trusting, "Ready", ready(trusting))
	expectRevision(t, trusting, "v1@"+d.String())
	expectFiles(t, untar(t, fetchArtifact(t, trusting.Status.Artifact)), files)

	h.waitFor(t, untrusting, "the pull fails", is(untrusting, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.OCIPullFailedReason))
	if msg := condition(untrusting, meta.ReadyCondition).Message; !strings.Contains(msg, "add that CA to 'ca.crt'") {
		t.Errorf("Ready message %q does not say where the registry's CA goes", msg)
	}
}

// A registry that requires a client certificate is reached with the one in spec.certSecretRef
// (tls.crt and tls.key, with the registry's CA in ca.crt), and refuses an object without it.
func testOCIMutualTLS(t *testing.T, h *harness) {
	ns := h.namespace(t)
	files := map[string]string{"app.yaml": "kind: ConfigMap\n"}
	d := pushArtifact(t, h.reg.open+"/"+ns+"/app:v1", nil, contentLayer(t, files))
	h.create(t, h.reg.clientSecret(ns, "client-tls"), h.reg.caSecret(ns, "registry-ca"))
	spec := sourcev1.OCIRepositorySpec{URL: "oci://" + mutualHost + "/" + ns + "/app", Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}}
	withCert := ociRepository(ns, "with-cert", spec)
	withCert.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "client-tls"}
	caOnly := ociRepository(ns, "ca-only", spec)
	caOnly.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "registry-ca"}
	h.create(t, withCert, caOnly)

	h.waitFor(t, withCert, "Ready", ready(withCert))
	expectRevision(t, withCert, "v1@"+d.String())
	expectFiles(t, untar(t, fetchArtifact(t, withCert.Status.Artifact)), files)
	h.waitFor(t, caOnly, "the pull fails", is(caOnly, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.OCIPullFailedReason))
	if msg := condition(caOnly, meta.ReadyCondition).Message; !strings.Contains(msg, "'tls.crt' and 'tls.key'") {
		t.Errorf("Ready message %q does not say where the client certificate goes", msg)
	}
}

// spec.secretRef gives the credentials a private registry asks for.
func testOCIPullSecret(t *testing.T, h *harness) {
	ns := h.namespace(t)
	d := pushArtifact(t, h.reg.open+"/"+ns+"/app:v1", nil, contentLayer(t, map[string]string{"a": "1"}))
	h.create(t, h.reg.pullSecret(ns, "pull"))
	spec := sourcev1.OCIRepositorySpec{URL: "oci://" + h.reg.private + "/" + ns + "/app", Reference: &sourcev1.OCIRepositoryRef{Tag: "v1"}, Insecure: true}
	anonymous := ociRepository(ns, "anonymous", spec)
	authenticated := ociRepository(ns, "authenticated", spec)
	authenticated.Spec.SecretRef = &meta.LocalObjectReference{Name: "pull"}
	h.create(t, anonymous, authenticated)

	h.waitFor(t, authenticated, "Ready", ready(authenticated))
	expectRevision(t, authenticated, "v1@"+d.String())
	h.waitFor(t, anonymous, "refused", is(anonymous, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.AuthenticationFailedReason))
	expectCondition(t, anonymous, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason)
}
