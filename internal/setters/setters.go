package setters

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Image is an ImagePolicy's latest image (status.latestRef).
type Image struct {
	Name, Tag, Digest string
}

// String is NAME:TAG, or NAME:TAG@DIGEST when the digest is known: the value a marker without a
// field sets.
func (i Image) String() string {
	s := i.Name + ":" + i.Tag
	if i.Digest != "" {
		s += "@" + i.Digest
	}
	return s
}

// Policy is an ImagePolicy of the automation's namespace, as the setters may use it.
type Policy struct {
	Name string
	// Latest is the image the policy chose.
	Latest Image
	// NotReady, when not empty, says why the policy cannot be used now (no latest image yet, or
	// not Ready): markers naming it are reported in Outcome.Unresolved, not rewritten.
	NotReady string
	// Unselected: the automation's spec.policySelector leaves the policy out, so markers naming
	// it are left as they are.
	Unselected bool
}

// Outcome is what Apply found and would change.
type Outcome struct {
	// Changed is the commit message template's `.Changed`.
	Changed Result
	// Files are the new contents of the files that change, by their path in the file system
	// given to Apply; files that do not change are absent.
	Files map[string][]byte
	// Unresolved are the markers that name a policy of the namespace that does not exist or is
	// not ready, that ask for a digest the policy lacks, that are malformed, or whose value
	// cannot be rewritten. When there are any, nothing should be committed: Files may hold only
	// part of the changes the markers ask for.
	Unresolved []Unresolved
	// Skipped are the files under the path that hold the marker token but are not YAML; as in
	// Flux, they are left as they are.
	Skipped []string
}

// Unresolved is a marker Apply could not apply.
type Unresolved struct {
	// File is the file's path in the file system given to Apply; Line is 1-based.
	File string
	Line int
	// Marker is the marker's value as written.
	Marker  string
	Problem string
	// Dependency: the problem is the policy's (it does not exist, is not ready, or has no
	// digest), not the file's.
	Dependency bool
}

func (u Unresolved) Error() string {
	return fmt.Sprintf("%s:%d: marker %s: %s", u.File, u.Line, quote(u.Marker), u.Problem)
}

// Apply finds the markers in the YAML files (.yaml, .yml, and files named Kustomization) under
// dir of fsys, and returns the files they change with the images of policies. Markers of another
// namespace than namespace are left as they are, as in Flux: another namespace's automation
// owns them.
//
// dir is the update path, relative to the root of fsys, cleaned as Flux cleans it (a leading
// "/" or "./" and ".." above the root lead to the root); it may also name one file. Symbolic
// links are never followed: one under dir is skipped, and one on the way to dir makes it an
// error.
func Apply(fsys fs.FS, dir, namespace string, policies []Policy) (*Outcome, error) {
	root := cleanPath(dir)
	info, err := lstatPath(fsys, root)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*Policy, len(policies))
	for i := range policies {
		byName[policies[i].Name] = &policies[i]
	}
	u := &updater{fsys: fsys, namespace: namespace, policies: byName, out: &Outcome{Files: map[string][]byte{}}}
	if !info.IsDir() {
		return u.out, u.file(root, path.Base(root))
	}
	err = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() || !isYAMLName(d.Name()) {
			return nil // directories are walked; links, submodules and other files are not read
		}
		rel := p
		if root != "." {
			rel = strings.TrimPrefix(p, root+"/")
		}
		return u.file(p, rel)
	})
	if err != nil {
		return nil, err
	}
	return u.out, nil
}

// cleanPath makes spec.update.path relative to the root, as Flux's securejoin does: lexically,
// and never above the root.
func cleanPath(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

// lstatPath returns what p is, checking each of its components without following a symbolic
// link: the directories of fsys listed by fs.ReadDir report links as links.
func lstatPath(fsys fs.FS, p string) (fs.FileInfo, error) {
	if p == "." {
		return fs.Stat(fsys, ".")
	}
	parent := "."
	var info fs.FileInfo
	parts := strings.Split(p, "/")
	for i, name := range parts {
		entries, err := fs.ReadDir(fsys, parent)
		if err != nil {
			return nil, fmt.Errorf("spec.update.path %s: reading %s: %w", quote(p), parent, err)
		}
		var entry fs.DirEntry
		for _, e := range entries {
			if e.Name() == name {
				entry = e
				break
			}
		}
		switch {
		case entry == nil:
			return nil, fmt.Errorf("spec.update.path %s: %s %w in the repository", quote(p), quote(path.Join(parent, name)), errNotExist)
		case entry.Type()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("spec.update.path %s: %s is a symbolic link, which the automation does not follow: name the directory it points to", quote(p), quote(path.Join(parent, name)))
		case i < len(parts)-1 && !entry.IsDir():
			return nil, fmt.Errorf("spec.update.path %s: %s is not a directory", quote(p), quote(path.Join(parent, name)))
		case i == len(parts)-1 && !entry.IsDir() && !entry.Type().IsRegular():
			return nil, fmt.Errorf("spec.update.path %s is neither a directory nor a file", quote(p))
		}
		if info, err = entry.Info(); err != nil {
			return nil, err
		}
		parent = path.Join(parent, name)
	}
	return info, nil
}

var errNotExist = errors.New("does not exist")

// IsNotExist tells whether Apply failed because the update path is not in the tree.
func IsNotExist(err error) bool { return errors.Is(err, errNotExist) }

// isYAMLName is the files Flux reads: .yaml and .yml, and kustomize's Kustomization.
func isYAMLName(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml" || name == "Kustomization"
}

// updater is one Apply's state.
type updater struct {
	fsys      fs.FS
	namespace string
	policies  map[string]*Policy
	out       *Outcome
}

// file rewrites the file at p of fsys, named rel in the template data.
func (u *updater) file(p, rel string) error {
	data, err := fs.ReadFile(u.fsys, p)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	if !bytes.Contains(data, []byte(Token)) {
		return nil
	}
	edited, changes, unresolved, err := rewrite(data, u.resolve)
	if err != nil {
		u.out.Skipped = append(u.out.Skipped, p)
		return nil // a file that is not YAML is left alone, as Flux does
	}
	for _, un := range unresolved {
		un.File = p
		u.out.Unresolved = append(u.out.Unresolved, un)
	}
	for _, c := range changes {
		u.out.Changed.AddChange(rel, c.object, c.change)
	}
	if edited != nil {
		u.out.Files[p] = edited
	}
	return nil
}

// resolve returns the value marker m sets; skip when the marker is not this automation's.
func (u *updater) resolve(m Marker) (value string, skip bool, problem string, dependency bool) {
	if m.Namespace != u.namespace {
		return "", true, "", false
	}
	p, ok := u.policies[m.Name]
	switch {
	case !ok:
		return "", false, fmt.Sprintf("ImagePolicy %s/%s does not exist: create it, or correct the marker", m.Namespace, m.Name), true
	case p.Unselected:
		return "", true, "", false
	case p.NotReady != "":
		return "", false, fmt.Sprintf("ImagePolicy %s/%s is not ready: %s", m.Namespace, m.Name, p.NotReady), true
	}
	switch m.Field {
	case FieldTag:
		return p.Latest.Tag, false, "", false
	case FieldName:
		return p.Latest.Name, false, "", false
	case FieldDigest:
		if p.Latest.Digest == "" {
			return "", false, fmt.Sprintf("ImagePolicy %s/%s has no digest in status.latestRef: set its spec.digestReflectionPolicy to IfNotPresent or Always", m.Namespace, m.Name), true
		}
		return p.Latest.Digest, false, "", false
	}
	return p.Latest.String(), false, "", false
}
