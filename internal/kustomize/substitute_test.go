package kustomize

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func object(t testing.TB, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}
  namespace: apps
  labels:
    env: ${env:=dev}
    region: "${region}"
spec:
  replicas: ${replicas}
  paused: ${paused:=false}
  template:
    spec:
      containers:
      - name: app
        image: ${registry}/app:${tag:=latest}
        command: ["sh", "-c", "echo $HOME $${LITERAL}"]
`

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"app": "web", "replicas": "3", "registry": "ghcr.io/org", "region": "eu\nwest"}
	in := object(t, deployment)
	before := in.DeepCopy()
	out, err := Substitute([]*unstructured.Unstructured{in}, vars, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, before) {
		t.Error("Substitute modified its input")
	}
	got := out[0]
	checks := []struct {
		path []string
		want any
	}{
		{[]string{"metadata", "name"}, "web"},
		{[]string{"metadata", "labels", "env"}, "dev"},
		{[]string{"metadata", "labels", "region"}, "euwest"},
		{[]string{"spec", "replicas"}, int64(3)},
		{[]string{"spec", "paused"}, false},
	}
	for _, c := range checks {
		v, _, _ := unstructured.NestedFieldNoCopy(got.Object, c.path...)
		if !reflect.DeepEqual(v, c.want) {
			t.Errorf("%s = %#v, want %#v", strings.Join(c.path, "."), v, c.want)
		}
	}
	containers, _, _ := unstructured.NestedSlice(got.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	if c["image"] != "ghcr.io/org/app:latest" {
		t.Errorf("image = %v", c["image"])
	}
	if cmd := c["command"].([]any)[2]; cmd != "echo $HOME ${LITERAL}" {
		t.Errorf("command = %q: $var is left alone and $${...} is an escape", cmd)
	}
}

func TestSubstituteStrict(t *testing.T) {
	obj := object(t, deployment)
	vars := map[string]string{"app": "web", "replicas": "3", "registry": "r"}
	if _, err := Substitute([]*unstructured.Unstructured{obj}, vars, false); err != nil {
		t.Fatalf("not strict: %v", err)
	}
	_, err := Substitute([]*unstructured.Unstructured{obj}, vars, true)
	var se *SubstituteError
	if !errors.As(err, &se) {
		t.Fatalf("strict: error = %v, want a *SubstituteError", err)
	}
	// The object is named as the build produced it, as the user can find it in the source.
	want := "post-build substitution failed in Deployment/apps/${app}: variable not set (strict mode): region"
	if !strings.HasPrefix(err.Error(), want) || se.Variable != "region" || se.Object != "Deployment/apps/${app}" {
		t.Errorf("error = %q (variable %q, object %q), want it to start with %q", err, se.Variable, se.Object, want)
	}
	if se.Terminal() {
		t.Error("a missing variable is terminal, but a ConfigMap of substituteFrom can define it")
	}
}

func TestSubstituteDisabled(t *testing.T) {
	for _, meta := range []string{"labels", "annotations"} {
		t.Run(meta, func(t *testing.T) {
			obj := object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  "+meta+":\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  script: echo ${HOME} ${\n")
			out, err := Substitute([]*unstructured.Unstructured{obj}, map[string]string{"HOME": "x"}, true)
			if err != nil {
				t.Fatal(err)
			}
			if out[0] != obj {
				t.Error("a disabled object was not returned untouched")
			}
		})
	}
}

func TestSubstituteNoVariables(t *testing.T) {
	obj := object(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${x:=default}\n  b: ${\n")
	for _, vars := range []map[string]string{nil, {}} {
		out, err := Substitute([]*unstructured.Unstructured{obj}, vars, true)
		if err != nil || out[0] != obj {
			t.Errorf("with no variables, Flux substitutes nothing: %v, %v", out, err)
		}
	}
}

func TestSubstituteErrors(t *testing.T) {
	cases := []struct {
		name     string
		manifest string
		vars     map[string]string
		want     []string
		terminal bool
	}{{
		name:     "unterminated expression",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: ns\ndata:\n  a: ${oops\n",
		vars:     map[string]string{"x": "1"},
		want:     []string{"ConfigMap/ns/c", "bad substitution '${oops", "$${"},
		terminal: true,
	}, {
		name:     "value that breaks the YAML",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: ${v}\n",
		vars:     map[string]string{"v": "[unclosed"},
		want:     []string{"ConfigMap/c", "not valid YAML"},
	}, {
		name:     "value that removes the kind",
		manifest: "apiVersion: v1\nkind: ${kind}\nmetadata:\n  name: c\n",
		vars:     map[string]string{"x": "1"},
		want:     []string{"${kind}/c", "not a Kubernetes object"},
	}, {
		name:     "invalid variable name",
		manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
		vars:     map[string]string{"ok": "1", "bad-name": "2"},
		want:     []string{"variable name 'bad-name' is invalid", "^[_[:alpha:]][_[:alpha:][:digit:]]*$"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Substitute([]*unstructured.Unstructured{object(t, tc.manifest)}, tc.vars, false)
			var se *SubstituteError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *SubstituteError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if se.Terminal() != tc.terminal {
				t.Errorf("Terminal() = %v, want %v", se.Terminal(), tc.terminal)
			}
		})
	}
}

func TestValidateVarName(t *testing.T) {
	for _, ok := range []string{"a", "_", "_a1", "Cluster_Region", "x9"} {
		if err := ValidateVarName(ok); err != nil {
			t.Errorf("ValidateVarName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1a", "a-b", "a.b", "a b", "é", "a$", "${a}"} {
		err := ValidateVarName(bad)
		if err == nil || !strings.Contains(err.Error(), "'"+bad+"'") {
			t.Errorf("ValidateVarName(%q) = %v, want an error naming it", bad, err)
		}
	}
}
