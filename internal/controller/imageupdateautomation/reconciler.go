// Package imageupdateautomation reconciles ImageUpdateAutomation objects: it fetches the
// GitRepository's branch with the GitRepository's own credentials (package git), sets the image
// references that setter markers designate to the latest images of the namespace's ImagePolicies
// (package setters), commits the changed files with the templated message (signed when asked),
// and pushes without force, making the change again on the remote's new head when it moved.
//
// In docs/architecture.md's flow it is a kind's steps on the shared recipe, reaching the remote
// through package git (and, for provider azure, the Azure DevOps adapter behind it): a push
// refused to an Entra identity names the project group it needs (Contributors) and the command
// that adds it.
package imageupdateautomation

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/controller/recipe"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/git"
	"github.com/azimuth-gitops/azimuth/internal/setters"
)

// ReadyMessage is Ready's message after a successful run, pushed or not, as in Flux.
const ReadyMessage = "repository up-to-date"

// defaultGitTimeout bounds the Git operations of a GitRepository without spec.timeout, as Flux.
const defaultGitTimeout = time.Minute

// Reconciler reconciles ImageUpdateAutomation objects.
type Reconciler struct {
	Client   client.Client
	Git      *git.Factory
	Recorder events.EventRecorder
	// NoCrossNamespaceRefs refuses a spec.sourceRef in another namespace
	// (--no-cross-namespace-refs). Default: false.
	NoCrossNamespaceRefs bool
	// Now is the clock of the run and commit times. Default: time.Now.
	Now func() time.Time
}

// SetupWithManager registers the reconciler on the shared recipe, watching the GitRepositories
// and ImagePolicies automations depend on.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts recipe.Options) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &imagev1.ImageUpdateAutomation{}, sourceIndex, sourceKey); err != nil {
		return err
	}
	rec := &recipe.Recipe[*imagev1.ImageUpdateAutomation]{
		Client: r.Client, Recorder: r.Recorder,
		New:       func() *imagev1.ImageUpdateAutomation { return &imagev1.ImageUpdateAutomation{} },
		Finalizer: imagev1.ImageFinalizer,
		Steps:     r.reconcile,
	}
	return r.watch(rec.Builder(mgr, opts)).Complete(rec)
}

// run is one reconcile's state, gathered before any Git work.
type run struct {
	obj      *imagev1.ImageUpdateAutomation
	source   *sourcev1.GitRepository
	checkout git.Ref
	// branch is the push branch; switched is true when it is not the checkout's branch.
	branch   string
	switched bool
	message  *template.Template
	policies []setters.Policy
	observed imagev1.ObservedPolicies
	key      *openpgp.Entity
	remote   *git.Remote
}

// reconcile gathers what the run needs, skips the Git work when nothing it depends on changed,
// and otherwise updates, commits and pushes.
func (r *Reconciler) reconcile(ctx context.Context, obj *imagev1.ImageUpdateAutomation, patcher *status.Patcher) error {
	now := r.now()
	obj.Status.LastAutomationRunTime = &metav1.Time{Time: now}
	ru, err := r.gather(ctx, obj)
	if err != nil {
		return err
	}
	timeout := defaultGitTimeout
	if t := ru.source.Spec.Timeout; t != nil && t.Duration > 0 {
		timeout = t.Duration
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if done, err := r.unchanged(ctx, ru); err != nil || done {
		return err
	}
	status.Progressing(obj, "updating the repository")
	res, err := ru.remote.Update(ctx, r.updateOptions(ru, now), r.edit(ru))
	if err != nil {
		return gitError(err)
	}
	obj.Status.ObservedPolicies = ru.observed
	obj.Status.ObservedSourceRevision = res.Checkout.Revision
	if res.Pushed() {
		if !ru.switched {
			obj.Status.ObservedSourceRevision = ru.branch + "@sha1:" + res.Commit.String()
		}
		obj.Status.LastPushCommit = res.Commit.String()
		obj.Status.LastPushTime = &metav1.Time{Time: now}
		patcher.Announce(meta.SucceededReason, fmt.Sprintf("pushed commit '%s' to '%s'\n%s", res.Commit, "refs/heads/"+ru.branch, res.Message))
	}
	status.Succeeded(obj, meta.SucceededReason, ReadyMessage)
	return nil
}

// gather reads and checks everything the run needs besides the repository's content.
func (r *Reconciler) gather(ctx context.Context, obj *imagev1.ImageUpdateAutomation) (*run, error) {
	spec := obj.Spec.GitSpec
	if spec == nil {
		return nil, status.Stall(imagev1.InvalidSourceConfigReason, errors.New("source kind 'GitRepository' necessitates field .spec.git"))
	}
	if u := obj.Spec.Update; u == nil || u.Strategy != imagev1.UpdateStrategySetters {
		return nil, status.Stall(imagev1.InvalidUpdateStrategyReason, errors.New("spec.update.strategy must be Setters, the only update strategy"))
	}
	ru := &run{obj: obj}
	var err error
	if ru.message, err = parseTemplate(spec.Commit.MessageTemplate); err != nil {
		return nil, err
	}
	sel, err := selector(obj)
	if err != nil {
		return nil, err
	}
	if ru.source, err = r.source(ctx, obj); err != nil {
		return nil, err
	}
	if err := ru.branches(); err != nil {
		return nil, err
	}
	var list imagev1.ImagePolicyList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the ImagePolicies of namespace %s: %w", obj.Namespace, err)
	}
	ru.policies, ru.observed = policyView(list.Items, sel)
	if ru.key, err = r.signingKey(ctx, obj); err != nil {
		return nil, err
	}
	if ru.remote, err = r.Git.Remote(ctx, gitSpec(ru.source)); err != nil {
		var urlErr *git.URLError
		if errors.As(err, &urlErr) {
			return nil, status.Stall(imagev1.InvalidSourceConfigReason, fmt.Errorf("GitRepository %s/%s: %w", ru.source.Namespace, ru.source.Name, err))
		}
		return nil, status.Fail("", imagev1.AuthenticationFailedReason, fmt.Errorf("GitRepository %s/%s: failed to configure authentication options: %w", ru.source.Namespace, ru.source.Name, err))
	}
	return ru, nil
}

