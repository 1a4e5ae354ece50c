package kustomize

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// offline replaces git with a program that records being run, and returns a URL served by a
// server that counts its requests, and a check, to call from the test, that neither was used. Kustomize runs git
// from PATH to clone and GETs remote files with Go's default client: a reference the checks
// miss shows up here instead of reaching the network.
func offline(t testing.TB) (url string, check func(testing.TB)) {
	t.Helper()
	bin := t.TempDir()
	marker := filepath.Join(t.TempDir(), "git-ran")
	script := "#!/bin/sh\necho \"$@\" >> " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(configMap("remote")))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(t testing.TB) {
		t.Helper()
		if out, err := os.ReadFile(marker); err == nil {
			t.Errorf("git ran: %s", out)
		}
		if n := hits.Load(); n > 0 {
			t.Errorf("the build made %d HTTP requests", n)
		}
	}
}

func TestIsRemote(t *testing.T) {
	remote := []string{
		"https://github.com/org/repo//base?ref=v1", "http://example.com/x.yaml", "HTTPS://EXAMPLE.COM/x",
		"github.com/org/repo/base", "GitHub.com:org/repo", "git@github.com:org/repo.git", "ssh://git@host/org/repo",
		"git::https://host/org/repo", "file:///srv/repo", "deploy-bot@dev.azure.com:v3/org/project/repo",
		"my@file.yaml/../x", // kustomize parses it as an scp-style URL too
	}
	local := []string{
		"base", "../base", "./deploy.yaml", "sub/dir/file.yml", "gitlab.com/org/repo",
		"1user@host:repo", "", "apps/github.com/x", "{\"kind\": \"Deployment\", \"url\": \"https://x\"}",
	}
	for _, r := range remote {
		if !isRemote(r) {
			t.Errorf("isRemote(%q) = false", r)
		}
	}
	for _, l := range local {
		if isRemote(l) {
			t.Errorf("isRemote(%q) = true", l)
		}
	}
}

