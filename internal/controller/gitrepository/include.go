package gitrepository

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
)

// included are the artifacts spec.include names, in its order, each Ready and stored; an
// include that is not is an IncludeUnavailable failure, retried until it is.
func (r *Reconciler) included(ctx context.Context, obj *sourcev1.GitRepository) ([]*meta.Artifact, error) {
	out := make([]*meta.Artifact, 0, len(obj.Spec.Include))
	for _, inc := range obj.Spec.Include {
		name := inc.GitRepositoryRef.Name
		var dep sourcev1.GitRepository
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: name}, &dep)
		switch {
		case apierrors.IsNotFound(err):
			return nil, status.Fail(sourcev1.IncludeUnavailableCondition, meta.DependencyNotReadyReason,
				fmt.Errorf("spec.include names GitRepository '%s', which does not exist in namespace '%s'", name, obj.Namespace))
		case err != nil:
			return nil, err
		case dep.Status.Artifact == nil || !r.Storage.Exists(dep.Status.Artifact):
			return nil, status.Fail(sourcev1.IncludeUnavailableCondition, meta.DependencyNotReadyReason,
				fmt.Errorf("the included GitRepository '%s' has no artifact yet", name))
		}
		out = append(out, dep.Status.Artifact)
	}
	status.Remove(obj, sourcev1.IncludeUnavailableCondition)
	return out, nil
}

// sameIncludes reports whether the stored artifact was built with these includes.
func sameIncludes(obj *sourcev1.GitRepository, artifacts []*meta.Artifact) bool {
	if !slices.Equal(obj.Status.ObservedInclude, obj.Spec.Include) || len(obj.Status.IncludedArtifacts) != len(artifacts) {
		return false
	}
	for i, a := range artifacts {
		if b := obj.Status.IncludedArtifacts[i]; b == nil || b.Revision != a.Revision || b.Digest != a.Digest {
			return false
		}
	}
	return true
}

// withIncludes mounts each included artifact (from its fromPath) at its toPath of tree, replacing
// what the tree holds there.
func (r *Reconciler) withIncludes(tree fs.FS, includes []sourcev1.GitRepositoryInclude, artifacts []*meta.Artifact) (fs.FS, error) {
	if len(includes) == 0 {
		return tree, nil
	}
	o := overlayFS{base: tree}
	for i, inc := range includes {
		at := path.Clean(strings.Trim(inc.GetToPath(), "/"))
		from := path.Clean(strings.Trim(inc.FromPath, "/"))
		if at == "." || !fs.ValidPath(at) || !fs.ValidPath(from) {
			return nil, status.Stall(meta.FailedReason, fmt.Errorf("spec.include[%d]: fromPath and toPath must be relative paths inside the artifacts, and toPath not its root", i))
		}
		rc, err := r.Storage.Open(artifacts[i])
		if err != nil {
			return nil, err
		}
		content, err := artifact.ReadFS(rc, 0)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("the artifact of GitRepository '%s': %w", inc.GitRepositoryRef.Name, err)
		}
		if from != "." {
			if content, err = fs.Sub(content, from); err != nil {
				return nil, err
			}
		}
		o.mounts = append(o.mounts, mount{at: at, fsys: content})
	}
	return o, nil
}

// includeIndex indexes GitRepositories by those they include, as NAMESPACE/NAME.
const includeIndex = ".spec.include.repository"

func includeKeys(o client.Object) []string {
	g := o.(*sourcev1.GitRepository)
	keys := make([]string, 0, len(g.Spec.Include))
	for _, inc := range g.Spec.Include {
		keys = append(keys, g.Namespace+"/"+inc.GitRepositoryRef.Name)
	}
	return keys
}

// includersOf are the GitRepositories of obj's namespace that include it: a new artifact of
// obj rebuilds theirs. They are found through includeIndex: a GitRepository's event costs
// what includes it, not a walk over every GitRepository of its namespace.
func (r *Reconciler) includersOf(ctx context.Context, obj client.Object) []reconcile.Request {
	var list sourcev1.GitRepositoryList
	if err := r.Client.List(ctx, &list, client.MatchingFields{includeIndex: obj.GetNamespace() + "/" + obj.GetName()}); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, g := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
	}
	return out
}

// artifactChanged passes a GitRepository's events that may matter to those including it: its
// creation and deletion, and a new artifact; not its status's other updates.
var artifactChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool { return artifactOf(e.ObjectOld) != artifactOf(e.ObjectNew) },
}

func artifactOf(o client.Object) string {
	if g, ok := o.(*sourcev1.GitRepository); ok && g.Status.Artifact != nil {
		return g.Status.Artifact.Revision + "@" + g.Status.Artifact.Digest
	}
	return ""
}

// overlayFS is base with file systems mounted at directories, which replace base's.
type overlayFS struct {
	base   fs.FS
	mounts []mount
}

type mount struct {
	at   string
	fsys fs.FS
}

var _ fs.ReadDirFS = overlayFS{}

// resolve finds the mount that holds name, and name inside it.
func (o overlayFS) resolve(name string) (fs.FS, string) {
	for i := len(o.mounts) - 1; i >= 0; i-- {
		m := o.mounts[i]
		if name == m.at {
			return m.fsys, "."
		}
		if rest, ok := strings.CutPrefix(name, m.at+"/"); ok {
			return m.fsys, rest
		}
	}
	return nil, name
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if fsys, rel := o.resolve(name); fsys != nil {
		f, err := fsys.Open(rel)
		if err != nil || rel != "." {
			return f, err
		}
		dir, ok := f.(fs.ReadDirFile)
		if !ok {
			f.Close()
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
		}
		return mountPoint{ReadDirFile: dir, name: path.Base(name)}, nil
	}
	if o.holdsMount(name) {
		// The tree's own directory's info, if the tree has it.
		var info fs.FileInfo = dirInfo(path.Base(name))
		if own, err := fs.Stat(o.base, name); err == nil && own.IsDir() {
			info = own
		}
		return artifact.DirFile(name, info, func() ([]fs.DirEntry, error) { return o.ReadDir(name) }), nil
	}
	return o.base.Open(name)
}

// mountPoint is a mount's root, named as the overlay lists it.
type mountPoint struct {
	fs.ReadDirFile
	name string
}

func (m mountPoint) Stat() (fs.FileInfo, error) { return dirInfo(m.name), nil }

func (o overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if fsys, rel := o.resolve(name); fsys != nil {
		return fs.ReadDir(fsys, rel)
	}
	entries, err := fs.ReadDir(o.base, name)
	// A directory that holds a mount but not the tree's own entries is the mount's parent.
	if err != nil && !o.holdsMount(name) {
		return nil, err
	}
	byName := map[string]fs.DirEntry{}
	for _, e := range entries {
		byName[e.Name()] = e
	}
	for _, m := range o.mounts {
		rest := m.at
		if name != "." {
			var ok bool
			if rest, ok = strings.CutPrefix(m.at, name+"/"); !ok {
				continue
			}
		}
		child, _, _ := strings.Cut(rest, "/")
		if e, ok := byName[child]; !ok || !e.IsDir() || child == rest {
			byName[child] = fs.FileInfoToDirEntry(dirInfo(child))
		}
	}
	out := make([]fs.DirEntry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (o overlayFS) holdsMount(name string) bool {
	return slices.ContainsFunc(o.mounts, func(m mount) bool { return name == "." || strings.HasPrefix(m.at, name+"/") })
}

// dirInfo describes a directory the overlay makes: a mount point, or one above it.
type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
