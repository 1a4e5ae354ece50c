package kustomize

import (
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

// DefaultMaxObjects is the number of objects a build may produce when Options.MaxObjects is 0.
// It is well above what one Kustomization holds in practice (a cluster's whole platform layer is
// a few thousand objects) and low enough that a runaway build fails before the apply step and the
// inventory in the status have to carry it.
const DefaultMaxObjects = 10000

// Options are a Kustomization's build fields (spec.*), read from the object by the reconciler.
type Options struct {
	// TargetNamespace is spec.targetNamespace: it sets the kustomization's namespace, winning
	// over the one the kustomization.yaml sets. Default: none, the kustomization's own.
	TargetNamespace string
	// NamePrefix is spec.namePrefix, winning over the kustomization's. Default: none.
	NamePrefix string
	// NameSuffix is spec.nameSuffix, winning over the kustomization's. Default: none.
	NameSuffix string
	// Patches are spec.patches, applied after the kustomization's own. Default: none.
	Patches []types.Patch
	// Images are spec.images; one replaces the kustomization's entry of the same name, the
	// others come after the kustomization's own. Default: none.
	Images []types.Image
	// Components are spec.components, directories relative to the build path, included after
	// the kustomization's own. Each must exist, unless IgnoreMissingComponents. Default: none.
	Components []string
	// IgnoreMissingComponents is spec.ignoreMissingComponents: Components that do not exist in
	// the artifact are left out instead of failing the build. Default: false.
	IgnoreMissingComponents bool
	// Decode, when set, transforms each file kustomize reads, given its path relative to root
	// with forward slashes: the Kustomization's SOPS decryption of encrypted manifests and
	// secretGenerator sources, done in memory so that no plaintext is written to disk. Its error
	// fails the build, and is the build error's first line. Default: files as they are.
	Decode func(path string, data []byte) ([]byte, error)
	// MaxObjects bounds the number of objects a build may produce; more fail the build. It is
	// checked on kustomize's output: the size of the artifact is what bounds the build itself.
	// Default (0 or less): DefaultMaxObjects.
	MaxObjects int
}

func (o Options) maxObjects() int {
	if o.MaxObjects <= 0 {
		return DefaultMaxObjects
	}
	return o.MaxObjects
}

// Build builds the kustomization at path inside root, as Flux's kustomize-controller does, and
// returns its objects in kustomize's output order. root is the extracted artifact, a private copy
// Build writes into (the generated or amended kustomization file); path is spec.path, "" or "./"
// for the root. An error caused by the input is a *BuildError.
func Build(root, path string, opts Options) ([]*unstructured.Unstructured, error) {
	fsys, err := newConfinedFS(root)
	if err != nil {
		return nil, err
	}
	dir, err := fsys.specDir(path)
	if err != nil {
		return nil, err
	}
	fsys.decode = opts.Decode
	if err := prepare(fsys, dir, opts); err != nil {
		return nil, err
	}
	if err := checkReferences(fsys, dir); err != nil {
		return nil, err
	}
	m, err := kustomize(fsys, dir)
	if err != nil {
		return nil, err
	}
	return objects(m, opts.maxObjects())
}

// buildMu serialises kustomize builds: kustomize keeps process-wide state (the OpenAPI schema,
// caches of its transformers) that concurrent builds corrupt, as Flux found
// (kubernetes-sigs/kustomize#3659); Flux holds such a lock too.
var buildMu sync.Mutex

// kustomize runs krusty on dir with Flux's options: loads from anywhere inside the artifact
// (overlays refer to ../base; the file system keeps them inside), builtin plugins only, no Helm,
// and the resources in the order the kustomizations list them (no kind sort; the apply step
// orders by kind). A panic in kustomize, which some malformed inputs cause, becomes a build error.
func kustomize(fsys *confinedFS, dir string) (m resmap.ResMap, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	defer resetSchema()
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, &BuildError{Path: relPath(fsys.root, dir), Err: fmt.Errorf("kustomize failed on this input (%v): check the kustomization and its manifests", r)}
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder:          krusty.ReorderOptionNone,
		LoadRestrictions: types.LoadRestrictionsNone,
		PluginConfig:     types.DisabledPluginConfig(),
	})
	m, err = k.Run(fsys, dir)
	if err != nil {
		return nil, kustomizeError(fsys, dir, err)
	}
	return m, nil
}

// resetSchema drops an OpenAPI schema that a kustomization's openapi field installed: kustomize
// keeps it process-wide, and the next build, of another Kustomization, would use it.
func resetSchema() {
	if openapi.GetSchemaVersion() != "" {
		openapi.ResetOpenAPI()
	}
}

// kustomizeError turns kustomize's error into a *BuildError that names paths relative to the
// artifact, and the path the file system refused when there was one.
func kustomizeError(fsys *confinedFS, dir string, err error) error {
	msg := scrubRoot(err.Error(), fsys.root, fsys.given)
	if fsys.fault != "" {
		msg = fsys.fault + "\n(" + msg + ")"
	}
	return &BuildError{Path: relPath(fsys.root, dir), Err: errors.New(msg)}
}

// objects converts m to unstructured objects, refusing more than max of them and objects
// without apiVersion, kind or name, which cannot be applied.
func objects(m resmap.ResMap, max int) ([]*unstructured.Unstructured, error) {
	if n := m.Size(); n > max {
		return nil, &BuildError{Err: fmt.Errorf("the build produced %d objects, more than the limit of %d: "+
			"split the manifests into several Kustomizations", n, max)}
	}
	objs := make([]*unstructured.Unstructured, 0, m.Size())
	for _, res := range m.Resources() {
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, &BuildError{Err: fmt.Errorf("encoding %s: %w", res.CurId(), err)}
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, &BuildError{Err: fmt.Errorf("decoding %s: %w", res.CurId(), err)}
		}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, &BuildError{Err: fmt.Errorf("an object of the build has no apiVersion, kind or name (%s): "+
				"every manifest needs all three", res.CurId())}
		}
		objs = append(objs, u)
	}
	return objs, nil
}
