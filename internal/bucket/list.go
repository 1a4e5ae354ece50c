package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// IgnoreFile is the container's own ignore file, read at the root of the container whatever
// spec.prefix says, as Flux reads it. It never enters the artifact.
const IgnoreFile = ".sourceignore"

// Limits bound what one artifact may hold. A zero field takes its default.
type Limits struct {
	// MaxSize bounds the sum of the blobs' sizes. Default: 1 GiB, as an OCI layer's.
	MaxSize int64
	// MaxBlobs bounds the number of blobs. Default: 50,000, as an OCI layer's entries.
	MaxBlobs int
}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = 1 << 30
	}
	if l.MaxBlobs <= 0 {
		l.MaxBlobs = 50_000
	}
	return l
}

// LimitError is a container whose blobs exceed Limits. Retrying may help once blobs are removed.
type LimitError struct{ msg string }

func (e *LimitError) Error() string { return e.msg }

// Listing is the blobs of a container that an artifact holds.
type Listing struct {
	// Index is each blob's name and ETag.
	Index Index
	// Size is the sum of the blobs' sizes.
	Size int64
	// Skipped are the blobs left out because their names cannot be paths in an artifact (".."
	// or empty elements, control characters), or are ADLS Gen2 directory markers.
	Skipped []string
}

// List lists the blobs whose names start with prefix, without those that the container's root
// .sourceignore, then ignore (spec.ignore, .gitignore format), match, as Flux indexes a bucket.
// Blobs whose names end with "/" are left out as Flux leaves them out. The listing comes first,
// so that a missing container or role is told as such; .sourceignore is downloaded only when
// the listing cannot tell that it is absent.
func (b *Bucket) List(ctx context.Context, prefix string, ignore *string, limits *Limits) (*Listing, error) {
	var l Limits
	if limits != nil {
		l = *limits
	}
	l = l.withDefaults()
	var items []blob.Item
	hasIgnoreFile := !strings.HasPrefix(IgnoreFile, prefix)
	err := b.container.List(ctx, prefix, func(it blob.Item) error {
		if it.Name == IgnoreFile {
			hasIgnoreFile = true
			return nil
		}
		if strings.HasSuffix(it.Name, "/") {
			return nil
		}
		// Ignored blobs count too: a container of millions is refused before they fill memory.
		if len(items) >= 10*l.MaxBlobs {
			return b.tooMany(prefix, l.MaxBlobs)
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var rules bytes.Buffer
	if hasIgnoreFile {
		if _, err := b.container.Download(ctx, IgnoreFile, &rules); err != nil && !errors.Is(err, blob.ErrBlobNotFound) {
			return nil, fmt.Errorf("reading %s: %w", IgnoreFile, err)
		}
	}
	if ignore != nil {
		rules.WriteString("\n" + *ignore)
	}
	matcher := parseIgnore(rules.String())
	out := &Listing{Index: Index{}}
	sizes := map[string]int64{}
	for _, it := range items {
		switch {
		case !safeName(it.Name):
			out.Skipped = append(out.Skipped, it.Name)
		case matcher.Match(strings.Split(it.Name, "/"), false):
		case len(out.Index) >= l.MaxBlobs:
			return nil, b.tooMany(prefix, l.MaxBlobs)
		default:
			out.Index[it.Name], sizes[it.Name] = it.ETag, it.Size
		}
	}
	if err := out.dropDirectories(sizes); err != nil {
		return nil, err
	}
	logSkipped(ctx, out.Skipped)
	for _, s := range sizes {
		out.Size += s
	}
	if out.Size > l.MaxSize {
		return nil, &LimitError{fmt.Sprintf("the blobs of container '%s' under prefix '%s' add up to %d bytes, more than %d, Azimuth's limit on one artifact: "+
			"narrow spec.prefix, or leave blobs out with spec.ignore or .sourceignore", b.container.Name(), prefix, out.Size, l.MaxSize)}
	}
	return out, nil
}

func (b *Bucket) tooMany(prefix string, max int) error {
	return &LimitError{fmt.Sprintf("container '%s' holds more than %d blobs under prefix '%s', Azimuth's limit on one artifact: "+
		"narrow spec.prefix, or leave blobs out with spec.ignore or .sourceignore", b.container.Name(), max, prefix)}
}

// dropDirectories leaves out the empty blobs that name a directory of other blobs (the directory
// markers of accounts with a hierarchical namespace), and refuses a blob with content whose name
// is also another blob's directory: no artifact can hold both.
func (l *Listing) dropDirectories(sizes map[string]int64) error {
	for name := range l.Index {
		for dir := name; ; {
			i := strings.LastIndexByte(dir, '/')
			if i < 0 {
				break
			}
			dir = dir[:i]
			if _, ok := l.Index[dir]; !ok {
				continue
			}
			if sizes[dir] > 0 {
				return fmt.Errorf("blob '%s' is a file and the directory of blob '%s': rename one, or leave one out with spec.ignore", clip.String(dir, 120), clip.String(name, 120))
			}
			delete(l.Index, dir)
			delete(sizes, dir)
			l.Skipped = append(l.Skipped, dir)
		}
	}
	return nil
}

// safeName reports whether a blob's name can be a path in an artifact: relative, without "." or
// ".." or empty elements, without control characters.
func safeName(name string) bool {
	if !fs.ValidPath(name) || name == "." {
		return false
	}
	return strings.IndexFunc(name, unicode.IsControl) < 0
}

// parseIgnore reads .gitignore patterns, one a line, as Flux's sourceignore reads them.
func parseIgnore(patterns string) gitignore.Matcher {
	var ps []gitignore.Pattern
	for _, line := range strings.Split(patterns, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, nil))
	}
	return gitignore.NewMatcher(ps)
}

// logSkipped notes the blobs List left out for their names.
func logSkipped(ctx context.Context, skipped []string) {
	if len(skipped) > 0 {
		log.FromContext(ctx).Info("blobs left out of the artifact: their names cannot be paths, or they are directory markers", "blobs", skipped)
	}
}
