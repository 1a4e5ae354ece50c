package v1

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func TestBucketInScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []runtime.Object{&Bucket{}, &BucketList{}} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0].GroupVersion() != GroupVersion {
			t.Errorf("%T: kinds %v, %v", obj, gvks, err)
		}
	}
	if gvks, _, _ := s.ObjectKinds(&Bucket{}); len(gvks) == 1 && gvks[0].Kind != BucketKind {
		t.Errorf("kind %q, want %q", gvks[0].Kind, BucketKind)
	}
}

// A Bucket as Flux's documentation writes one for Azure Blob Storage decodes unchanged; one with
// a field Azimuth leaves out (S3's region) does not.
func TestBucketFluxManifestDecodes(t *testing.T) {
	const manifest = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 5m0s
  provider: azure
  bucketName: podinfo
  endpoint: https://podinfoaccount.blob.core.windows.net
  prefix: deploy/
  timeout: 30s
  secretRef:
    name: azure-key
  proxySecretRef:
    name: proxy
  ignore: |
    *.md
status:
  observedGeneration: 2
  url: http://source-controller/bucket/default/podinfo/latest.tar.gz
  observedIgnore: |
    *.md
  artifact:
    path: bucket/default/podinfo/b3b00fe.tar.gz
    url: http://source-controller/bucket/default/podinfo/b3b00fe.tar.gz
    revision: sha256:b3b00fe35424a45d373bf4c7214178bc36fd7872312564d7f38a6d1b4a2b1e12
    digest: sha256:abc
    lastUpdateTime: "2026-01-01T00:00:00Z"
`
	var b Bucket
	if err := yaml.UnmarshalStrict([]byte(manifest), &b); err != nil {
		t.Fatal(err)
	}
	if b.GetProvider() != AzureBucketProvider || b.Spec.BucketName != "podinfo" || b.Spec.Prefix != "deploy/" ||
		b.GetTimeout() != 30*time.Second || b.GetRequeueAfter() != 5*time.Minute || b.Spec.SecretRef.Name != "azure-key" {
		t.Errorf("spec = %+v", b.Spec)
	}
	if a := b.GetArtifact(); a == nil || a.Revision[:7] != "sha256:" {
		t.Errorf("artifact = %+v", a)
	}
	b.SetObserved(3, "now")
	if b.Status.ObservedGeneration != 3 || b.Status.LastHandledReconcileAt != "now" {
		t.Errorf("SetObserved: %+v", b.Status)
	}

	var empty Bucket
	if empty.GetProvider() != GenericBucketProvider || empty.GetTimeout() != DefaultBucketTimeout {
		t.Errorf("defaults: provider %q, timeout %v", empty.GetProvider(), empty.GetTimeout())
	}
	const s3 = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nspec:\n  region: us-east-1\n"
	if err := yaml.UnmarshalStrict([]byte(s3), &Bucket{}); err == nil {
		t.Error("spec.region decoded; Azimuth does not implement it")
	}
}
