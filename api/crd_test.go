package api_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// DESIGN.md's first rule: a field Azimuth does not implement is absent from the CRD schema, so
// the API server rejects it. These tests read the CRDs generated from this tree (make generate)
// and guard that rule, the API versions served beside v1, and the bounds on every string.

var crdFiles = []struct {
	file     string
	versions []string // served, the storage version first (v1, or v1beta3 for Provider and Alert)
	absent   []string // spec fields Flux has and Azimuth does not implement
}{
	{"source.toolkit.fluxcd.io_ocirepositories.yaml", []string{"v1", "v1beta2"}, []string{"verify"}},
	// gitImplementation and accessFrom are Flux v1beta1/v1beta2 fields its v1 dropped.
	{"source.toolkit.fluxcd.io_gitrepositories.yaml", []string{"v1", "v1beta1", "v1beta2"}, []string{"gitImplementation", "accessFrom"}},
	// region and sts serve S3 and AWS only; accessFrom is a Flux v1beta2 field its v1 dropped.
	{"source.toolkit.fluxcd.io_buckets.yaml", []string{"v1", "v1beta2"}, []string{"region", "sts", "accessFrom"}},
	{"image.toolkit.fluxcd.io_imagerepositories.yaml", []string{"v1", "v1beta1", "v1beta2"}, nil},
	{"image.toolkit.fluxcd.io_imagepolicies.yaml", []string{"v1", "v1beta1", "v1beta2"}, nil},
	{"image.toolkit.fluxcd.io_imageupdateautomations.yaml", []string{"v1", "v1beta2"}, nil},
	{"kustomize.toolkit.fluxcd.io_kustomizations.yaml", []string{"v1", "v1beta2"}, []string{"validation", "patchesStrategicMerge", "patchesJson6902"}},
	// Flux stores Provider and Alert at v1beta3 (v1 is planned); Flux 2.6 still serves v1beta2
	// and v1beta1 (deprecated), Flux 2.7 and later do not. username and the deprecated proxy and interval
	// have no use in the types Azimuth implements.
	{"notification.toolkit.fluxcd.io_providers.yaml", []string{"v1beta3", "v1beta2", "v1beta1"}, []string{"username", "proxy", "interval"}},
	{"notification.toolkit.fluxcd.io_alerts.yaml", []string{"v1beta3", "v1beta2", "v1beta1"}, nil},
}

func loadCRD(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "crd", "bases", file))
	if err != nil {
		t.Fatalf("%v (regenerate with controller-gen crd)", err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

// schemas returns each served version's openAPIV3Schema by version name.
func schemas(t *testing.T, crd map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, v := range dig(t, crd, "spec", "versions").([]any) {
		v := v.(map[string]any)
		out[v["name"].(string)] = dig(t, v, "schema", "openAPIV3Schema").(map[string]any)
	}
	return out
}

func dig(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(path, "."))
		}
		if v, ok = mm[p]; !ok {
			return nil
		}
	}
	return v
}

// TestCRDVersions: every version Flux 2.6 and later serve for the kind is served (for Provider
// and Alert, v1beta3 only), the first is stored,
// and the others are deprecated. The conversion strategy is None, as in Flux's CRDs, which is
// only right while the versions hold the same fields (TestVersionsRoundTrip).
func TestCRDVersions(t *testing.T) {
	for _, tt := range crdFiles {
		t.Run(tt.file, func(t *testing.T) {
			crd := loadCRD(t, tt.file)
			if s := dig(t, crd, "spec", "conversion", "strategy"); s != nil && s != "None" {
				t.Errorf("conversion strategy %v, want None", s)
			}
			var names []string
			for _, v := range dig(t, crd, "spec", "versions").([]any) {
				v := v.(map[string]any)
				name := v["name"].(string)
				names = append(names, name)
				if v["served"] != true {
					t.Errorf("%s is not served", name)
				}
				if stored := v["storage"] == true; stored != (name == tt.versions[0]) {
					t.Errorf("%s storage = %v; %s is the storage version", name, stored, tt.versions[0])
				}
				if deprecated := v["deprecated"] == true; deprecated != (name != tt.versions[0]) {
					t.Errorf("%s deprecated = %v; every version but %s is", name, deprecated, tt.versions[0])
				}
			}
			slices.Sort(names)
			if want := slices.Sorted(slices.Values(tt.versions)); !slices.Equal(names, want) {
				t.Errorf("versions %v, want %v", names, want)
			}
		})
	}
}

func TestCRDsLeaveOutUnimplementedFields(t *testing.T) {
	for _, tt := range crdFiles {
		for version, schema := range schemas(t, loadCRD(t, tt.file)) {
			t.Run(tt.file+"/"+version, func(t *testing.T) {
				spec := dig(t, schema, "properties", "spec", "properties").(map[string]any)
				for _, f := range tt.absent {
					if _, ok := spec[f]; ok {
						t.Errorf("spec.%s is in the schema; Azimuth does not implement it", f)
					}
				}
				if p, ok := spec["provider"]; ok {
					enum := dig(t, p.(map[string]any), "enum").([]any)
					if !slices.Equal(enum, []any{"generic", "azure"}) {
						t.Errorf("spec.provider enum = %v, want [generic azure]", enum)
					}
				}
			})
		}
	}
}

