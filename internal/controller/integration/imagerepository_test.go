package integration_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
)

func imageRepositoryCases() []testCase {
	return []testCase{
		{"Scan", testImageScan},
		{"ExclusionList", testImageExclusionList},
		{"PullSecret", testImagePullSecret},
	}
}

// imageRepository is an ImageRepository that scans every hour, so that only the test makes it
// scan again.
func imageRepository(namespace, name string, spec imagev1.ImageRepositorySpec) *imagev1.ImageRepository {
	spec.Interval = metav1.Duration{Duration: time.Hour}
	return &imagev1.ImageRepository{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
}

func expectScan(t *testing.T, obj *imagev1.ImageRepository, count int, latest []string) {
	t.Helper()
	r := obj.Status.LastScanResult
	if r == nil || r.TagCount != count || !slices.Equal(r.LatestTags, latest) || r.ScanTime.IsZero() {
		t.Fatalf("status.lastScanResult = %+v, want tagCount %d and latestTags %v", r, count, latest)
	}
}

// A scan counts the tags, shows the ten last in reverse order, and leaves out cosign
// signatures by default.
func testImageScan(t *testing.T, h *harness) {
	ns := h.namespace(t)
	image := h.reg.open + "/" + ns + "/app"
	tags := []string{"sha256-1f2e.sig", "sha256-3d4c.sig"}
	for i := range 12 {
		tags = append(tags, "v"+strconv.Itoa(i))
	}
	pushImage(t, image, tags...)
	obj := &imagev1.ImageRepository{}
	h.createAsWritten(t, obj, fmt.Sprintf(`
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {namespace: %s, name: app}
spec: {image: %q, interval: 1h, insecure: true}
`, ns, image))
	h.waitFor(t, obj, "Ready", ready(obj))

	expectScan(t, obj, 12, []string{"v9", "v8", "v7", "v6", "v5", "v4", "v3", "v2", "v11", "v10"})
	if obj.Status.CanonicalImageName != image {
		t.Errorf("status.canonicalImageName = %q, want %q", obj.Status.CanonicalImageName, image)
	}
	if !slices.Equal(obj.Status.ObservedExclusionList, []string{`^.*\.sig$`}) {
		t.Errorf("status.observedExclusionList = %v, want the default", obj.Status.ObservedExclusionList)
	}
	if msg := condition(obj, meta.ReadyCondition).Message; !strings.Contains(msg, "12 tags") {
		t.Errorf("Ready message %q does not count the tags", msg)
	}
	if obj.Status.ObservedGeneration != obj.Generation {
		t.Errorf("status.observedGeneration = %d, want %d", obj.Status.ObservedGeneration, obj.Generation)
	}
	expectUnchangedSpec(t, obj)
	h.waitEvent(t, obj, imagev1.ImageRepositoryKind, "Normal", "", "12 tags")
}

// spec.exclusionList replaces the default list.
func testImageExclusionList(t *testing.T, h *harness) {
	ns := h.namespace(t)
	image := h.reg.open + "/" + ns + "/app"
	pushImage(t, image, "1.0.0", "dev-1", "dev-2", "sha256-aa.sig")
	obj := imageRepository(ns, "app", imagev1.ImageRepositorySpec{Image: image, Insecure: true, ExclusionList: []string{"^dev-"}})
	h.create(t, obj)
	h.waitFor(t, obj, "Ready", ready(obj))
	expectScan(t, obj, 2, []string{"sha256-aa.sig", "1.0.0"})
}

// A registry that asks for credentials refuses the anonymous scan; spec.secretRef gives them.
func testImagePullSecret(t *testing.T, h *harness) {
	ns := h.namespace(t)
	pushImage(t, h.reg.open+"/"+ns+"/app", "1.0.0", "1.1.0")
	obj := imageRepository(ns, "app", imagev1.ImageRepositorySpec{Image: h.reg.private + "/" + ns + "/app", Insecure: true})
	h.create(t, obj)
	h.waitFor(t, obj, "refused", is(obj, meta.ReadyCondition, metav1.ConditionFalse, imagev1.AuthenticationFailedReason))
	if obj.Status.LastScanResult != nil {
		t.Errorf("status.lastScanResult = %+v after a refused scan", obj.Status.LastScanResult)
	}
	h.waitEvent(t, obj, imagev1.ImageRepositoryKind, "Warning", imagev1.AuthenticationFailedReason, h.reg.private)

	h.create(t, h.reg.pullSecret(ns, "pull"))
	h.update(t, obj, func() { obj.Spec.SecretRef = &meta.LocalObjectReference{Name: "pull"} })
	h.waitFor(t, obj, "Ready", ready(obj))
	expectScan(t, obj, 2, []string{"1.1.0", "1.0.0"})
}
