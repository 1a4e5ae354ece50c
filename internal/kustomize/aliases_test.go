package kustomize

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
)

// bomb is a billion laughs: ten aliases of ten aliases, nine levels deep.
func bomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

const loop = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: loop\ndata: &d {a: *d}\n"

func TestBuildRefusesAliasBombs(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []string
	}{{
		name:  "loop in a generated kustomization",
		files: map[string]string{"loop.yaml": loop},
		want:  []string{"in 'loop.yaml'", "the alias '*d' at line 5 is inside the node it refers to"},
	}, {
		name:  "loop in a listed resource",
		files: map[string]string{"kustomization.yaml": "resources: [loop.yaml]\n", "loop.yaml": loop},
		want:  []string{"'loop.yaml' cannot be built", "inside the node it refers to"},
	}, {
		name:  "billion laughs",
		files: map[string]string{"kustomization.yaml": "resources: [bomb.yaml]\n", "bomb.yaml": bomb()},
		want:  []string{"'bomb.yaml' cannot be built", "more than 1000000 nodes"},
	}, {
		name:  "loop in an inline patch of the kustomization",
		files: map[string]string{"kustomization.yaml": "resources: [cm.yaml]\npatches:\n- patch: |\n    a: &a [*a]\n", "cm.yaml": configMap("a")},
		want:  []string{"in 'kustomization.yaml'", "inline patch"},
	}, {
		name:  "loop in spec.patches",
		files: map[string]string{"cm.yaml": configMap("a")},
		opts:  Options{Patches: []types.Patch{{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: a, x: *m}\n"}}},
		want:  []string{"inline patch"},
	}, {
		name:  "loop in an inline plugin configuration",
		files: map[string]string{"kustomization.yaml": "resources: [cm.yaml]\ntransformers:\n- |\n  apiVersion: builtin\n  kind: LabelTransformer\n  metadata: &m {name: x, y: *m}\n", "cm.yaml": configMap("a")},
		want:  []string{"in 'kustomization.yaml'"},
	}, {
		name:  "loop in a kustomization file",
		files: map[string]string{"kustomization.yaml": "resources: &r [*r]\n"},
		want:  []string{"kustomization.yaml", "inside the node it refers to"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			_, err := Build(root, "", tc.opts)
			wantBuildError(t, err, tc.want...)
		})
	}
}

func TestBuildKeepsOrdinaryAliases(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &l {app: web}\n  annotations: *l\ndata:\n  cron: '*/5 * * * *'\n"})
	objs, err := Build(root, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if objs[0].GetAnnotations()["app"] != "web" {
		t.Errorf("the alias was not inflated: %v", objs[0].Object)
	}
}

func TestSubstituteAliasInValue(t *testing.T) {
	obj := object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${v}\n")
	_, err := Substitute([]*unstructured.Unstructured{obj}, map[string]string{"v": "&a [*a, *a]"}, false)
	if err == nil {
		t.Fatal("a value holding a looping alias was accepted")
	}
}
