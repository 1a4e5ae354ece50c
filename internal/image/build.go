package image

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Build makes the image index of opts.Binaries: one image per platform, sorted by platform,
// sharing the base layer. The layers are built in memory (a binary's compressed size each), so
// the index can be written to a layout and pushed without building again.
func Build(ctx context.Context, opts Options) (v1.ImageIndex, error) {
	if len(opts.Binaries) == 0 {
		return nil, errors.New("image: no binary; give one per platform, built with CGO_ENABLED=0 GOOS=linux")
	}
	bins := slices.Clone(opts.Binaries)
	slices.SortFunc(bins, func(a, b Binary) int { return strings.Compare(a.Platform.String(), b.Platform.String()) })
	for i := 1; i < len(bins); i++ {
		if bins[i].Platform.Equals(bins[i-1].Platform) {
			return nil, fmt.Errorf("image: two binaries for %s; give one per platform", bins[i].Platform.String())
		}
	}
	created := opts.Created.UTC().Truncate(time.Second)
	base, err := newLayer(baseEntries(), created)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range bins {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, err := platformImage(b, base, created, labels(opts, created))
		if err != nil {
			return nil, err
		}
		p := b.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

// platformImage makes one platform's image: the base layer, the binary's layer and the config.
func platformImage(b Binary, base v1.Layer, created time.Time, labels map[string]string) (v1.Image, error) {
	e, err := binaryEntry(b)
	if err != nil {
		return nil, err
	}
	bin, err := newLayer([]entry{e}, created)
	if err != nil {
		return nil, err
	}
	at := v1.Time{Time: created}
	cfg := &v1.ConfigFile{
		Created:      at,
		OS:           b.Platform.OS,
		Architecture: b.Platform.Architecture,
		RootFS:       v1.RootFS{Type: "layers"}, // Append adds the diff IDs
		Config: v1.Config{
			User:       fmt.Sprintf("%d:%d", NonRoot, NonRoot),
			Entrypoint: []string{BinaryPath},
			Cmd:        []string{"controller"},
			WorkingDir: "/",
			Labels:     labels,
		},
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: at, CreatedBy: "azimuth image: /etc/passwd, /etc/group, /tmp, /data", Comment: "internal/image"}},
		mutate.Addendum{Layer: bin, History: v1.History{Created: at, CreatedBy: "azimuth image: " + BinaryPath, Comment: "internal/image"}},
	)
}

// labels are the OCI annotations of docs/image.md, set as image labels.
func labels(opts Options, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.created": created.Format(time.RFC3339),
		"org.opencontainers.image.source":  opts.Source,
		"org.opencontainers.image.title":   "azimuth",
	}
	if opts.Source == "" {
		l["org.opencontainers.image.source"] = Source
	}
	if opts.Version != "" {
		l["org.opencontainers.image.version"] = opts.Version
	}
	if opts.Revision != "" {
		l["org.opencontainers.image.revision"] = opts.Revision
	}
	return l
}
