package install

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// FuzzRender feeds Render what users type into --namespace, --image and --components: it must
// refuse or render, never panic, and what it renders must be in the namespace and run the image.
func FuzzRender(f *testing.F) {
	f.Add("flux-system", "", "")
	f.Add("gitops", "myreg.azurecr.io/azimuth:v1.2.3", "workload-identity,multi-tenancy")
	f.Add("a", "localhost:5000/x/y@sha256:"+strings.Repeat("0", 64), "multi-tenancy")
	f.Add("-x", "UPPER:tag", "projected-token")
	f.Add("ns", "r.io/a:b@sha256:"+strings.Repeat("f", 64), "")
	f.Add(strings.Repeat("n", 64), "r.io/"+strings.Repeat("a/", 300)+"b:c", ",,")
	f.Fuzz(func(t *testing.T, namespace, image, components string) {
		var comps []string
		if components != "" {
			comps = strings.Split(components, ",")
		}
		objs, err := Render(Options{Namespace: namespace, Image: image, Components: comps})
		if err != nil {
			return
		}
		if namespace == "" {
			namespace = DefaultNamespace
		}
		for _, u := range objs {
			if ns := u.GetNamespace(); ns != "" && ns != namespace {
				t.Fatalf("%s/%s in %q, want %q", u.GetKind(), u.GetName(), ns, namespace)
			}
		}
		_, c := deployment(t, objs)
		if image == "" {
			return
		}
		want, _ := name.ParseReference(image)
		got, err := name.ParseReference(c.Image)
		if err != nil || got.Context() != want.Context() || got.Identifier() != want.Identifier() {
			t.Fatalf("--image %q runs %q (%v)", image, c.Image, err)
		}
	})
}
