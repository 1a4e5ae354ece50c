package v1

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func TestAddToScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []runtime.Object{&ImageRepository{}, &ImageRepositoryList{}, &ImagePolicy{}, &ImagePolicyList{}} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0].GroupVersion() != GroupVersion {
			t.Errorf("%T: kinds %v, %v", obj, gvks, err)
		}
	}
}

func TestFluxManifestsDecode(t *testing.T) {
	const repo = `
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: app, namespace: apps}
spec:
  image: myregistry.azurecr.io/app
  interval: 1m
  provider: azure
  exclusionList: ["^.*\\.sig$", "^dev-"]
status:
  canonicalImageName: myregistry.azurecr.io/app
  lastScanResult: {revision: abc, tagCount: 3, scanTime: "2026-01-01T00:00:00Z", latestTags: [v3, v2, v1]}
  observedExclusionList: ["^.*\\.sig$"]
`
	var r ImageRepository
	if err := yaml.UnmarshalStrict([]byte(repo), &r); err != nil {
		t.Fatal(err)
	}
	if r.GetProvider() != AzureProvider || len(r.GetExclusionList()) != 2 || r.Status.LastScanResult.TagCount != 3 {
		t.Errorf("decoded %+v", r)
	}
	const policy = `
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: app, namespace: apps}
spec:
  imageRepositoryRef: {name: app, namespace: apps}
  filterTags:
    pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)'
    extract: '$ts'
  policy:
    numerical: {order: asc}
  digestReflectionPolicy: Always
  interval: 10m
status:
  latestRef: {name: myregistry.azurecr.io/app, tag: main-abc-2, digest: "sha256:def"}
  observedPreviousRef: {name: myregistry.azurecr.io/app, tag: main-abc-1}
`
	var p ImagePolicy
	if err := yaml.UnmarshalStrict([]byte(policy), &p); err != nil {
		t.Fatal(err)
	}
	if p.GetInterval() != 10*time.Minute || p.Status.LatestRef.String() != "myregistry.azurecr.io/app:main-abc-2@sha256:def" ||
		p.Status.ObservedPreviousRef.String() != "myregistry.azurecr.io/app:main-abc-1" {
		t.Errorf("decoded %+v", p)
	}
}

func TestDefaults(t *testing.T) {
	var r ImageRepository
	r.Spec.Interval = metav1.Duration{Duration: 100 * time.Millisecond}
	if r.GetTimeout() != time.Second || r.GetExclusionList()[0] != `^.*\.sig$` || r.GetProvider() != GenericProvider {
		t.Errorf("ImageRepository defaults: %v %v %v", r.GetTimeout(), r.GetExclusionList(), r.GetProvider())
	}
	r.Spec.Timeout = &metav1.Duration{Duration: 30 * time.Second}
	if r.GetTimeout() != 30*time.Second {
		t.Errorf("timeout = %v", r.GetTimeout())
	}
	var p ImagePolicy
	if p.GetDigestReflectionPolicy() != ReflectNever || p.GetInterval() != 0 {
		t.Error("ImagePolicy zero defaults")
	}
	p.Spec.DigestReflectionPolicy = ReflectAlways
	if p.GetInterval() != DefaultDigestInterval || p.GetRequeueAfter() != DefaultDigestInterval {
		t.Errorf("Always without interval: %v", p.GetInterval())
	}
}
