package git

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// Change is what an edit makes of a tree.
type Change struct {
	// Files are the new contents of the files that change, by path from the repository's root.
	// Only files of the tree may change: an edit neither adds nor removes files. None: nothing
	// to commit.
	Files map[string][]byte
	// Message is the commit message.
	Message string
}

// Edit computes the change to commit onto tree, the files of the commit the push starts from.
// Update calls it again on the remote's new commit when the remote moved; an error ends Update
// with nothing pushed.
type Edit func(tree fs.FS) (Change, error)

// UpdateOptions say where an automation's commit starts from and goes.
type UpdateOptions struct {
	// Checkout is the ref the changes start from: spec.git.checkout.ref, or the GitRepository's
	// spec.ref.
	Checkout Ref
	// Branch is the branch pushed to (spec.git.push.branch, or Checkout's branch). When it exists
	// on the remote, the changes are made on its head; otherwise it is created at Checkout's
	// commit, as Flux does. Required.
	Branch string
	// Refspec is also pushed when set (spec.git.push.refspec), after Branch. Its source is HEAD
	// or Branch, the commit just made; it never forces.
	Refspec string
	// PushOptions are sent with the push (git push -o) when the server takes them.
	PushOptions map[string]string
	// Author makes the commit.
	Author Signature
	// SigningKey signs the commit; nil: unsigned.
	SigningKey *openpgp.Entity
	// Attempts bounds how often a push that found the remote moved is redone on the remote's new
	// head. Default: 5.
	Attempts int
	// Now is the commit's time. Default: time.Now.
	Now func() time.Time
}

// UpdateResult is what Update did.
type UpdateResult struct {
	// Checkout is the commit Checkout named in the last attempt.
	Checkout Target
	// Base is the commit the changes were made on: Branch's head, or Checkout's commit.
	Base plumbing.Hash
	// Commit is the pushed commit; zero when the edit changed nothing.
	Commit plumbing.Hash
	// Message is the pushed commit's message.
	Message string
	// Attempts is how many times the change was made: more than 1 when the remote moved.
	Attempts int
}

// Pushed tells whether a commit was pushed.
func (u UpdateResult) Pushed() bool { return !u.Commit.IsZero() }

// Update makes an automation's commit: it fetches the commit to change (into memory: no work
// tree and no credentials on disk), asks edit for the change, commits it onto that commit, and
// pushes it to opts.Branch without force, so that the remote's commits are never lost. When the
// push finds that the branch moved since the fetch, Update fetches it again and redoes the edit
// on the new head, up to opts.Attempts times.
func (r *Remote) Update(ctx context.Context, opts UpdateOptions, edit Edit) (UpdateResult, error) {
	if opts.Branch == "" {
		return UpdateResult{}, errors.New("no branch to push to")
	}
	attempts := max(opts.Attempts, 1)
	if opts.Attempts == 0 {
		attempts = 5
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	delay := 250 * time.Millisecond
	var res UpdateResult
	for attempt := 1; ; attempt++ {
		res = UpdateResult{Attempts: attempt}
		moved, err := r.updateOnce(ctx, opts, edit, now, &res)
		if err == nil || !moved {
			return res, err
		}
		if attempt == attempts {
			return res, fmt.Errorf("giving up after %d attempts, as the branch moved on the remote each time: %w", attempt, err)
		}
		wait := delay + time.Duration(rand.Int64N(int64(delay)))
		delay *= 2
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(wait):
		}
	}
}

// updateOnce is one attempt; moved says that the push failed because the branch moved on the
// remote, so that another attempt on its new head may succeed.
func (r *Remote) updateOnce(ctx context.Context, opts UpdateOptions, edit Edit, now func() time.Time, res *UpdateResult) (moved bool, err error) {
	refs, err := r.Refs(ctx)
	if err != nil {
		return false, err
	}
	if res.Checkout, err = Resolve(opts.Checkout, refs); err != nil {
		return false, err
	}
	branch := plumbing.NewBranchReferenceName(opts.Branch)
	base := res.Checkout
	head, exists := headOf(refs, branch)
	if exists {
		base = Target{Reference: branch, Hash: head, Revision: opts.Branch + "@sha1:" + head.String(), Shallow: true}
	}
	res.Base = base.Hash
	repo, commit, err := r.fetchMemory(ctx, base)
	if err != nil {
		return false, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return false, fmt.Errorf("reading the tree of commit %s: %w", base.Hash, err)
	}
	change, err := edit(treeFS{root: tree})
	if err != nil || len(change.Files) == 0 {
		return false, err
	}
	s := repo.Storer
	newTree, err := writeTree(s, tree, change.Files)
	if err != nil {
		return false, fmt.Errorf("writing the changed files: %w", err)
	}
	if newTree == tree.Hash {
		return false, nil // the edit wrote what the files already hold
	}
	hash, err := writeCommit(s, newTree, base.Hash, opts.Author, now(), change.Message, opts.SigningKey)
	if err != nil {
		return false, err
	}
	if err := s.SetReference(plumbing.NewHashReference(branch, hash)); err != nil {
		return false, err
	}
	spec := config.RefSpec(branch + ":" + branch)
	if err := r.push(ctx, repo, spec, opts.PushOptions); err != nil {
		// A push fails in more ways than one when the branch moved (a non-fast-forward, an
		// object go-git cannot find to check it, the server refusing a stale old value): ask the
		// remote where the branch is now rather than reading the error.
		if after, lerr := r.Refs(ctx); lerr == nil {
			if now, _ := headOf(after, branch); now != head {
				return true, fmt.Errorf("pushing to branch '%s': %w", opts.Branch, err)
			}
		}
		return false, err
	}
	res.Commit, res.Message = hash, change.Message
	if opts.Refspec != "" {
		spec, err := refspecFor(opts.Refspec, opts.Branch, hash)
		if err != nil {
			return false, err
		}
		if err := r.push(ctx, repo, spec, opts.PushOptions); err != nil {
			return false, fmt.Errorf("pushing commit %s with refspec '%s' (it is on branch '%s'): %w", hash, clip.String(opts.Refspec, 200), opts.Branch, err)
		}
	}
	return false, nil
}

