package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

func TestOwners(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layout layout
		labels map[string]string
		want   int // -1: no manager
	}{
		{"single takes a shard's object", single(), map[string]string{shardLabel: "shard-2"}, 0},
		{"single takes an unlabelled object", single(), nil, 0},
		{"shard-0", sharded(4, true), map[string]string{shardLabel: "shard-0"}, 0},
		{"shard-3", sharded(4, true), map[string]string{shardLabel: "shard-3"}, 3},
		{"main takes the unlabelled", sharded(4, true), map[string]string{"app": "x"}, 4},
		{"no main, nobody takes the unlabelled", sharded(4, false), nil, -1},
		{"decoy", sharded(4, true), map[string]string{shardLabel: decoyShard}, -1},
		{"a shard that does not run", sharded(2, true), map[string]string{shardLabel: "shard-3"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ownerOf(tc.layout, tc.labels)
			if err != nil || got != tc.want {
				t.Errorf("ownerOf = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	overlap := layout{name: "overlap", selectors: []string{"", shardLabel + "=shard-0"}}
	if _, err := ownerOf(overlap, map[string]string{shardLabel: "shard-0"}); err == nil {
		t.Error("two managers selecting one object: want an error")
	}
}

func TestWorkloadSplitsEvenly(t *testing.T) {
	w := workload{objects: 80, shards: 4, namespaces: 3, kustomizations: true, decoys: true, host: "r.azurecr.io"}
	perShard := map[string]int{}
	sources := map[string]string{} // namespace/name → shard
	var kusts []*kustomizev1.Kustomization
	for _, o := range w.build() {
		perShard[o.GetLabels()[shardLabel]]++
		switch o := o.(type) {
		case *sourcev1.OCIRepository:
			sources[o.Namespace+"/"+o.Name] = o.Labels[shardLabel]
		case *kustomizev1.Kustomization:
			kusts = append(kusts, o)
		}
	}
	want := map[string]int{"shard-0": 20, "shard-1": 20, "shard-2": 20, "shard-3": 20, decoyShard: 2}
	for k, n := range want {
		if perShard[k] != n {
			t.Errorf("%s: %d objects, want %d (all: %v)", k, perShard[k], n, perShard)
		}
	}
	if len(kusts) != 41 {
		t.Fatalf("%d Kustomizations, want 40 and the decoy", len(kusts))
	}
	for _, k := range kusts {
		src, ok := sources[k.Namespace+"/"+k.Spec.SourceRef.Name]
		switch {
		case !ok:
			t.Errorf("Kustomization %s: no source %s in its namespace", k.Name, k.Spec.SourceRef.Name)
		case k.Name != "decoy" && src == k.Labels[shardLabel]:
			t.Errorf("Kustomization %s is in its source's shard %s: it would not fetch across shards", k.Name, src)
		}
	}
}

func TestWorkloadWithoutKustomizations(t *testing.T) {
	objs := workload{objects: 12, shards: 4, namespaces: 2}.build()
	if len(objs) != 12 {
		t.Fatalf("%d objects, want 12", len(objs))
	}
	for _, o := range objs {
		if _, ok := o.(*sourcev1.OCIRepository); !ok {
			t.Errorf("%T: want OCIRepositories only", o)
		}
	}
}

func TestCheckLogs(t *testing.T) {
	l := sharded(2, true)
	dir := t.TempDir()
	line := func(kind, ns, name string) string {
		return `{"level":"info","msg":"metadata.finalizers","controllerKind":"` + kind + `","namespace":"` + ns + `","name":"` + name + `"}`
	}
	logs := []string{filepath.Join(dir, "0.log"), filepath.Join(dir, "1.log"), filepath.Join(dir, "main.log")}
	write := func(path string, lines ...string) {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(logs[0], line("OCIRepository", "a", "oci-0"), "not json", `{"msg":"starting"}`, line("GitRepository", "a", "other"))
	write(logs[1], line("Kustomization", "a", "ks-0"), line("OCIRepository", "a", "oci-0")) // oci-0 is shard-0's
	write(logs[2])
	s := snapshot{
		sources: []sourcev1.OCIRepository{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "oci-0", Labels: map[string]string{shardLabel: "shard-0"}}}},
		kusts:   []kustomizev1.Kustomization{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "ks-0", Labels: map[string]string{shardLabel: "shard-1"}}}},
	}
	problems, seen, err := checkLogs(s, l, logs)
	if err != nil {
		t.Fatal(err)
	}
	if seen != 2 {
		t.Errorf("seen %d objects, want 2", seen)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "manager shard-1") || !strings.Contains(problems[0], "OCIRepository/a/oci-0") {
		t.Errorf("problems %q, want shard-1's reconcile of oci-0 alone", problems)
	}
	write(logs[1], line("Kustomization", "a", "ks-0"))
	if problems, _, _ := checkLogs(s, l, logs); len(problems) != 0 {
		t.Errorf("each in its own shard's log: problems %q, want none", problems)
	}
}

func TestStoredDirs(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"ocirepository/a/oci-0/x.tar.gz", "ocirepository/a/oci-0/y.tar.gz", "ocirepository/b/oci-1/x.tar.gz"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "ocirepository/c/empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	got := storedDirs(root)
	slices.Sort(got)
	if want := []string{"ocirepository/a/oci-0", "ocirepository/b/oci-1"}; !slices.Equal(got, want) {
		t.Errorf("storedDirs = %q, want %q", got, want)
	}
}

func FuzzReconciledIn(f *testing.F) {
	f.Add([]byte(`{"controllerKind":"OCIRepository","namespace":"a","name":"b"}` + "\n"))
	f.Add([]byte("not json\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		objects, err := reconciledIn(path)
		if err != nil {
			t.Fatal(err)
		}
		for key := range objects {
			if strings.Count(key, "/") < 2 {
				t.Errorf("key %q is not Kind/namespace/name", key)
			}
		}
	})
}
