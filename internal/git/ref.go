package git

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/tags"
)

// Ref is what spec.ref asks for. The zero value is the branch master, as in Flux.
type Ref struct {
	Branch, Tag, SemVer, Name, Commit string
}

// Target is the commit a Ref chose on a remote, and how to fetch it.
type Target struct {
	// Reference is the ref to clone: a branch, a tag or a full name; empty for a commit alone.
	Reference plumbing.ReferenceName
	// Hash is the commit.
	Hash plumbing.Hash
	// Revision is Flux's revision of the artifact: main@sha1:HASH, v1.0.0@sha1:HASH,
	// refs/pull/1/head@sha1:HASH, or sha1:HASH.
	Revision string
	// Shallow says whether a clone of depth 1 holds the commit.
	Shallow bool
	// Tag is the annotated tag object of a tag or semver ref; zero for a lightweight tag and
	// for other refs.
	Tag plumbing.Hash
}

// ErrRefNotFound is a ref the remote does not have.
var ErrRefNotFound = errors.New("not found on the remote")

// Resolve chooses the commit ref names among the remote's refs (with their peeled tags, as
// ls-remote lists them), in Flux's order of precedence: commit, name, semver, tag, branch.
func Resolve(ref Ref, refs []*plumbing.Reference) (Target, error) {
	byName := make(map[plumbing.ReferenceName]plumbing.Hash, len(refs))
	for _, r := range refs {
		if r.Type() == plumbing.HashReference {
			byName[r.Name()] = r.Hash()
		}
	}
	// A tag's commit is its peeled entry when it is annotated, and the tag object its own.
	tagCommit := func(tag string) (commit, object plumbing.Hash, ok bool) {
		ref, ok := byName[plumbing.NewTagReferenceName(tag)]
		if peeled, annotated := byName[plumbing.ReferenceName("refs/tags/"+tag+"^{}")]; annotated {
			return peeled, ref, true
		}
		return ref, plumbing.ZeroHash, ok
	}
	switch {
	case ref.Commit != "":
		h, ok := hashOf(ref.Commit)
		if !ok {
			return Target{}, fmt.Errorf("spec.ref.commit '%s' is not a full SHA-1 commit hash of 40 hexadecimal digits", clip.String(ref.Commit, 200))
		}
		t := Target{Hash: h, Revision: "sha1:" + h.String()}
		if ref.Branch != "" {
			t.Reference, t.Revision = plumbing.NewBranchReferenceName(ref.Branch), ref.Branch+"@sha1:"+h.String()
		}
		return t, nil
	case ref.Name != "":
		name := plumbing.ReferenceName(ref.Name)
		if !strings.HasPrefix(ref.Name, "refs/") {
			return Target{}, fmt.Errorf("spec.ref.name '%s' must be a full reference name, such as refs/heads/main or refs/tags/v1.0.0", clip.String(ref.Name, 200))
		}
		h, ok := byName[name]
		if tag, isTag := strings.CutPrefix(ref.Name, "refs/tags/"); isTag {
			h, _, ok = tagCommit(tag)
		}
		if !ok {
			return Target{}, fmt.Errorf("reference '%s' %w", clip.String(ref.Name, 200), ErrRefNotFound)
		}
		return Target{Reference: name, Hash: h, Revision: ref.Name + "@sha1:" + h.String(), Shallow: true}, nil
	case ref.SemVer != "":
		policy, err := tags.NewSemver(ref.SemVer)
		if err != nil {
			return Target{}, fmt.Errorf("spec.ref.semver: %w", err)
		}
		var list []string
		for name := range byName {
			if tag, ok := strings.CutPrefix(name.String(), "refs/tags/"); ok && !strings.HasSuffix(tag, "^{}") {
				list = append(list, tag)
			}
		}
		tag, err := policy.Latest(list, nil)
		if err != nil {
			return Target{}, fmt.Errorf("no tag matches spec.ref.semver '%s': %w", clip.String(ref.SemVer, 200), err)
		}
		ref = Ref{Tag: tag}
		fallthrough
	case ref.Tag != "":
		h, object, ok := tagCommit(ref.Tag)
		if !ok {
			return Target{}, fmt.Errorf("tag '%s' %w", clip.String(ref.Tag, 200), ErrRefNotFound)
		}
		return Target{Reference: plumbing.NewTagReferenceName(ref.Tag), Hash: h, Revision: ref.Tag + "@sha1:" + h.String(), Shallow: true, Tag: object}, nil
	}
	branch := ref.Branch
	if branch == "" {
		branch = "master"
	}
	h, ok := byName[plumbing.NewBranchReferenceName(branch)]
	if !ok {
		return Target{}, fmt.Errorf("branch '%s' %w", clip.String(branch, 200), ErrRefNotFound)
	}
	return Target{Reference: plumbing.NewBranchReferenceName(branch), Hash: h, Revision: branch + "@sha1:" + h.String(), Shallow: true}, nil
}

func hashOf(s string) (plumbing.Hash, bool) {
	if len(s) != 40 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(s), true
}
