package v1beta2

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v1 "github.com/azimuth-gitops/azimuth/api/source/v1"
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
}

// A GitRepository as Flux 2.5 and earlier wrote it at v1beta2 decodes, and reads the same at v1
// (the API server's conversion None only relabels it).
func TestGitRepositoryV1beta2RoundTrip(t *testing.T) {
	const manifest = `
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: fleet
spec:
  interval: 1m0s
  url: https://dev.azure.com/contoso/platform/_git/fleet
  secretRef:
    name: fleet-pat
  ref:
    semver: 1.x
`
	var old GitRepository
	if err := yaml.UnmarshalStrict([]byte(manifest), &old); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	var cur v1.GitRepository
	if err := json.Unmarshal(data, &cur); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cur.Spec, old.Spec) ||
		cur.Spec.Reference.SemVer != "1.x" || cur.GetProvider() != v1.GenericGitProvider {
		t.Errorf("v1 reads %+v", cur.Spec)
	}
}
