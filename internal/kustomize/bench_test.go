package kustomize

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// BenchmarkBuild builds a generated kustomization of 1,000 ConfigMaps in 100 files of 10, the
// shape of a large plain-manifests directory. The krusty sub-benchmark runs kustomize alone on
// the same kustomization, as the reference: the difference is the cost of Build's own steps
// (generation, reference checks, the confined file system, the conversion of the output).
func BenchmarkBuild(b *testing.B) {
	root := b.TempDir()
	files := map[string]string{}
	for f := range 100 {
		var docs []string
		for d := range 10 {
			docs = append(docs, configMap(fmt.Sprintf("cm-%03d-%02d", f, d)))
		}
		files[fmt.Sprintf("apps/team-%02d/cms-%03d.yaml", f%10, f)] = strings.Join(docs, "---\n")
	}
	writeFiles(b, root, files)
	b.Run("Build", func(b *testing.B) { benchmarkBuild(b, root) })
	b.Run("krusty", func(b *testing.B) { benchmarkKrusty(b, root) })
}

func benchmarkBuild(b *testing.B, root string) {
	generated := filepath.Join(root, "apps", "kustomization.yaml")
	objects := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := os.Remove(generated); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		b.StartTimer()
		objs, err := Build(root, "apps", Options{TargetNamespace: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if objs[len(objs)-1].GetNamespace() != "bench" {
			b.Fatal("the target namespace was not applied")
		}
		objects += len(objs)
	}
	b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
}

func benchmarkKrusty(b *testing.B, root string) {
	if _, err := Build(root, "apps", Options{TargetNamespace: "bench"}); err != nil {
		b.Fatal(err) // leaves the generated kustomization for krusty
	}
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionNone,
		LoadRestrictions: types.LoadRestrictionsNone,
		PluginConfig:     types.DisabledPluginConfig(),
	})
	objects := 0
	b.ReportAllocs()
	for b.Loop() {
		m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root, "apps"))
		if err != nil {
			b.Fatal(err)
		}
		objects += m.Size()
	}
	b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
}

// BenchmarkSubstitute substitutes three variables in each of 1,000 Deployments.
func BenchmarkSubstitute(b *testing.B) {
	objs := make([]*unstructured.Unstructured, 1000)
	for i := range objs {
		objs[i] = object(b, strings.ReplaceAll(deployment, "name: ${app}", fmt.Sprintf("name: app-%d", i)))
	}
	vars := map[string]string{"replicas": "3", "registry": "ghcr.io/org", "region": "eu-west-1", "tag": "v1.2.3"}
	substituted := 0
	b.ReportAllocs()
	for b.Loop() {
		out, err := Substitute(objs, vars, true)
		if err != nil {
			b.Fatal(err)
		}
		for i, o := range out {
			if o == objs[i] {
				b.Fatal("an object was not substituted")
			}
		}
		substituted += len(out)
	}
	b.ReportMetric(float64(substituted)/float64(b.N), "objects/op")
}