// source reads the GitRepository spec.sourceRef names.
func (r *Reconciler) source(ctx context.Context, obj *imagev1.ImageUpdateAutomation) (*sourcev1.GitRepository, error) {
	key := types.NamespacedName{Namespace: obj.GetSourceNamespace(), Name: obj.Spec.SourceRef.Name}
	if r.NoCrossNamespaceRefs && key.Namespace != obj.Namespace {
		return nil, status.Stall(imagev1.AccessDeniedReason, fmt.Errorf("can't access 'GitRepository/%s', cross-namespace references have been blocked", key))
	}
	source := &sourcev1.GitRepository{}
	if err := r.Client.Get(ctx, key, source); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, status.Fail("", imagev1.SourceManagerFailedReason, fmt.Errorf("referenced GitRepository %s does not exist: create it, or correct spec.sourceRef", key))
		}
		return nil, err
	}
	return source, nil
}

// branches chooses the checkout ref and the push branch, as Flux does: spec.git.checkout.ref,
// else the GitRepository's spec.ref; spec.git.push.branch, else the checkout's branch.
func (ru *run) branches() error {
	spec := ru.obj.Spec.GitSpec
	var ref *sourcev1.GitRepositoryRef
	if spec.Checkout != nil {
		ref = &spec.Checkout.Reference
	} else if ru.source.Spec.Reference != nil {
		ref = ru.source.Spec.Reference
	}
	if ref != nil {
		ru.checkout = git.Ref{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
	}
	ru.branch = ru.checkout.Branch
	if spec.Push != nil && spec.Push.Branch != "" {
		ru.branch = spec.Push.Branch
	}
	if ru.branch == "" {
		return status.Stall(imagev1.InvalidSourceConfigReason, errors.New(
			"push spec not provided, and cannot be inferred from .spec.git.checkout.ref or GitRepository .spec.ref: set spec.git.push.branch, or a branch in spec.git.checkout.ref"))
	}
	checkoutBranch := ru.checkout.Branch
	if checkoutBranch == "" && ref == nil {
		checkoutBranch = "master" // the default ref, as in Flux
	}
	ru.switched = ru.branch != checkoutBranch || ru.checkout.Tag != "" || ru.checkout.SemVer != "" || ru.checkout.Name != "" || ru.checkout.Commit != ""
	return nil
}

// signingKey reads spec.git.commit.signingKey from the automation's namespace.
func (r *Reconciler) signingKey(ctx context.Context, obj *imagev1.ImageUpdateAutomation) (*openpgp.Entity, error) {
	ref := obj.Spec.GitSpec.Commit.SigningKey
	if ref == nil {
		return nil, nil
	}
	data, err := r.Git.Secret(ctx, obj.Namespace, ref.SecretRef.Name)
	if err != nil {
		return nil, status.Fail("", imagev1.SourceManagerFailedReason, fmt.Errorf("spec.git.commit.signingKey: %w", err))
	}
	key, err := git.ReadSigningKey(ref.SecretRef.Name, data["git.asc"], data["passphrase"])
	if err != nil {
		return nil, status.Fail("", imagev1.SourceManagerFailedReason, fmt.Errorf("spec.git.commit.signingKey: %w", err))
	}
	return key, nil
}

// unchanged tells whether the last run's outcome stands: same spec, same policies' images, and
// the checkout's commit where the last run left it. Then the run ends without fetching, as
// Flux's does; a push branch of its own or a refspec always takes a full run.
func (r *Reconciler) unchanged(ctx context.Context, ru *run) (bool, error) {
	obj := ru.obj
	ready := status.Ready(obj)
	if ru.switched || ru.obj.Spec.GitSpec.Push != nil && ru.obj.Spec.GitSpec.Push.Refspec != "" ||
		obj.Status.ObservedSourceRevision == "" || obj.Generation != obj.Status.ObservedGeneration ||
		ready == nil || ready.Status != metav1.ConditionTrue || !sameObserved(obj.Status.ObservedPolicies, ru.observed) {
		return false, nil
	}
	refs, err := ru.remote.Refs(ctx)
	if err != nil {
		return false, gitError(err)
	}
	target, err := git.Resolve(ru.checkout, refs)
	if err != nil {
		return false, gitError(err)
	}
	if target.Revision != obj.Status.ObservedSourceRevision {
		return false, nil
	}
	status.Succeeded(obj, meta.SucceededReason, ReadyMessage)
	return true, nil
}

func (r *Reconciler) updateOptions(ru *run, now time.Time) git.UpdateOptions {
	spec := ru.obj.Spec.GitSpec
	opts := git.UpdateOptions{
		Checkout: ru.checkout, Branch: ru.branch, SigningKey: ru.key,
		Author: git.Signature{Name: spec.Commit.Author.Name, Email: spec.Commit.Author.Email},
		Now:    func() time.Time { return now },
	}
	if p := spec.Push; p != nil {
		opts.Refspec = p.Refspec
		for k, v := range p.Options {
			if opts.PushOptions == nil {
				opts.PushOptions = map[string]string{}
			}
			opts.PushOptions[k] = string(v)
		}
	}
	return opts
}

// edit sets the markers under spec.update.path and renders the commit message; a marker it
// cannot set fails the run, with nothing pushed.
func (r *Reconciler) edit(ru *run) git.Edit {
	obj := ru.obj
	values := map[string]string{}
	for k, v := range obj.Spec.GitSpec.Commit.MessageTemplateValues {
		values[k] = string(v)
	}
	return func(tree fs.FS) (git.Change, error) {
		out, err := setters.Apply(tree, obj.Spec.Update.Path, obj.Namespace, ru.policies)
		if err != nil {
			return git.Change{}, status.Fail("", imagev1.UpdateFailedReason, fmt.Errorf("failed to apply policies: %w", err))
		}
		if len(out.Unresolved) > 0 {
			return git.Change{}, unresolvedError(out.Unresolved)
		}
		if len(out.Files) == 0 {
			return git.Change{}, nil
		}
		msg, err := renderMessage(ru.message, TemplateData{
			AutomationObject: types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}, Changed: out.Changed, Values: values,
		})
		if err != nil {
			return git.Change{}, err
		}
		return git.Change{Files: out.Files, Message: msg}, nil
	}
}