// TestVersionsRoundTrip: with conversion None the API server only relabels an object, and
// prunes what the version it is read at does not declare. So v1beta2 must declare exactly the
// storage version's fields, and v1beta1 only fields that it declares the same way (it has fewer,
// as Flux's has).
func TestVersionsRoundTrip(t *testing.T) {
	for _, tt := range crdFiles {
		t.Run(tt.file, func(t *testing.T) {
			s := schemas(t, loadCRD(t, tt.file))
			stored := tt.versions[0]
			if b2, ok := s["v1beta2"]; ok && stored != "v1beta2" && !reflect.DeepEqual(b2["properties"], s[stored]["properties"]) {
				t.Errorf("the v1beta2 schema differs from %s's: conversion None would lose fields", stored)
			}
			if b1, ok := s["v1beta1"]; ok {
				subset(t, "", b1, s[stored])
			}
		})
	}
}

// subset fails unless every property of a is in b with the same bounds (descriptions and
// required lists aside).
func subset(t *testing.T, path string, a, b map[string]any) {
	t.Helper()
	for k, v := range a {
		switch k {
		case "description", "required", "x-kubernetes-validations":
			continue
		case "properties":
			bp, _ := b["properties"].(map[string]any)
			for name, av := range v.(map[string]any) {
				bv, ok := bp[name].(map[string]any)
				if !ok {
					t.Errorf("%s.%s is in v1beta1 and not in v1", path, name)
					continue
				}
				subset(t, path+"."+name, av.(map[string]any), bv)
			}
		case "items":
			subset(t, path+"[]", v.(map[string]any), b["items"].(map[string]any))
		default:
			if !reflect.DeepEqual(v, b[k]) {
				t.Errorf("%s: %s = %v in v1beta1, %v in v1", path, k, v, b[k])
			}
		}
	}
}

// TestSpecStringsAreBounded: every string a user writes has a maximum length or an enum, so
// that a 40 KB value is refused by the API server instead of reaching the controller (whose
// messages quote spec values).
func TestSpecStringsAreBounded(t *testing.T) {
	for _, tt := range crdFiles {
		for version, schema := range schemas(t, loadCRD(t, tt.file)) {
			t.Run(tt.file+"/"+version, func(t *testing.T) {
				unbounded(t, "spec", dig(t, schema, "properties", "spec").(map[string]any))
			})
		}
	}
}

func unbounded(t *testing.T, path string, s map[string]any) {
	t.Helper()
	if s["type"] == "string" && s["maxLength"] == nil && s["enum"] == nil {
		t.Errorf("%s is a string with neither maxLength nor enum", path)
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			unbounded(t, path+"."+name, p.(map[string]any))
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		unbounded(t, path+"[]", items)
	}
}

// TestCRDRules: the CEL rules Flux declares are in the schema of every served version.
func TestCRDRules(t *testing.T) {
	tests := []struct {
		file, rule string
	}{
		{"source.toolkit.fluxcd.io_gitrepositories.yaml", "!has(self.serviceAccountName) || (has(self.provider) && self.provider == 'azure')"},
		{"source.toolkit.fluxcd.io_buckets.yaml", "self.provider != 'generic' || !has(self.serviceAccountName)"},
		{"source.toolkit.fluxcd.io_buckets.yaml", "!has(self.secretRef) || !has(self.serviceAccountName)"},
	}
	for _, tt := range tests {
		for version, schema := range schemas(t, loadCRD(t, tt.file)) {
			t.Run(tt.file+"/"+version, func(t *testing.T) {
				rules, _ := dig(t, schema, "properties", "spec", "x-kubernetes-validations").([]any)
				for _, r := range rules {
					if r.(map[string]any)["rule"] == tt.rule {
						return
					}
				}
				t.Errorf("spec has no rule %q; it has %v", tt.rule, rules)
			})
		}
	}
}

// gitRepository is a GitRepository with every field Azimuth implements, as Flux's documentation
// writes them.
const gitRepository = `
spec:
  url: https://dev.azure.com/contoso/platform/_git/fleet
  interval: 5m0s
  timeout: 90s
  provider: azure
  serviceAccountName: fleet-reader
  secretRef:
    name: fleet-ca
  proxySecretRef:
    name: proxy
  ref:
    branch: main
    tag: v1.0.0
    semver: ">=1.0.0 <2.0.0"
    name: refs/pull/420/head
    commit: 6f0c6c4b1f1d2d3c2b8e9d7e2a3b4c5d6e7f8a9b
  ignore: |
    /*
    !/deploy
  suspend: false
`