// push pushes spec from repo to the remote, with the same credentials, CA and proxy as a fetch.
func (r *Remote) push(ctx context.Context, repo *gogit.Repository, spec config.RefSpec, options map[string]string) error {
	remote, err := repo.CreateRemote(&config.RemoteConfig{Name: "push-" + fmt.Sprint(rand.Uint32()), URLs: []string{r.url}})
	if err != nil {
		return err
	}
	err = remote.PushContext(ctx, &gogit.PushOptions{
		RemoteName: remote.Config().Name, RefSpecs: []config.RefSpec{spec}, Options: options,
		Auth: r.auth, CABundle: r.ca, ProxyOptions: r.proxy,
	})
	if errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil
	}
	return r.pushRefusal(err)
}

// pushRefusal explains the remote refusing a push: Azure DevOps wants the project's
// Contributors group for an Entra identity; other credentials need write access.
func (r *Remote) pushRefusal(err error) error {
	err = r.refusal(err, devops.Contributors)
	var refused *RefusalError
	if r.explain == nil && errors.As(err, &refused) {
		return &RefusalError{err: &hinted{err: refused.err, hint: "pushing needs write access to the repository (in Azure DevOps: a member of the project's Contributors group, or a personal access token with the scope Code (Read & write), vso.code_write)"}}
	}
	return err
}

// hinted is an error with what to do about it; the server's text it wraps may end in a newline.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return strings.TrimSpace(h.err.Error()) + ": " + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// fetchMemory fetches t into memory, as Fetch does into a directory.
func (r *Remote) fetchMemory(ctx context.Context, t Target) (*gogit.Repository, *object.Commit, error) {
	opts := &gogit.CloneOptions{
		URL: r.url, Auth: r.auth, CABundle: r.ca, ProxyOptions: r.proxy,
		ReferenceName: t.Reference, SingleBranch: t.Reference != "", Tags: gogit.NoTags, NoCheckout: true,
	}
	if t.Shallow {
		opts.Depth = 1
	}
	repo, err := gogit.CloneContext(ctx, memory.NewStorage(), nil, opts)
	if err != nil {
		return nil, nil, r.refusal(err, devops.Readers)
	}
	commit, err := repo.CommitObject(t.Hash)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, nil, fmt.Errorf("commit %s %w", t.Hash, ErrRefNotFound)
		}
		return nil, nil, fmt.Errorf("reading commit %s: %w", t.Hash, err)
	}
	return repo, commit, nil
}

// refspecFor turns spec.git.push.refspec into a refspec of the commit just made: its source
// must be HEAD or the push branch, which is that commit here; a destination that is no full
// reference name is a branch, as git reads it.
func refspecFor(refspec, branch string, commit plumbing.Hash) (config.RefSpec, error) {
	src, dst, ok := strings.Cut(refspec, ":")
	switch {
	case !ok || dst == "" || strings.HasPrefix(src, "+"):
		return "", fmt.Errorf("spec.git.push.refspec '%s' must be SOURCE:DESTINATION, without '+': the automation never forces a push", clip.String(refspec, 200))
	case src != "HEAD" && src != branch && src != "refs/heads/"+branch:
		return "", fmt.Errorf("spec.git.push.refspec '%s': the source must be HEAD or the push branch '%s', where the automation's commit is", clip.String(refspec, 200), branch)
	}
	if !strings.HasPrefix(dst, "refs/") {
		dst = "refs/heads/" + dst
	}
	spec := config.RefSpec(commit.String() + ":" + dst)
	if err := spec.Validate(); err != nil {
		return "", fmt.Errorf("spec.git.push.refspec '%s': %w", clip.String(refspec, 200), err)
	}
	return spec, nil
}

// headOf returns the commit of ref name among refs.
func headOf(refs []*plumbing.Reference, name plumbing.ReferenceName) (plumbing.Hash, bool) {
	for _, ref := range refs {
		if ref.Name() == name && ref.Type() == plumbing.HashReference {
			return ref.Hash(), true
		}
	}
	return plumbing.ZeroHash, false
}