// unresolvedError names the markers the run could not set: DependencyNotReady when a policy is
// missing or not ready (the watch on policies runs the automation again when it changes),
// UpdateFailed when a marker or its value must be corrected in the repository.
func unresolvedError(list []setters.Unresolved) error {
	reason := imagev1.UpdateFailedReason
	var lines []string
	for i, u := range list {
		if u.Dependency {
			reason = meta.DependencyNotReadyReason
		}
		if i < 5 {
			lines = append(lines, u.Error())
		}
	}
	if len(list) > 5 {
		lines = append(lines, fmt.Sprintf("and %d more", len(list)-5))
	}
	return status.Fail("", reason, fmt.Errorf("nothing pushed: %d marker(s) cannot be set: %s", len(list), strings.Join(lines, "; ")))
}

// gitError classifies a Git failure: a refusal of the credentials is an authentication failure
// that names who was refused and what it needs; a failure of a step (a marker, the template)
// keeps its own reason; anything else is a Git operation failure.
func gitError(err error) error {
	var classified *status.Error
	if errors.As(err, &classified) {
		return err
	}
	var refusal *git.RefusalError
	if errors.As(err, &refusal) {
		return status.Fail("", imagev1.AuthenticationFailedReason, err)
	}
	return status.Fail("", imagev1.GitOperationFailedReason, fmt.Errorf("failed to update source: %w", err))
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

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
