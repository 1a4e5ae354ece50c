package gitrepository

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/azimuth-gitops/azimuth/internal/git"
)

// maxSubmoduleDepth bounds how deep submodules of submodules are fetched.
const maxSubmoduleDepth = 5

// withSubmodules mounts each submodule's commit, fetched with the parent's credentials into
// scratch, at its path of checkout's tree, and theirs within them.
func (r *Reconciler) withSubmodules(ctx context.Context, remote *git.Remote, checkout *git.Checkout, url, scratch string, depth int) (fs.FS, error) {
	subs, err := checkout.Submodules(url)
	if err != nil || len(subs) == 0 {
		return checkout.Tree, err
	}
	if depth == 0 {
		return nil, fmt.Errorf("submodules are nested deeper than %d levels", maxSubmoduleDepth)
	}
	o := overlayFS{base: checkout.Tree}
	for _, s := range subs {
		dir, err := os.MkdirTemp(scratch, "submodule-")
		if err != nil {
			return nil, err
		}
		sub := remote.ForURL(s.URL)
		fetched, err := sub.Fetch(ctx, dir, git.Target{Hash: s.Commit})
		if err != nil {
			return nil, fetchError(err, fmt.Errorf("submodule '%s' (%s, commit %s): %w", s.Path, s.URL, s.Commit, err))
		}
		tree, err := r.withSubmodules(ctx, sub, fetched, s.URL, scratch, depth-1)
		if err != nil {
			return nil, err
		}
		o.mounts = append(o.mounts, mount{at: s.Path, fsys: tree})
	}
	return o, nil
}
