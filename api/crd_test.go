package api_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// DESIGN.md's first rule: a field Azimuth does not implement is absent from
// the CRD schema, so the API server rejects it. These tests read the CRDs
// generated from this tree (make generate) and guard that rule for the
// fields Flux has and Azimuth leaves out.

func loadSchema(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config", "crd", "bases", file))
	if err != nil {
		t.Fatalf("%v (regenerate with controller-gen crd)", err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	versions := dig(t, crd, "spec", "versions").([]any)
	if len(versions) != 1 {
		t.Fatalf("%s: %d versions, want 1", file, len(versions))
	}
	return dig(t, versions[0].(map[string]any), "schema", "openAPIV3Schema").(map[string]any)
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

func TestCRDsLeaveOutUnimplementedFields(t *testing.T) {
	tests := []struct {
		file   string
		absent []string // spec fields Flux has and Azimuth does not implement
	}{
		{"source.toolkit.fluxcd.io_ocirepositories.yaml", []string{"verify"}},
		{"image.toolkit.fluxcd.io_imagerepositories.yaml", []string{"accessFrom"}},
		{"image.toolkit.fluxcd.io_imagepolicies.yaml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			spec := dig(t, loadSchema(t, tt.file), "properties", "spec", "properties").(map[string]any)
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
