package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/kio"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// prepare makes dir ready for kustomize as Flux's kustomize-controller does: when dir has no
// kustomization file it generates one listing the manifests under dir, then it writes the
// Kustomization's build options into the kustomization file. Flux writes the file rather than
// layering an overlay on top, so that spec.targetNamespace and the rest act at the same level
// as the user's own namespace, patches and images.
func prepare(fsys *confinedFS, dir string, opts Options) error {
	components, err := opts.checkComponents(fsys, dir)
	if err != nil {
		return err
	}
	opts.Components = components
	file := kustomizationFile(fsys, dir)
	generated := file == ""
	var k types.Kustomization
	if generated {
		resources, err := scanManifests(fsys, dir)
		if err != nil {
			return err
		}
		file = filepath.Join(dir, konfig.DefaultKustomizationFileName())
		k = newKustomization()
		k.Resources = resources
	} else {
		var err error
		if k, err = readKustomization(fsys, file); err != nil {
			return err
		}
	}
	opts.applyTo(&k)
	if generated && k.CheckEmpty() != nil {
		return &BuildError{Path: relPath(fsys.root, dir), Err: errors.New("no Kubernetes manifests found: the directory " +
			"has no kustomization file and no .yaml or .yml file holding objects; check spec.path")}
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return &BuildError{Path: relPath(fsys.root, file), Err: err}
	}
	if err := fsys.WriteFile(file, data); err != nil {
		return fmt.Errorf("writing the kustomization file '%s' into the build directory: %w", relPath(fsys.root, file), err)
	}
	return nil
}

func newKustomization() types.Kustomization {
	return types.Kustomization{TypeMeta: types.TypeMeta{
		APIVersion: types.KustomizationVersion,
		Kind:       types.KustomizationKind,
	}}
}

// readKustomization parses the user's kustomization file leniently, as Flux does: a field
// kustomize does not know is dropped rather than failing the build.
func readKustomization(fsys *confinedFS, file string) (types.Kustomization, error) {
	k := newKustomization()
	data, err := fsys.ReadFile(file)
	if isYAMLError(err) {
		return k, &BuildError{Path: relPath(fsys.root, file), Err: err}
	}
	if err != nil {
		return k, fmt.Errorf("reading '%s': %w", relPath(fsys.root, file), err)
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return k, &BuildError{Path: relPath(fsys.root, file), Err: fmt.Errorf("invalid kustomization: %w", err)}
	}
	return k, nil
}

// applyTo adds the options to k: they win over the user's namespace and name prefix and suffix,
// their patches and components come after the user's, and an image replaces the user's entry of
// the same name (kustomize applies the first entry that matches an image).
func (o Options) applyTo(k *types.Kustomization) {
	if o.TargetNamespace != "" {
		k.Namespace = o.TargetNamespace
	}
	if o.NamePrefix != "" {
		k.NamePrefix = o.NamePrefix
	}
	if o.NameSuffix != "" {
		k.NameSuffix = o.NameSuffix
	}
	k.Patches = append(k.Patches, o.Patches...)
	for _, img := range o.Images {
		k.Images = setImage(k.Images, img)
	}
	k.Components = append(k.Components, o.Components...)
}

func setImage(images []types.Image, img types.Image) []types.Image {
	for i := range images {
		if images[i].Name == img.Name {
			images[i] = img
			return images
		}
	}
	return append(images, img)
}

// checkComponents requires each component to be a local directory, relative to spec.path and
// inside the artifact, so that a mistake is reported with the field to change. It returns the
// components to build: all of them, or with IgnoreMissingComponents those that exist.
func (o Options) checkComponents(fsys *confinedFS, dir string) ([]string, error) {
	var kept []string
	for i, c := range o.Components {
		field := fmt.Sprintf("spec.components[%d] '%s'", i, c)
		switch {
		case isRemote(c):
			return nil, &BuildError{Err: fmt.Errorf("%s: remote components are not allowed: copy the component into the source", field)}
		case filepath.IsAbs(c) || c == "":
			return nil, &BuildError{Err: fmt.Errorf("%s: a component is a directory relative to spec.path", field)}
		}
		p, err := fsys.resolve(filepath.Join(dir, c))
		var out *outsideError
		if errors.As(err, &out) {
			return nil, &BuildError{Err: fmt.Errorf("%s: %w", field, err)}
		}
		missing := err != nil || !fsys.disk.Exists(p)
		if missing && o.IgnoreMissingComponents {
			continue
		}
		if missing || !fsys.disk.IsDir(p) {
			return nil, &BuildError{Err: fmt.Errorf("%s: no such directory in the artifact, relative to spec.path '%s' "+
				"(spec.ignoreMissingComponents: true leaves out those that do not exist)", field, relPath(fsys.root, dir))}
		}
		kept = append(kept, c)
	}
	return kept, nil
}

// scanManifests lists what a generated kustomization builds, as Flux does: every .yaml and .yml
// file under dir in lexical order, except that a subdirectory with its own kustomization file is
// listed as a directory and not descended into. Files holding only comments or empty documents
// are left out; a file holding anything else than Kubernetes objects fails the build, named.
func scanManifests(fsys *confinedFS, dir string) ([]string, error) {
	var resources []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		if d.IsDir() {
			if kustomizationFile(fsys, p) != "" {
				resources = append(resources, "./"+relPath(dir, p))
				return fs.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && fsys.IsDir(p) {
			return nil // a symlink to a directory is not descended into, as Flux's walk does not
		}
		n, err := countObjects(fsys, p)
		if err != nil || n == 0 {
			return err
		}
		resources = append(resources, "./"+relPath(dir, p))
		return nil
	})
	return resources, err
}

// countObjects returns the number of Kubernetes objects in the manifest file p.
func countObjects(fsys *confinedFS, p string) (int, error) {
	rel := relPath(fsys.root, p)
	data, err := fsys.ReadFile(p)
	if err != nil {
		var out *outsideError
		if errors.As(err, &out) || isYAMLError(err) {
			return 0, &BuildError{Path: rel, Err: err}
		}
		return 0, fmt.Errorf("reading '%s': %w", rel, err)
	}
	nodes, err := kio.FromBytes(data)
	if err != nil {
		return 0, &BuildError{Path: rel, Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	for _, n := range nodes {
		if err := checkObject(n); err != nil {
			return 0, &BuildError{Path: rel, Err: err}
		}
	}
	return len(nodes), nil
}

// checkObject requires n to be a Kubernetes object: a mapping with apiVersion and kind.
func checkObject(n *kyaml.RNode) error {
	y := n.YNode()
	if y.Kind != kyaml.MappingNode || n.GetApiVersion() == "" || n.GetKind() == "" {
		return fmt.Errorf("the document at line %d is not a Kubernetes object (it has no apiVersion and kind): "+
			"move files that are not manifests out of spec.path, or add a kustomization.yaml that lists the manifests", y.Line)
	}
	return nil
}
