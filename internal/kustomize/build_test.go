package kustomize

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
)

func TestBuildGenerated(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"apps/a.yaml":                      configMap("a"),
		"apps/b.yml":                       "# two objects and an empty document\n" + configMap("b1") + "---\n" + configMap("b2") + "---\n# nothing\n",
		"apps/comments.yaml":               "# only comments\n---\n# here\n",
		"apps/empty.yaml":                  "",
		"apps/README.md":                   "# not a manifest\nfoo: bar\n",
		"apps/values.json":                 `{"not": "listed"}`,
		"apps/script.sh":                   "echo $HOME\n",
		"apps/nested/deeper/c.yaml":        configMap("c"),
		"apps/withkust/kustomization.yaml": "resources: [d.yaml]\nnamePrefix: k-\n",
		"apps/withkust/d.yaml":             configMap("d"),
		"apps/withkust/unlisted.yaml":      configMap("unlisted"),
		"elsewhere.yaml":                   configMap("elsewhere"),
	})
	objs, err := Build(root, "./apps", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ConfigMap/a", "ConfigMap/b1", "ConfigMap/b2", "ConfigMap/c", "ConfigMap/k-d"}
	if got := names(objs); !slices.Equal(got, want) {
		t.Errorf("objects = %v, want %v", got, want)
	}
	gen, err := os.ReadFile(filepath.Join(root, "apps", "kustomization.yaml"))
	if err != nil {
		t.Fatalf("the generated kustomization was not written: %v", err)
	}
	for _, res := range []string{"./a.yaml", "./b.yml", "./nested/deeper/c.yaml", "./withkust"} {
		if !strings.Contains(string(gen), "- "+res+"\n") {
			t.Errorf("generated kustomization does not list %s:\n%s", res, gen)
		}
	}
	for _, res := range []string{"comments.yaml", "empty.yaml", "README", "values.json", "unlisted"} {
		if strings.Contains(string(gen), res) {
			t.Errorf("generated kustomization lists %s:\n%s", res, gen)
		}
	}
}