// TestSchemaRefusesBadValues checks values against the generated schema of every served version
// as the API server does (maxLength in characters, maxItems, enum, and patterns with Go's regexp
// package, which the API server uses too): a manifest with every field is accepted, and an
// oversized or malformed value is refused at the field.
func TestSchemaRefusesBadValues(t *testing.T) {
	long := strings.Repeat("a", 40<<10)
	tests := []struct {
		name   string
		file   string
		set    func(spec map[string]any)
		refuse string // the field refused; empty: accepted
	}{
		{"every field", "source.toolkit.fluxcd.io_gitrepositories.yaml", func(map[string]any) {}, ""},
		{"ssh url", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["url"] = "ssh://git@ssh.dev.azure.com/v3/contoso/platform/fleet" }, ""},
		{"long url", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["url"] = "https://dev.azure.com/" + long }, "spec.url"},
		{"scp-like url", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["url"] = "git@ssh.dev.azure.com:v3/contoso/platform/fleet" }, "spec.url"},
		{"file url", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["url"] = "file:///srv/git/fleet" }, "spec.url"},
		{"long branch", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["ref"].(map[string]any)["branch"] = long }, "spec.ref.branch"},
		{"long ignore", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["ignore"] = long }, "spec.ignore"},
		{"github provider", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["provider"] = "github" }, "spec.provider"},
		{"sparse checkout", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["sparseCheckout"] = []any{"deploy"} }, ""},
		{"too many sparse directories", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["sparseCheckout"] = slices.Repeat([]any{"deploy"}, 1025) }, "spec.sparseCheckout"},
		{"v1beta2 gitImplementation", "source.toolkit.fluxcd.io_gitrepositories.yaml",
			func(s map[string]any) { s["gitImplementation"] = "go-git" }, "spec.gitImplementation"},
	}
	for _, tt := range tests {
		for version, schema := range schemas(t, loadCRD(t, tt.file)) {
			t.Run(tt.name+"/"+version, func(t *testing.T) {
				var obj map[string]any
				if err := yaml.Unmarshal([]byte(gitRepository), &obj); err != nil {
					t.Fatal(err)
				}
				tt.set(obj["spec"].(map[string]any))
				errs := validate("spec", dig(t, schema, "properties", "spec").(map[string]any), obj["spec"])
				if tt.refuse == "" {
					if len(errs) > 0 {
						t.Errorf("refused: %v", errs)
					}
					return
				}
				if len(errs) != 1 || !strings.HasPrefix(errs[0], tt.refuse+":") {
					t.Errorf("errors %.300q, want %s refused", errs, tt.refuse)
				}
			})
		}
	}
}

// validate checks v against the bounds, enums, required properties and known properties of the
// structural schema s, and returns one message per refused field.
func validate(path string, s map[string]any, v any) []string {
	var errs []string
	switch v := v.(type) {
	case string:
		if max, ok := s["maxLength"].(float64); ok && utf8.RuneCountInString(v) > int(max) {
			errs = append(errs, fmt.Sprintf("%s: Too long: may not be more than %d", path, int(max)))
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			errs = append(errs, fmt.Sprintf("%s: does not match %s", path, p))
		}
		if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, any(v)) {
			errs = append(errs, fmt.Sprintf("%s: Unsupported value %q", path, v))
		}
	case []any:
		if max, ok := s["maxItems"].(float64); ok && len(v) > int(max) {
			errs = append(errs, fmt.Sprintf("%s: Too many: %d, must have at most %d items", path, len(v), int(max)))
		}
		items, _ := s["items"].(map[string]any)
		for i, item := range v {
			errs = append(errs, validate(fmt.Sprintf("%s[%d]", path, i), items, item)...)
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			if _, ok := v[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s.%s: Required value", path, r))
			}
		}
		additional, _ := s["additionalProperties"].(map[string]any)
		for name, fv := range v {
			p, ok := props[name].(map[string]any)
			if !ok && additional != nil {
				p, ok = additional, true // a map, such as matchLabels
			}
			if !ok {
				errs = append(errs, fmt.Sprintf("%s.%s: unknown field", path, name))
				continue
			}
			errs = append(errs, validate(path+"."+name, p, fv)...)
		}
	}
	slices.Sort(errs)
	return errs
}

// TestKubeConfigExactlyOne: spec.kubeConfig reaches a remote cluster by secretRef or by
// configMapRef (AKS), never both and never neither: an empty kubeConfig (an API server that
// pruned a field it does not know) is refused rather than applied to the local cluster.
func TestKubeConfigExactlyOne(t *testing.T) {
	for version, schema := range schemas(t, loadCRD(t, "kustomize.toolkit.fluxcd.io_kustomizations.yaml")) {
		kc := dig(t, schema, "properties", "spec", "properties", "kubeConfig").(map[string]any)
		props := dig(t, kc, "properties").(map[string]any)
		for _, ref := range []string{"secretRef", "configMapRef"} {
			if _, ok := props[ref]; !ok {
				t.Errorf("%s: spec.kubeConfig.%s is not in the schema", version, ref)
			}
		}
		rules, _ := kc["x-kubernetes-validations"].([]any)
		found := false
		for _, r := range rules {
			if r.(map[string]any)["rule"] == "has(self.secretRef) != has(self.configMapRef)" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: spec.kubeConfig has no rule for exactly one of secretRef and configMapRef: %v", version, rules)
		}
	}
}
