// Package gitrepository reconciles GitRepository objects: it asks the remote for the ref that
// spec.ref names (package git), and when the commit is not stored yet, clones it with the
// object's own credentials and stores its tree, without what spec.ignore and .sourceignore leave
// out, as a tarball artifact served to other controllers.
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe, reaching the remote
// through package git (and, for provider azure, the Azure DevOps adapter behind it) and storing
// through package artifact.
package gitrepository

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/git"
)

// Reconciler reconciles GitRepository objects.
type Reconciler struct {
	Client   client.Client
	Storage  *artifact.Storage
	Git      *git.Factory
	Recorder events.EventRecorder
}

// SetupWithManager registers the reconciler on the shared recipe; it also runs when a
// GitRepository that an object includes has a new artifact.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts recipe.Options) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &sourcev1.GitRepository{}, includeIndex, includeKeys); err != nil {
		return err
	}
	rec := &recipe.Recipe[*sourcev1.GitRepository]{
		Client: r.Client, Recorder: r.Recorder,
		New:       func() *sourcev1.GitRepository { return &sourcev1.GitRepository{} },
		Finalizer: sourcev1.SourceFinalizer,
		Finalize:  func(_ context.Context, obj *sourcev1.GitRepository) error { return r.Storage.Remove(artifactDir(obj)) },
		Steps:     r.reconcile,
	}
	return rec.Builder(mgr, opts).
		Watches(&sourcev1.GitRepository{}, handler.EnqueueRequestsFromMapFunc(r.includersOf), builder.WithPredicates(artifactChanged)).
		Complete(rec)
}

func artifactDir(obj *sourcev1.GitRepository) string {
	return artifact.Dir(sourcev1.GitRepositoryKind, obj.Namespace, obj.Name)
}

// reconcile lists the remote's refs, and clones and stores the chosen commit unless it is
// stored already.
func (r *Reconciler) reconcile(ctx context.Context, obj *sourcev1.GitRepository, patcher *status.Patcher) error {
	remote, err := r.Git.Remote(ctx, gitSpec(obj))
	if err != nil {
		return remoteError(err)
	}
	refs, err := remote.Refs(ctx)
	if err != nil {
		return fetchError(err, fmt.Errorf("failed to list the refs of %s: %w", obj.Spec.URL, err))
	}
	target, err := git.Resolve(gitRef(obj.Spec.Reference), refs)
	if err != nil {
		return status.Fail(sourcev1.FetchFailedCondition, sourcev1.GitOperationFailedReason, err)
	}
	includes, err := r.included(ctx, obj)
	if err != nil {
		return err
	}
	if a := obj.Status.Artifact; a != nil && a.Revision == target.Revision && r.Storage.Exists(a) &&
		equalPtr(obj.Status.ObservedIgnore, obj.Spec.Ignore) && slices.Equal(obj.Status.ObservedSparseCheckout, obj.Spec.SparseCheckout) &&
		verifiedAs(obj) && sameIncludes(obj, includes) && obj.Status.ObservedRecurseSubmodules == obj.Spec.RecurseSubmodules {
		status.Succeeded(obj, meta.SucceededReason, fmt.Sprintf("stored artifact for revision '%s'", target.Revision), sourcev1.FetchFailedCondition)
		return nil
	}
	status.Progressing(obj, fmt.Sprintf("building artifact: new upstream revision '%s'", target.Revision))
	a, err := r.store(ctx, obj, remote, target, includes)
	if err != nil {
		return err
	}
	obj.Status.Artifact, obj.Status.ObservedIgnore, obj.Status.ObservedSparseCheckout = a, obj.Spec.Ignore, obj.Spec.SparseCheckout
	obj.Status.IncludedArtifacts, obj.Status.ObservedInclude = includes, obj.Spec.Include
	obj.Status.ObservedRecurseSubmodules = obj.Spec.RecurseSubmodules
	if len(includes) == 0 {
		obj.Status.IncludedArtifacts = nil
	}
	obj.Status.SourceVerificationMode = nil
	if v := obj.Spec.Verification; v != nil {
		mode := v.GetMode()
		obj.Status.SourceVerificationMode = &mode
	}
	patcher.Revision(target.Revision)
	patcher.Announce(sourcev1.NewArtifactReason, fmt.Sprintf("stored artifact for commit '%s'", target.Revision))
	status.MarkTrue(obj, sourcev1.ArtifactInStorageCondition, meta.SucceededReason, fmt.Sprintf("stored artifact for revision '%s'", target.Revision))
	status.Succeeded(obj, meta.SucceededReason, fmt.Sprintf("stored artifact for revision '%s'", target.Revision), sourcev1.FetchFailedCondition)
	if err := r.Storage.GarbageCollect(artifactDir(obj), a); err != nil {
		return status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.StatOperationFailedReason, fmt.Errorf("garbage collecting old artifacts: %w", err))
	}
	return nil
}