// overlay is an overlay on ../base with a component beside them.
var overlay = map[string]string{
	"base/kustomization.yaml": "resources: [deploy.yaml, cm.yaml]\n",
	"base/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
      - name: cache
        image: redis:7
`,
	"base/cm.yaml": configMap("cfg"),
	"overlay/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: user-ns
namePrefix: user-
resources:
- ../base
images:
- name: nginx
  newTag: "1.26"
commonAnnotations:
  team: web
`,
	"comp/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
labels:
- pairs:
    from-component: "yes"
`,
}

// TestIgnoreMissingComponents: with spec.ignoreMissingComponents the components that exist are
// built and those that do not are left out, where without it the build fails naming the first.
func TestIgnoreMissingComponents(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, overlay)
	opts := Options{Components: []string{"../gone", "../comp", "../also-gone"}}
	if _, err := Build(root, "overlay", opts); err == nil || !strings.Contains(err.Error(), "spec.components[0] '../gone'") {
		t.Fatalf("without ignoreMissingComponents: %v, want the missing component named", err)
	}
	opts.IgnoreMissingComponents = true
	objs, err := Build(root, "overlay", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetLabels()["from-component"] != "yes" {
			t.Errorf("%s/%s lacks the label of the component that exists: %v", o.GetKind(), o.GetName(), o.GetLabels())
		}
	}
}

func TestBuildOptions(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, overlay)
	opts := Options{
		TargetNamespace: "apps",
		NamePrefix:      "p-",
		NameSuffix:      "-s",
		Patches: []types.Patch{
			{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"},
			{
				Patch:  `[{"op": "add", "path": "/data/added", "value": "by-json6902"}]`,
				Target: &types.Selector{ResId: resid.ResId{Gvk: resid.Gvk{Kind: "ConfigMap"}, Name: "cfg"}},
			},
		},
		Images: []types.Image{
			{Name: "nginx", NewTag: "1.27"},
			{Name: "redis", NewName: "mirror.example.com/redis"},
		},
		Components: []string{"../comp"},
	}
	objs, err := Build(root, "overlay", opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Deployment/apps/p-web-s", "ConfigMap/apps/p-cfg-s"}
	if got := names(objs); !slices.Equal(got, want) {
		t.Fatalf("objects = %v, want %v", got, want)
	}
	deploy := find(t, objs, "Deployment", "p-web-s")
	if r, _, _ := unstructured.NestedInt64(deploy.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %d, want 3 from the strategic merge patch", r)
	}
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	var images []string
	for _, c := range containers {
		images = append(images, c.(map[string]any)["image"].(string))
	}
	if want := []string{"nginx:1.27", "mirror.example.com/redis:7"}; !slices.Equal(images, want) {
		t.Errorf("images = %v, want %v (spec.images replaces the kustomization's nginx entry)", images, want)
	}
	if deploy.GetLabels()["from-component"] != "yes" || deploy.GetAnnotations()["team"] != "web" {
		t.Errorf("labels %v, annotations %v: want the component's label and the user's annotation", deploy.GetLabels(), deploy.GetAnnotations())
	}
	cm := find(t, objs, "ConfigMap", "p-cfg-s")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "added"); v != "by-json6902" {
		t.Errorf("data.added = %q, want the JSON 6902 patch's value", v)
	}
	written, err := os.ReadFile(filepath.Join(root, "overlay", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"namespace: apps", "namePrefix: p-", "nameSuffix: -s", "../comp", "team: web"} {
		if !strings.Contains(string(written), s) {
			t.Errorf("the kustomization written back lacks %q:\n%s", s, written)
		}
	}
}

func TestBuildPaths(t *testing.T) {
	for _, path := range []string{"overlay", "./overlay", "/overlay", "overlay/", "../../overlay", "base/../overlay"} {
		t.Run(path, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, overlay)
			objs, err := Build(root, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != 2 {
				t.Errorf("got %v", names(objs))
			}
		})
	}
	t.Run("root", func(t *testing.T) {
		for _, path := range []string{"", "./", "."} {
			root := t.TempDir()
			writeFiles(t, root, map[string]string{"cm.yaml": configMap("x")})
			if objs, err := Build(root, path, Options{}); err != nil || len(objs) != 1 {
				t.Errorf("Build(%q) = %v, %v", path, names(objs), err)
			}
		}
	})
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		path  string
		opts  Options
		setup func(t *testing.T, root string)
		want  []string
	}{{
		name:  "path traversal",
		files: map[string]string{"app/kustomization.yaml": "resources: [../../outside.yaml]\n"},
		path:  "app",
		want:  []string{"'../outside.yaml' is outside the source artifact", "in 'app'"},
	}, {
		name:  "absolute path",
		files: map[string]string{"app/kustomization.yaml": "resources: [/etc/passwd]\n"},
		path:  "app",
		want:  []string{"outside the source artifact"},
	}, {
		name:  "symlink escape",
		files: map[string]string{"app/kustomization.yaml": "resources: [link.yaml]\n"},
		path:  "app",
		setup: func(t *testing.T, root string) {
			symlink(t, filepath.Join(filepath.Dir(root), "outside.yaml"), filepath.Join(root, "app", "link.yaml"))
		},
		want: []string{"'app/link.yaml' is a symlink to a path outside the source artifact"},
	}, {
		name:  "symlinked directory escape",
		files: map[string]string{"app/kustomization.yaml": "resources: [linked]\n"},
		path:  "app",
		setup: func(t *testing.T, root string) {
			symlink(t, filepath.Dir(root), filepath.Join(root, "app", "linked"))
		},
		want: []string{"'app/linked' is a symlink to a path outside the source artifact"},
	}, {
		name:  "symlink escape in a generated kustomization",
		files: map[string]string{"gen/ok.yaml": configMap("ok")},
		path:  "gen",
		setup: func(t *testing.T, root string) {
			symlink(t, filepath.Join(filepath.Dir(root), "outside.yaml"), filepath.Join(root, "gen", "secret.yaml"))
		},
		want: []string{"'gen/secret.yaml'", "symlink to a path outside"},
	}, {
		name: "spec.path through a symlink out",
		path: "escape",
		setup: func(t *testing.T, root string) {
			symlink(t, filepath.Dir(root), filepath.Join(root, "escape"))
		},
		want: []string{"spec.path 'escape'", "outside the source artifact"},
	}, {
		name:  "symlink loop",
		files: map[string]string{"app/kustomization.yaml": "resources: [loop]\n"},
		path:  "app",
		setup: func(t *testing.T, root string) {
			symlink(t, ".", filepath.Join(root, "app", "loop"))
		},
		want: []string{"cycle"},
	}, {
		name:  "spec.path missing",
		files: map[string]string{"cm.yaml": configMap("x")},
		path:  "./nope",
		want:  []string{"spec.path './nope' not found in the artifact"},
	}, {
		name:  "spec.path is a file",
		files: map[string]string{"cm.yaml": configMap("x")},
		path:  "cm.yaml",
		want:  []string{"spec.path 'cm.yaml' is a file"},
	}, {
		name:  "invalid YAML in a generated kustomization",
		files: map[string]string{"ok.yaml": configMap("ok"), "sub/bad.yaml": "apiVersion: v1\nkind: [\n"},
		want:  []string{"in 'sub/bad.yaml'", "invalid YAML"},
	}, {
		name:  "invalid YAML in a listed resource",
		files: map[string]string{"kustomization.yaml": "resources: [bad.yaml]\n", "bad.yaml": "apiVersion: v1\nkind: [\n"},
		want:  []string{"bad.yaml"},
	}, {
		name:  "invalid kustomization file",
		files: map[string]string{"app/kustomization.yaml": "resources: [\n"},
		path:  "app",
		want:  []string{"in 'app/kustomization.yaml'", "invalid kustomization"},
	}, {
		name:  "a file that is not a Kubernetes object",
		files: map[string]string{"ok.yaml": configMap("ok"), "config/values.yaml": "replicas: 3\nimage: nginx\n"},
		want:  []string{"in 'config/values.yaml'", "not a Kubernetes object", "line 1"},
	}, {
		name:  "a list that is not an object",
		files: map[string]string{"list.yml": "- a\n- b\n"},
		want:  []string{"in 'list.yml'", "not a Kubernetes object"},
	}, {
		name:  "an object without a name",
		files: map[string]string{"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"},
		want:  []string{"metadata.name"},
	}, {
		name:  "no manifests",
		files: map[string]string{"app/README.md": "# docs\n", "app/empty.yaml": "# nothing here\n"},
		path:  "app",
		want:  []string{"in 'app'", "no Kubernetes manifests found"},
	}, {
		name:  "MaxObjects exceeded",
		files: map[string]string{"a.yaml": configMap("a"), "b.yaml": configMap("b"), "c.yaml": configMap("c")},
		opts:  Options{MaxObjects: 2},
		want:  []string{"produced 3 objects, more than the limit of 2"},
	}, {
		name:  "missing component",
		files: map[string]string{"app/cm.yaml": configMap("a")},
		path:  "app",
		opts:  Options{Components: []string{"../comp"}},
		want:  []string{"spec.components[0] '../comp': no such directory in the artifact"},
	}, {
		name:  "a component outside the artifact, even with missing ones ignored",
		files: map[string]string{"app/cm.yaml": configMap("a")},
		path:  "app",
		opts:  Options{Components: []string{"../../comp"}, IgnoreMissingComponents: true},
		want:  []string{"spec.components[0] '../../comp'", "outside the source artifact"},
	}, {
		name:  "a component that is a file, even with missing ones ignored",
		files: map[string]string{"app/cm.yaml": configMap("a"), "comp": "a file"},
		path:  "app",
		opts:  Options{Components: []string{"../comp"}, IgnoreMissingComponents: true},
		want:  []string{"spec.components[0] '../comp': no such directory in the artifact"},
	}, {
		name:  "component outside the artifact",
		files: map[string]string{"app/cm.yaml": configMap("a")},
		path:  "app",
		opts:  Options{Components: []string{"../../comp"}},
		want:  []string{"spec.components[0] '../../comp'", "outside the source artifact"},
	}, {
		name:  "a missing resource",
		files: map[string]string{"kustomization.yaml": "resources: [missing.yaml]\n"},
		want:  []string{"missing.yaml"},
	}, {
		name:  "helmCharts",
		files: map[string]string{"kustomization.yaml": "helmCharts:\n- name: podinfo\n  repo: https://stefanprodan.github.io/podinfo\n"},
		want:  []string{"in 'kustomization.yaml'", "helmCharts are not supported", "HelmRelease"},
	}, {
		name: "helmCharts in a base",
		files: map[string]string{
			"kustomization.yaml":      "resources: [base]\n",
			"base/kustomization.yaml": "helmChartInflationGenerator:\n- chartName: podinfo\n  chartRepoUrl: https://example.com\n",
		},
		want: []string{"in 'base/kustomization.yaml'", "helmCharts are not supported"},
	}, {
		name: "Helm through a builtin plugin configuration",
		files: map[string]string{
			"kustomization.yaml": "generators: [helm.yaml]\n",
			"helm.yaml":          "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: x\nname: podinfo\n",
		},
		want: []string{"in 'helm.yaml'", "helmCharts are not supported"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"outside.yaml": configMap("outside")})
			root := filepath.Join(dir, "root")
			writeFiles(t, root, tc.files)
			if tc.setup != nil {
				tc.setup(t, root)
			}
			objs, err := Build(root, tc.path, tc.opts)
			if err == nil {
				t.Fatalf("Build succeeded with %v", names(objs))
			}
			wantBuildError(t, err, tc.want...)
			if strings.Contains(err.Error(), root) {
				t.Errorf("the error names the build directory, which changes at every reconcile: %v", err)
			}
		})
	}
}

func TestBuildExecPluginRefused(t *testing.T) {
	root := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	writeFiles(t, root, map[string]string{
		"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [plugin.yaml]\n",
		"cm.yaml":            configMap("a"),
		"plugin.yaml": `apiVersion: example.com/v1
kind: Injector
metadata:
  name: inject
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./plugin.sh
`,
		"plugin.sh": "#!/bin/sh\ntouch " + marker + "\ncat\n",
	})
	if err := os.Chmod(filepath.Join(root, "plugin.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Build(root, "", Options{})
	wantBuildError(t, err, "plugins are disabled")
	if _, err := os.Stat(marker); err == nil {
		t.Error("the exec plugin ran")
	}
}

// TestBuildConcurrent builds from several goroutines: kustomize's process-wide state must not
// be shared between builds (run with -race).
func TestBuildConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		root := t.TempDir()
		writeFiles(t, root, overlay)
		wg.Go(func() {
			_, err := Build(root, "overlay", Options{TargetNamespace: "x"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestBuildIOErrorIsNotTerminal(t *testing.T) {
	_, err := Build(filepath.Join(t.TempDir(), "missing"), "", Options{})
	if err == nil {
		t.Fatal("Build succeeded on a missing artifact directory")
	}
	if _, ok := err.(interface{ Terminal() bool }); ok {
		t.Errorf("a missing build directory is the reconciler's failure, not the user's: %v", err)
	}
}

// Options.Decode sees every file kustomize reads, by its path in the artifact, and what it
// returns is what kustomize builds from: a secretGenerator's encrypted source is decrypted in
// memory, never on disk. Its error fails the build and leads the message.
func TestBuildDecode(t *testing.T) {
	files := map[string]string{
		"app/kustomization.yaml": "secretGenerator:\n- name: creds\n  envs: [creds.env]\nresources: [cm.yaml]\n",
		"app/creds.env":          "ENCRYPTED",
		"app/cm.yaml":            configMap("cm"),
	}
	root := t.TempDir()
	writeFiles(t, root, files)
	var seen []string
	objs, err := Build(root, "app", Options{Decode: func(path string, data []byte) ([]byte, error) {
		seen = append(seen, path)
		if path == "app/creds.env" {
			return []byte("password=plain"), nil
		}
		return data, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(seen, "app/creds.env") || !slices.Contains(seen, "app/cm.yaml") {
		t.Errorf("Decode saw %v", seen)
	}
	var secret *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Secret" {
			secret = o
		}
	}
	if secret == nil {
		t.Fatalf("no Secret generated: %v", objs)
	}
	if got, _, _ := unstructured.NestedString(secret.Object, "data", "password"); got != base64.StdEncoding.EncodeToString([]byte("plain")) {
		t.Errorf("generated from %q, want the decoded source", got)
	}
	if onDisk, _ := os.ReadFile(filepath.Join(root, "app", "creds.env")); string(onDisk) != "ENCRYPTED" {
		t.Errorf("the source on disk became %q", onDisk)
	}

	root = t.TempDir()
	writeFiles(t, root, files)
	_, err = Build(root, "app", Options{Decode: func(path string, data []byte) ([]byte, error) {
		if path == "app/creds.env" {
			return nil, errors.New("app/creds.env: no key could decrypt it")
		}
		return data, nil
	}})
	var be *BuildError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "app/creds.env: no key could decrypt it") {
		t.Fatalf("err = %v, want a build error naming the decoding failure", err)
	}
}
