package git

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Submodule is a submodule of a fetched commit: where it goes, where it comes from, and the
// commit the parent records for it.
type Submodule struct {
	Path   string
	URL    string
	Commit plumbing.Hash
}

// Submodules lists the commit's submodules: its gitlinks, with their URLs from .gitmodules
// (relative ones resolved against parentURL, as git does).
func (c *Checkout) Submodules(parentURL string) ([]Submodule, error) {
	data, err := fs.ReadFile(c.Tree, ".gitmodules")
	if err != nil {
		return nil, nil // no .gitmodules: no submodules to fetch
	}
	modules := config.NewModules()
	if err := modules.Unmarshal(data); err != nil {
		return nil, fmt.Errorf(".gitmodules of commit %s cannot be read: %w", c.commit.Hash, err)
	}
	tree, err := c.commit.Tree()
	if err != nil {
		return nil, err
	}
	var out []Submodule
	for _, m := range modules.Submodules {
		entry, err := tree.FindEntry(m.Path)
		if err != nil || entry.Mode != filemode.Submodule {
			continue // declared, but no gitlink in this commit
		}
		u, err := resolveURL(parentURL, m.URL)
		if err != nil {
			return nil, fmt.Errorf("submodule '%s': %w", m.Path, err)
		}
		out = append(out, Submodule{Path: path.Clean(m.Path), URL: u, Commit: entry.Hash})
	}
	return out, nil
}

// resolveURL resolves a submodule URL: absolute as it is, "./" and "../" against the parent's.
func resolveURL(parent, sub string) (string, error) {
	if !strings.HasPrefix(sub, "./") && !strings.HasPrefix(sub, "../") {
		return sub, nil
	}
	base, err := url.Parse(strings.TrimSuffix(parent, "/") + "/")
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(sub)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(ref).String(), nil
}

// ForURL is r for another repository, with the same credentials and connection, as git uses the
// parent's for its submodules.
func (r *Remote) ForURL(u string) *Remote {
	c := *r
	c.url = u
	return &c
}
