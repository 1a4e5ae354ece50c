package setup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The bounds of what ReadManifests reads.
const (
	maxManifestBytes = 8 << 20 // one file
	maxManifestFiles = 5000    // files under a directory
	maxObjects       = 20000   // documents in all
)

// Manifests are the objects read from files, and what the SOPS files among them name.
type Manifests struct {
	Objects []unstructured.Unstructured
	// SOPSKeys are the Key Vault keys of SOPS-encrypted documents, as key URLs, by the
	// documents' namespace ("" for a document that names none).
	SOPSKeys map[string][]string
	// Notes say what was skipped.
	Notes []string
}

// planKinds are the kinds a plan reads; the rest of a manifest is skipped.
func planKind(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	switch gvk.Group {
	case sourceGroup, imageGroup, kustomizeGroup, notificationGroup:
		return true
	case "":
		return gvk.Kind == "ServiceAccount"
	}
	return false
}

// ReadManifests reads the YAML (or JSON) files at paths: a file, or a directory read
// recursively for *.yaml, *.yml and *.json. Documents of other kinds than Flux's and
// ServiceAccounts are skipped, with a note per kind.
func ReadManifests(paths ...string) (*Manifests, error) {
	m := &Manifests{}
	skipped := map[string]int{}
	files := 0
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if path != root && !slices.Contains([]string{".yaml", ".yml", ".json"}, strings.ToLower(filepath.Ext(path))) {
				return nil
			}
			if files++; files > maxManifestFiles {
				return fmt.Errorf("more than %d files under %s: point -f at the folder of the cluster's manifests", maxManifestFiles, root)
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			return m.read(path, f, skipped)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, kind := range sortedKeys(skipped) {
		m.Notes = append(m.Notes, fmt.Sprintf("skipped %d object(s) of kind %s: the plan reads Flux objects and ServiceAccounts", skipped[kind], kind))
	}
	return m, nil
}

// read adds the documents of one file.
func (m *Manifests) read(name string, r io.Reader, skipped map[string]int) error {
	data, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxManifestBytes {
		return fmt.Errorf("%s is larger than %d MiB: the plan reads manifests, not data", name, maxManifestBytes>>20)
	}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s, document %d: %w", name, i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var content map[string]any
		if err := yaml.Unmarshal(doc, &content); err != nil {
			return fmt.Errorf("%s, document %d is not YAML: %w", name, i, err)
		}
		if content == nil {
			continue
		}
		if len(m.Objects) >= maxObjects {
			return fmt.Errorf("more than %d objects: plan a part of the cluster at a time", maxObjects)
		}
		obj := unstructured.Unstructured{Object: content}
		if keys := appendSOPSKeys(nil, content); len(keys) > 0 {
			if m.SOPSKeys == nil {
				m.SOPSKeys = map[string][]string{}
			}
			for _, k := range keys {
				m.SOPSKeys[obj.GetNamespace()] = appendNew(m.SOPSKeys[obj.GetNamespace()], k)
			}
		}
		if !planKind(&obj) {
			if _, sops := content["sops"]; !sops && obj.GetKind() != "" {
				skipped[obj.GetKind()]++
			}
			continue
		}
		if obj.GetName() == "" {
			return fmt.Errorf("%s, document %d: a %s without metadata.name", name, i, obj.GetKind())
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace("default")
		}
		m.Objects = append(m.Objects, obj)
	}
}

// appendSOPSKeys adds the Key Vault keys of a SOPS document's metadata (sops.azure_kv).
func appendSOPSKeys(keys []string, content map[string]any) []string {
	kvs, _, _ := unstructured.NestedSlice(content, "sops", "azure_kv")
	for _, kv := range kvs {
		m, ok := kv.(map[string]any)
		if !ok {
			continue
		}
		vault, _ := m["vault_url"].(string)
		name, _ := m["name"].(string)
		if vault == "" || name == "" {
			continue
		}
		key := strings.TrimSuffix(vault, "/") + "/keys/" + name
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