func TestBuildRefusesRemote(t *testing.T) {
	url, check := offline(t)
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{{
		name:  "git resource",
		files: map[string]string{"kustomization.yaml": "resources:\n- https://github.com/org/repo//base?ref=v1\n"},
		want:  []string{"in 'kustomization.yaml'", "remote bases are not allowed: resources entry 'https://github.com/org/repo//base?ref=v1'"},
	}, {
		name:  "http file",
		files: map[string]string{"kustomization.yaml": "resources:\n- " + url + "/cm.yaml\n"},
		want:  []string{"remote bases are not allowed: resources entry '" + url + "/cm.yaml'"},
	}, {
		name:  "scp-style base",
		files: map[string]string{"kustomization.yaml": "bases:\n- git@github.com:org/repo.git\n"},
		want:  []string{"remote bases are not allowed: resources entry 'git@github.com:org/repo.git'"},
	}, {
		name:  "bare github path",
		files: map[string]string{"kustomization.yaml": "resources:\n- github.com/org/repo/base\n"},
		want:  []string{"remote bases are not allowed", "github.com/org/repo/base"},
	}, {
		name: "remote base in a local base",
		files: map[string]string{
			"app/kustomization.yaml":    "resources: [../shared]\n",
			"shared/kustomization.yaml": "resources:\n- ssh://git@example.com/org/repo\n",
		},
		want: []string{"in 'shared/kustomization.yaml'", "ssh://git@example.com/org/repo"},
	}, {
		name:  "component",
		files: map[string]string{"kustomization.yaml": "components:\n- https://github.com/org/repo//comp\n"},
		want:  []string{"remote bases are not allowed: components entry"},
	}, {
		name:  "patch file",
		files: map[string]string{"kustomization.yaml": "patches:\n- path: " + url + "/patch.yaml\n"},
		want:  []string{"remote bases are not allowed: patches entry"},
	}, {
		name:  "strategic merge patch file",
		files: map[string]string{"kustomization.yaml": "patchesStrategicMerge:\n- " + url + "/patch.yaml\n"},
		want:  []string{"remote bases are not allowed: patchesStrategicMerge entry"},
	}, {
		name:  "generator file",
		files: map[string]string{"kustomization.yaml": "configMapGenerator:\n- name: x\n  files:\n  - key=" + url + "/data\n"},
		want:  []string{"remote bases are not allowed: configMapGenerator entry"},
	}, {
		name:  "generator env",
		files: map[string]string{"kustomization.yaml": "secretGenerator:\n- name: x\n  env: " + url + "/env\n"},
		want:  []string{"remote bases are not allowed: secretGenerator entry"},
	}, {
		name:  "crds",
		files: map[string]string{"kustomization.yaml": "crds:\n- " + url + "/crd.json\n"},
		want:  []string{"remote bases are not allowed: crds entry"},
	}, {
		name:  "openapi",
		files: map[string]string{"kustomization.yaml": "openapi:\n  path: " + url + "/schema.json\n"},
		want:  []string{"remote bases are not allowed: openapi entry"},
	}, {
		name:  "transformer file",
		files: map[string]string{"kustomization.yaml": "transformers:\n- " + url + "/t.yaml\n"},
		want:  []string{"remote bases are not allowed: generators, transformers or validators entry"},
	}, {
		name: "builtin plugin with a remote path",
		files: map[string]string{
			"kustomization.yaml": "resources: [cm.yaml]\ntransformers: [patch.yaml]\n",
			"cm.yaml":            configMap("a"),
			"patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: " + url + "/p.yaml\n",
		},
		want: []string{"in 'patch.yaml'", "remote bases are not allowed", url + "/p.yaml"},
	}, {
		name: "inline plugin with a remote path",
		files: map[string]string{
			"kustomization.yaml": "resources: [cm.yaml]\ngenerators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n  metadata:\n    name: g\n  files:\n  - " + url + "/f\n",
			"cm.yaml":            configMap("a"),
		},
		want: []string{"remote bases are not allowed", url + "/f"},
	}, {
		name: "plugin kustomization with a remote path",
		files: map[string]string{
			"kustomization.yaml":         "resources: [cm.yaml]\ntransformers: [plugins]\n",
			"cm.yaml":                    configMap("a"),
			"plugins/kustomization.yaml": "resources: [replace.yaml]\n",
			"plugins/replace.yaml":       "apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: r\nreplacements:\n- path: " + url + "/r.yaml\n",
		},
		want: []string{"in 'plugins/replace.yaml'", "remote bases are not allowed"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			path := ""
			if _, ok := tc.files["app/kustomization.yaml"]; ok {
				path = "app"
			}
			_, err := Build(root, path, Options{})
			wantBuildError(t, err, tc.want...)
		})
	}
	t.Run("remote component in the spec", func(t *testing.T) {
		root := t.TempDir()
		writeFiles(t, root, map[string]string{"cm.yaml": configMap("a")})
		_, err := Build(root, "", Options{Components: []string{"https://github.com/org/repo//comp"}})
		wantBuildError(t, err, "spec.components[0]", "remote components are not allowed")
	})
	check(t)
}

// TestBuildLocalLookalikes builds references that look like URLs but are local to kustomize too.
func TestBuildLocalLookalikes(t *testing.T) {
	_, check := offline(t)
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"kustomization.yaml":                     "resources:\n- gitlab.com/org/repo\n- cm.yaml\ncommonAnnotations:\n  docs: https://example.com/docs\n",
		"gitlab.com/org/repo/kustomization.yaml": "resources: [cm.yaml]\nnameSuffix: -gl\n",
		"gitlab.com/org/repo/cm.yaml":            configMap("a"),
		"cm.yaml":                                configMap("b"),
	})
	objs, err := Build(root, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(objs), ","); got != "ConfigMap/a-gl,ConfigMap/b" {
		t.Errorf("objects = %s", got)
	}
	check(t)
}
