package v1

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func TestGitRepositoryInScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []runtime.Object{&GitRepository{}, &GitRepositoryList{}} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0].GroupVersion() != GroupVersion {
			t.Errorf("%T: kinds %v, %v", obj, gvks, err)
		}
	}
	if gvks, _, _ := s.ObjectKinds(&GitRepository{}); len(gvks) == 1 && gvks[0].Kind != GitRepositoryKind {
		t.Errorf("kind %q, want %q", gvks[0].Kind, GitRepositoryKind)
	}
}

// A GitRepository written for Flux with the fields Azimuth implements decodes unchanged; one
// with a field Azimuth leaves out does not.
func TestGitRepositoryFluxManifestDecodes(t *testing.T) {
	const manifest = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 5m
  timeout: 90s
  url: https://dev.azure.com/contoso/platform/_git/fleet
  provider: azure
  serviceAccountName: fleet-reader
  proxySecretRef:
    name: proxy
  ref:
    branch: main
    commit: 6f0c6c4b1f1d2d3c2b8e9d7e2a3b4c5d6e7f8a9b
  ignore: |
    /*
    !/deploy
status:
  observedGeneration: 3
  lastHandledReconcileAt: "2026-01-01T00:00:00Z"
  artifact:
    path: gitrepository/flux-system/fleet/6f0c6c4b.tar.gz
    url: http://source-controller/gitrepository/flux-system/fleet/6f0c6c4b.tar.gz
    revision: main@sha1:6f0c6c4b1f1d2d3c2b8e9d7e2a3b4c5d6e7f8a9b
    digest: sha256:abc
    lastUpdateTime: "2026-01-01T00:00:00Z"
    size: 1024
  observedIgnore: |
    /*
    !/deploy
`
	var o GitRepository
	if err := yaml.UnmarshalStrict([]byte(manifest), &o); err != nil {
		t.Fatal(err)
	}
	if o.GetProvider() != AzureGitProvider || o.Spec.ServiceAccountName != "fleet-reader" ||
		o.GetTimeout() != 90*time.Second || o.GetRequeueAfter() != 5*time.Minute ||
		o.Spec.Reference.Branch != "main" || !o.GetArtifact().HasRevision("main@sha1:6f0c6c4b1f1d2d3c2b8e9d7e2a3b4c5d6e7f8a9b") {
		t.Errorf("decoded %+v", o)
	}
	// Fields Azimuth does not implement yet are not in its schema.
	for _, field := range []string{"spec:\n  gitImplementation: go-git\n", "spec:\n  accessFrom: {}\n"} {
		if err := yaml.UnmarshalStrict([]byte(field), &GitRepository{}); err == nil {
			t.Errorf("%q decoded; Azimuth does not implement it", field)
		}
	}
}

func TestGitRepositoryDefaults(t *testing.T) {
	var o GitRepository
	if o.GetProvider() != GenericGitProvider || o.GetTimeout() != DefaultGitTimeout ||
		o.GetArtifact() != nil || o.Suspended() {
		t.Errorf("zero object defaults: %+v", o)
	}
	o.Spec.Suspend = true
	o.SetObserved(4, "")
	o.SetObserved(5, "t1")
	o.SetObserved(6, "")
	if !o.Suspended() || o.Status.ObservedGeneration != 6 || o.Status.LastHandledReconcileAt != "t1" {
		t.Errorf("observed %+v", o.Status)
	}
	o.SetConditions([]metav1.Condition{{Type: "Ready"}})
	c := o.DeepCopy()
	c.Status.Conditions[0].Type = "Changed"
	if len(o.GetConditions()) != 1 || o.Status.Conditions[0].Type != "Ready" {
		t.Error("DeepCopy shares conditions")
	}
}
