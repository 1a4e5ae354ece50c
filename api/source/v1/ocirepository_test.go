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
	for _, obj := range []runtime.Object{&OCIRepository{}, &OCIRepositoryList{}} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0].GroupVersion() != GroupVersion {
			t.Errorf("%T: kinds %v, %v", obj, gvks, err)
		}
	}
}

// A manifest written for Flux with the fields Azimuth implements decodes
// unchanged; one with a field Azimuth leaves out does not.
func TestFluxManifestDecodes(t *testing.T) {
	const manifest = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m
  timeout: 90s
  url: oci://myregistry.azurecr.io/podinfo
  provider: azure
  serviceAccountName: podinfo-puller
  ref:
    semver: ">=6.0.0"
    semverFilter: ".*-rc.*"
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  ignore: |
    /*
    !/deploy
status:
  observedGeneration: 3
  lastHandledReconcileAt: "2026-01-01T00:00:00Z"
  artifact:
    path: ocirepository/flux-system/podinfo/sha256:abc.tar.gz
    url: http://source-controller/ocirepository/flux-system/podinfo/sha256:abc.tar.gz
    revision: 6.1.0@sha256:abc
    digest: sha256:abc
    lastUpdateTime: "2026-01-01T00:00:00Z"
    size: 1024
`
	var o OCIRepository
	if err := yaml.UnmarshalStrict([]byte(manifest), &o); err != nil {
		t.Fatal(err)
	}
	if o.Spec.Reference.SemverFilter != ".*-rc.*" || o.GetLayerOperation() != OCILayerCopy ||
		o.GetTimeout() != 90*time.Second || o.GetRequeueAfter() != 5*time.Minute ||
		o.Status.LastHandledReconcileAt == "" || *o.Status.Artifact.Size != 1024 {
		t.Errorf("decoded %+v", o)
	}
	if err := yaml.UnmarshalStrict([]byte("spec:\n  verify:\n    provider: cosign\n"), &OCIRepository{}); err == nil {
		t.Error("spec.verify decoded; Azimuth does not implement it")
	}
}

func TestDefaults(t *testing.T) {
	var o OCIRepository
	if o.GetProvider() != GenericOCIProvider || o.GetTimeout() != DefaultOCITimeout ||
		o.GetLayerOperation() != OCILayerExtract || o.GetLayerMediaType() != "" || o.GetArtifact() != nil {
		t.Errorf("zero object defaults: %+v", o)
	}
	o.SetConditions([]metav1.Condition{{Type: "Ready"}})
	if len(o.GetConditions()) != 1 {
		t.Error("SetConditions did not set")
	}
	c := o.DeepCopy()
	c.Status.Conditions[0].Type = "Changed"
	if o.Status.Conditions[0].Type != "Ready" {
		t.Error("DeepCopy shares conditions")
	}
}
