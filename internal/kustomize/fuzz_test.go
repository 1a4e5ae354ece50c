package kustomize

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// watchdog ends the fuzzing process when the call it guards runs longer than limit: the fuzzer
// does not report an input that hangs, but it reports, and saves, one whose process dies.
func watchdog(limit time.Duration) (stop func()) {
	timer := time.AfterFunc(limit, func() {
		panic(fmt.Sprintf("the fuzz target ran longer than %v", limit))
	})
	return func() { timer.Stop() }
}

func FuzzSubstitute(f *testing.F) {
	for _, seed := range []struct {
		text, name, value string
		strict            bool
	}{
		{"${var}", "var", "value", false},
		{"replicas: ${r}", "r", "3", true},
		{"${var:=default} ${var:-x} ${var=y} ${var-z}", "other", "", false},
		{"${#var} ${var^} ${var^^} ${var,} ${var,,}", "var", "Hello World", true},
		{"${var:1} ${var:1:2} ${var: -2} ${var:2:-1}", "var", "abcdef", false},
		{"${var/a/b} ${var//a/b} ${var/#a/b} ${var/%a/b} ${var/a}", "var", "banana", false},
		{`${var/\//-} ${var//\\/x}`, "var", `a/b\c`, false},
		{"${var#*.} ${var##*.} ${var%.*} ${var%%.*} ${var#[a-c]?} ${var%[!x]}", "var", "a.b.c", false},
		{"$$ $${var} $$var $var $ ${", "var", "x", false},
		{"${a:=${b:=${var}}}", "var", "deep", true},
		{"${var", "var", "x", false},
		{"${var:${var}:${var}}", "var", "1", false},
		{"no dollar at all", "var", "x", true},
		{"${é} ${_x9} ${9x}", "_x9", "ok", false},
		{"${v#[}", "v", "[a", false},
		{"${v%%\\}", "v", `a\`, false},
	} {
		f.Add(seed.text, seed.name, seed.value, seed.strict)
	}
	f.Fuzz(func(t *testing.T, text, name, value string, strict bool) {
		defer watchdog(5 * time.Second)()
		vars := map[string]string{name: value}
		out, err := expand(text, vars, strict)
		if !strings.Contains(text, "$") && (err != nil || out != text) {
			t.Fatalf("expand(%q) = %q, %v: text without $ must come back unchanged", text, out, err)
		}
		if !strings.Contains(text, "${") && !strings.Contains(text, "$$") && (err != nil || out != text) {
			t.Fatalf("expand(%q) = %q, %v: without ${ or $$ nothing is an expression", text, out, err)
		}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "fuzz"},
			"data":     map[string]any{"text": text},
		}}
		objs, err := Substitute([]*unstructured.Unstructured{obj}, vars, strict)
		if ValidateVarName(name) != nil {
			if err == nil {
				t.Fatalf("invalid variable name %q accepted", name)
			}
			return
		}
		if !strings.Contains(text, "$") {
			if err != nil || !reflect.DeepEqual(objs[0].Object, obj.Object) {
				t.Fatalf("an object without $ changed: %v, %v", objs, err)
			}
		}
	})
}

// FuzzBuild builds a fuzzed kustomization.yaml (none when empty: the kustomization is generated)
// and a fuzzed manifest beside a fixed base. Build must return objects or an error: never panic,
// never run git, never make a request.
func FuzzBuild(f *testing.F) {
	url, check := offline(f)
	f.Setenv("HTTP_PROXY", url)
	f.Setenv("HTTPS_PROXY", url)
	f.Setenv("NO_PROXY", "")
	cm := configMap("fuzz")
	for _, seed := range [][2]string{
		{"", cm},
		{"", "# comments only\n"},
		{"", "foo: bar\n"},
		{"", "a: [\n"},
		{"resources: [res.yaml, base]\n", cm},
		{"resources: [res.yaml]\nnamespace: ns\nnamePrefix: p-\nimages:\n- name: nginx\n  newTag: '1'\n", deploymentManifest},
		{"resources: [res.yaml]\npatches:\n- patch: |\n    - op: add\n      path: /data/x\n      value: y\n  target:\n    kind: ConfigMap\n", cm},
		{"resources: [res.yaml]\npatchesStrategicMerge:\n- |\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: fuzz\n  data:\n    b: c\n", cm},
		{"configMapGenerator:\n- name: gen\n  literals: [a=b]\n  files: [res.yaml]\n", cm},
		{"resources: [res.yaml]\nreplacements:\n- source: {kind: ConfigMap, name: fuzz, fieldPath: data.key}\n  targets:\n  - select: {kind: ConfigMap}\n    fieldPaths: [metadata.annotations.x]\n    options: {create: true}\n", cm},
		{"resources: [https://github.com/org/repo//base]\n", cm},
		{"resources: [" + url + "/cm.yaml]\n", cm},
		{"resources: [git@github.com:org/repo]\n", cm},
		{"components: [base]\n", cm},
		{"resources: [../../etc/passwd]\n", cm},
		{"resources: [/etc/hostname]\n", cm},
		{"helmCharts:\n- name: x\n  repo: https://charts.example.com\n", cm},
		{"transformers: [res.yaml]\n", "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: https://x/p.yaml\n"},
		{"transformers: [res.yaml]\n", "apiVersion: example.com/v1\nkind: Exec\nmetadata:\n  name: e\n  annotations:\n    config.kubernetes.io/function: 'exec: {path: /bin/sh}'\n"},
		{"openapi:\n  path: res.yaml\nresources: [base]\n", "{}"},
		{"sortOptions:\n  order: legacy\nresources: [res.yaml, base]\n", cm},
		{"kind: Component\n", cm},
		{"resources: [res.yaml]\n", "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(cm), "\n", "\n  ") + "\n"},
		{"a: &a [*a]\n", "b: &b [*b, *b]\n"},
		{"", "b: &b [*b, *b]\n"}, // found by fuzzing: kyaml recursed until the stack overflowed
		{"resources: [res.yaml]\n", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: [a]\n"},
		{"vars:\n- name: V\n  objref: {kind: ConfigMap, name: fuzz, apiVersion: v1}\nresources: [res.yaml]\n", cm},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, kustomization, resource string) {
		defer watchdog(30 * time.Second)()
		root := t.TempDir()
		files := map[string]string{
			"res.yaml":                resource,
			"base/kustomization.yaml": "resources: [cm.yaml]\n",
			"base/cm.yaml":            configMap("base"),
		}
		if kustomization != "" {
			files["kustomization.yaml"] = kustomization
		}
		writeFiles(t, root, files)
		objs, err := Build(root, "", Options{TargetNamespace: "fuzz", Components: nil})
		if err == nil {
			for _, o := range objs {
				if o.GetKind() == "" || o.GetName() == "" {
					t.Fatalf("an object without kind or name: %v", o)
				}
			}
		}
		if _, statErr := os.Stat(filepath.Join(root, "kustomization.yaml")); kustomization == "" && statErr != nil && err == nil {
			t.Fatal("no kustomization was generated")
		}
		check(t)
	})
}

const deploymentManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
`
