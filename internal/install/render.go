package install

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/azimuth-gitops/azimuth/config"
)

// The names config/ gives what it installs.
const (
	// DefaultNamespace is the controller's namespace, as Flux's.
	DefaultNamespace = "flux-system"
	// Image is the image config/ runs, which Options.Image replaces.
	Image = "ghcr.io/azimuth-gitops/azimuth"
	// PartOfLabel marks every object config/ installs; Uninstall deletes only objects that
	// carry it with the value PartOf.
	PartOfLabel = "app.kubernetes.io/part-of"
	PartOf      = "azimuth"
	// ControllerName names the Deployment and its service account.
	ControllerName = "azimuth-controller"
)

// The placeholders of the identity components, which Options.ClientID and TenantID replace.
const (
	clientIDPlaceholder = "<client-id>"
	tenantIDPlaceholder = "<tenant-id>"
)

// Options say what Render builds. The zero value is config/ as it is: namespace flux-system,
// no component, the image config/ names.
type Options struct {
	// Namespace the controller runs in; cluster-scoped bindings carry it in their names.
	// Default: DefaultNamespace.
	Namespace string
	// Components are names of Components(), applied in order. Default: none.
	Components []string
	// Image is the controller's image, a full reference with a tag or a digest, such as
	// myregistry.azurecr.io/azimuth:v0.3.0. Default: Image at the tag config/ names.
	Image string
	// ClientID and TenantID (GUIDs) are the controller's Azure identity, for the components
	// aks-workload-identity, projected-token and app-certificate. Default: none; required with
	// those components, refused without them.
	ClientID, TenantID string
	// Shards are the names of the controller's shards (docs/scale-out.md): for each, a
	// Deployment azimuth-controller-NAME and a Service azimuth-NAME reconciling the objects
	// labelled sharding.fluxcd.io/key=NAME, while azimuth-controller takes the unlabelled ones.
	// Default: none, one controller for every object.
	Shards []string
}

// Components lists the components config/components holds, sorted.
func Components() []string {
	entries, err := fs.ReadDir(config.Manifests, "components")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// identityComponents use ClientID and TenantID.
var identityComponents = []string{"aks-workload-identity", "projected-token", "app-certificate"}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// check rejects options that cannot render, each error naming the flag to change.
func (o *Options) check() error {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	var errs []error
	if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--namespace %q is not a namespace name: %s", o.Namespace, strings.Join(msgs, "; ")))
	}
	known := Components()
	identity := ""
	for i, c := range o.Components {
		switch {
		case !slices.Contains(known, c):
			errs = append(errs, fmt.Errorf("--components: unknown component %q; choose from %s", c, strings.Join(known, ", ")))
		case slices.Contains(o.Components[:i], c):
			errs = append(errs, fmt.Errorf("--components names %s twice", c))
		case slices.Contains(identityComponents, c):
			if identity != "" {
				errs = append(errs, fmt.Errorf("--components: %s and %s both give the controller an identity; choose one", identity, c))
			}
			identity = c
		}
	}
	switch {
	case identity == "" && (o.ClientID != "" || o.TenantID != ""):
		errs = append(errs, fmt.Errorf("--client-id and --tenant-id are for the components %s; add one to --components or drop them", strings.Join(identityComponents, ", ")))
	case identity != "" && (!guid.MatchString(o.ClientID) || !guid.MatchString(o.TenantID)):
		errs = append(errs, fmt.Errorf("component %s needs the identity's --client-id and --tenant-id (GUIDs, as `az identity show --query '{clientId:clientId,tenantId:tenantId}'` prints them)", identity))
	}
	if _, err := imageOverride(o.Image); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, checkShards(o.Shards)...)
	return errors.Join(errs...)
}