// store fetches target into a directory of the storage (never the OS temp directory), without
// a work tree, and archives the commit's tree as the object's artifact.
func (r *Reconciler) store(ctx context.Context, obj *sourcev1.GitRepository, remote *git.Remote, target git.Target, includes []*meta.Artifact) (*meta.Artifact, error) {
	tmp, err := os.MkdirTemp(r.Storage.Root, ".fetch-")
	if err != nil {
		return nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.DirCreationFailedReason, err)
	}
	defer os.RemoveAll(tmp)
	checkout, err := remote.Fetch(ctx, tmp, target)
	if err != nil {
		return nil, fetchError(err, fmt.Errorf("failed to checkout and determine revision: %w", err))
	}
	if err := r.verify(ctx, obj, checkout, target); err != nil {
		return nil, err
	}
	tree := checkout.Tree
	if obj.Spec.RecurseSubmodules {
		if tree, err = r.withSubmodules(ctx, remote, checkout, obj.Spec.URL, tmp, maxSubmoduleDepth); err != nil {
			return nil, err
		}
	}
	tree, err = newSparseFS(tree, obj.Spec.SparseCheckout)
	if err != nil {
		return nil, status.Stall(sourcev1.GitOperationFailedReason, err)
	}
	if tree, err = r.withIncludes(tree, obj.Spec.Include, includes); err != nil {
		return nil, err
	}
	w, err := r.Storage.Create(artifactDir(obj) + "/" + target.Hash.String() + ".tar.gz")
	if err != nil {
		return nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.DirCreationFailedReason, err)
	}
	defer w.Close()
	if err := artifact.ArchiveFS(w, tree, ignoreRules(tree, obj.Spec.Ignore)); err != nil {
		return nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err)
	}
	a, err := w.Commit(target.Revision)
	if err != nil {
		return nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err)
	}
	return a, nil
}

// Flux's default exclusions: version control files always; CI files, binaries and archives
// unless spec.ignore replaces them.
var (
	vcsPatterns     = []string{".git/", ".gitignore", ".gitmodules", ".gitattributes"}
	defaultPatterns = []string{
		"*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
		".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml",
		"cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
		"**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
	}
)

// ignoreRules are the version control patterns, then spec.ignore (or the defaults), then the
// repository's root .sourceignore, and, below each directory, that directory's .sourceignore,
// as Flux applies them.
func ignoreRules(tree fs.FS, ignore *string) artifact.Ignore {
	patterns := append([]string(nil), vcsPatterns...)
	if ignore != nil {
		patterns = append(patterns, *ignore)
	} else {
		patterns = append(patterns, defaultPatterns...)
	}
	if data, err := fs.ReadFile(tree, ".sourceignore"); err == nil {
		patterns = append(patterns, string(data))
	}
	return artifact.ParseIgnore(strings.Join(patterns, "\n")).WithNested(".sourceignore")
}

func gitSpec(obj *sourcev1.GitRepository) git.Spec {
	name := func(ref *meta.LocalObjectReference) string {
		if ref == nil {
			return ""
		}
		return ref.Name
	}
	return git.Spec{
		Spec:     access.Spec{Namespace: obj.Namespace, ServiceAccountName: obj.Spec.ServiceAccountName, ProxySecretRef: name(obj.Spec.ProxySecretRef)},
		URL:      obj.Spec.URL,
		Provider: obj.GetProvider(), SecretRef: name(obj.Spec.SecretRef),
	}
}

func gitRef(ref *sourcev1.GitRepositoryRef) git.Ref {
	if ref == nil {
		return git.Ref{}
	}
	return git.Ref{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
}

// remoteError classifies a failure to set up the object's remote: a URL the controller cannot
// serve stalls; the rest (secrets, identities) is an authentication failure, retried.
func remoteError(err error) error {
	var urlErr *git.URLError
	if errors.As(err, &urlErr) {
		return status.Stall(sourcev1.URLInvalidReason, err)
	}
	return status.Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, err)
}

// fetchError classifies a Git operation's failure: a refusal of the credentials is an
// authentication failure that names who was refused; anything else is a Git failure.
func fetchError(err, described error) error {
	var refusal *git.RefusalError
	if errors.As(err, &refusal) {
		return status.Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, refusal)
	}
	return status.Fail(sourcev1.FetchFailedCondition, sourcev1.GitOperationFailedReason, described)
}

func equalPtr(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