// imageOverride is the kustomization's images entry for ref; nil for "".
func imageOverride(ref string) (*types.Image, error) {
	if ref == "" {
		return nil, nil
	}
	if len(ref) > 512 {
		return nil, fmt.Errorf("--image is %d characters long; a reference has at most 512", len(ref))
	}
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("--image %q: %w; give a full reference with a tag or a digest, such as myregistry.azurecr.io/azimuth:v0.3.0", ref, err)
	}
	img := &types.Image{Name: Image, NewName: r.Context().Name()}
	switch r := r.(type) {
	case name.Digest:
		img.Digest = r.DigestStr()
	case name.Tag:
		img.NewTag = r.TagStr()
	}
	return img, nil
}

// krustyMu serializes builds: kustomize keeps process-wide state (kubernetes-sigs/kustomize#3659).
var krustyMu sync.Mutex

// Render builds config/ with opts, returning the objects in kustomize's order.
func Render(opts Options) ([]*unstructured.Unstructured, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	fsys, err := memFS()
	if err != nil {
		return nil, err
	}
	k := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Namespace: opts.Namespace,
		Resources: []string{"../config"},
	}
	for _, c := range opts.Components {
		k.Components = append(k.Components, "../config/components/"+c)
	}
	if img, _ := imageOverride(opts.Image); img != nil {
		k.Images = []types.Image{*img}
	}
	data, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	if err := fsys.WriteFile("/install/kustomization.yaml", data); err != nil {
		return nil, err
	}
	objs, err := build(fsys, "/install")
	if err != nil {
		return nil, err
	}
	renameClusterScoped(objs, opts.Namespace)
	fillIdentity(objs, opts.ClientID, opts.TenantID)
	return addShards(objs, opts.Shards)
}

// build runs kustomize on dir of fsys.
func build(fsys filesys.FileSystem, dir string) ([]*unstructured.Unstructured, error) {
	krustyMu.Lock()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	krustyMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("rendering the embedded config/: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range m.Resources() {
		// Through JSON, so that numbers are int64, as the API machinery wants them.
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// memFS copies config.Manifests to /config of an in-memory file system.
func memFS() (filesys.FileSystem, error) {
	fsys := filesys.MakeFsInMemory()
	err := fs.WalkDir(config.Manifests, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(config.Manifests, p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(path.Join("/config", p), data)
	})
	return fsys, err
}

// renameClusterScoped gives the ClusterRoles and ClusterRoleBindings, which config/ names after
// flux-system, the name of namespace, so that installs in two namespaces do not share them.
func renameClusterScoped(objs []*unstructured.Unstructured, namespace string) {
	if namespace == DefaultNamespace {
		return
	}
	suffix := "-" + DefaultNamespace
	renamed := func(n string) string { return strings.TrimSuffix(n, suffix) + "-" + namespace }
	for _, u := range objs {
		if u.GetAPIVersion() != "rbac.authorization.k8s.io/v1" || !strings.HasSuffix(u.GetName(), suffix) {
			continue
		}
		switch u.GetKind() {
		case "ClusterRole":
			u.SetName(renamed(u.GetName()))
		case "ClusterRoleBinding":
			u.SetName(renamed(u.GetName()))
			if ref, _, _ := unstructured.NestedString(u.Object, "roleRef", "name"); strings.HasSuffix(ref, suffix) {
				_ = unstructured.SetNestedField(u.Object, renamed(ref), "roleRef", "name")
			}
		}
	}
}

// fillIdentity replaces the identity components' placeholders with the client and tenant IDs
// (check made sure they are given when a component has them).
func fillIdentity(objs []*unstructured.Unstructured, clientID, tenantID string) {
	r := strings.NewReplacer(clientIDPlaceholder, clientID, tenantIDPlaceholder, tenantID)
	for _, u := range objs {
		replaceStrings(u.Object, r)
	}
}

// replaceStrings returns v with r applied to every string value (not to keys).
func replaceStrings(v any, r *strings.Replacer) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = replaceStrings(x, r)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = replaceStrings(x, r)
		}
		return v
	case string:
		return r.Replace(v)
	default:
		return v
	}
}

// Export writes objs as one YAML stream, as `azimuth install --export` prints it.
func Export(objs []*unstructured.Unstructured) ([]byte, error) {
	var b strings.Builder
	for i, u := range objs {
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return []byte(b.String()), nil
}
