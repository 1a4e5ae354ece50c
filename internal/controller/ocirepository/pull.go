package ocirepository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/internal/artifact"
	"github.com/azimuth-gitops/azimuth/internal/controller/status"
	"github.com/azimuth-gitops/azimuth/internal/oci"
	"github.com/azimuth-gitops/azimuth/internal/tags"
)

// plan is what one reconcile pulls, decided before anything is downloaded.
type plan struct {
	ctx      context.Context
	repo     name.Repository
	ref      name.Reference
	access   *oci.Access
	revision string // TAG@sha256:DIGEST, or sha256:DIGEST for a digest ref
	digest   v1.Hash
	manifest *remote.Descriptor // the manifest, when plan fetched it already
}

// run runs op against the object's repository, in the session of the object's credentials
// (oci.Access.Do): an unchanged reconcile after the first makes no ping and asks for no token.
func (p *plan) run(op func(*remote.Puller) error) error {
	return p.access.Do(p.ctx, p.repo, func(session http.RoundTripper) error {
		puller, err := remote.NewPuller(remote.WithContext(p.ctx), remote.WithTransport(session))
		if err != nil {
			return err
		}
		return op(puller)
	})
}

// plan parses the URL, builds the object's registry access, chooses the reference and reads its
// manifest digest: with a HEAD when the stored artifact may be up to date, else with the GET of
// the manifest that the pull needs anyway.
func (r *Reconciler) plan(ctx context.Context, obj *sourcev1.OCIRepository) (*plan, error) {
	repo, err := parseRepository(obj.Spec.URL, obj.Spec.Insecure)
	if err != nil {
		return nil, status.Stall(sourcev1.URLInvalidReason, err)
	}
	selector, err := tags.NewRefSelector(refSpec(obj.Spec.Reference))
	if err != nil {
		return nil, status.Stall(meta.FailedReason, err)
	}
	access, err := r.Access.Access(ctx, oci.ForOCIRepository(obj))
	if err != nil {
		return nil, status.Fail(sourcev1.FetchFailedCondition, sourcev1.AuthenticationFailedReason, err)
	}
	p := &plan{ctx: ctx, repo: repo, access: access}
	var chosen tags.Ref
	err = p.run(func(puller *remote.Puller) error {
		var list []string
		if selector.NeedsTags() {
			if list, err = puller.List(ctx, repo); err != nil {
				return err
			}
		}
		if chosen, err = selector.Select(list); err != nil {
			return err
		}
		p.ref, err = name.ParseReference(repo.Name()+chosen.String(), nameOptions(obj.Spec.Insecure)...)
		if err != nil {
			return err
		}
		if r.mustPull(obj) {
			// Nothing stored can serve: the manifest itself, not a HEAD and then the manifest.
			p.manifest, err = puller.Get(ctx, p.ref)
			if err != nil {
				return err
			}
			p.digest = p.manifest.Digest
			return nil
		}
		// HEAD, not GET: an unchanged artifact costs no manifest download, and registries that
		// count pulls (Docker Hub) do not count it.
		desc, err := puller.Head(ctx, p.ref)
		if err != nil {
			return err
		}
		p.digest = desc.Digest
		return nil
	})
	if err != nil {
		return nil, r.fetchError(p, repo, err)
	}
	p.revision = p.digest.String()
	if chosen.Tag != "" {
		p.revision = chosen.Tag + "@" + p.digest.String()
	}
	return p, nil
}

// pull downloads the chosen layer and stores it as the object's new artifact.
func (r *Reconciler) pull(ctx context.Context, obj *sourcev1.OCIRepository, p *plan, dir string) (*meta.Artifact, error) {
	var img v1.Image
	err := p.run(func(puller *remote.Puller) error {
		desc := p.manifest
		if desc == nil {
			var err error
			if desc, err = puller.Get(ctx, p.ref.Context().Digest(p.digest.String())); err != nil {
				return err
			}
		}
		var err error
		img, err = desc.Image()
		return err
	})
	if err != nil {
		return nil, r.fetchError(p, p.ref.Context(), err)
	}
	layer, err := selectLayer(img, obj.GetLayerMediaType())
	if err != nil {
		return nil, status.Fail(sourcev1.FetchFailedCondition, sourcev1.OCILayerOperationFailedReason, err)
	}
	w, err := r.Storage.Create(dir + "/" + strings.TrimPrefix(p.digest.Hex, "sha256:") + ".tar.gz")
	if err != nil {
		return nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.DirCreationFailedReason, err)
	}
	defer w.Close()
	// A registry layer's reader fails at its end unless the bytes have the layer's digest, and
	// copy and extract read it to its end: an artifact that is the layer as it is takes that
	// digest without hashing the layer again. A digest of another algorithm is hashed anyway.
	if d, err := layer.Digest(); err == nil {
		_ = w.Verified(d.String())
	}
	if obj.Spec.LayerSelector != nil && obj.Spec.LayerSelector.Operation == sourcev1.OCILayerCopy {
		err = r.copyLayer(layer, w)
	} else {
		err = r.extractLayer(layer, w, obj.Spec.Ignore)
	}
	if err != nil {
		return nil, status.Fail(sourcev1.FetchFailedCondition, sourcev1.OCILayerOperationFailedReason, err)
	}
	a, err := w.Commit(p.revision)
	if err != nil {
		return nil, status.Fail(sourcev1.StorageOperationFailedCondition, sourcev1.ArchiveOperationFailedReason, err)
	}
	if m, err := img.Manifest(); err == nil && len(m.Annotations) > 0 {
		a.Metadata = m.Annotations
	}
	return a, nil
}

func selectLayer(img v1.Image, mediaType string) (v1.Layer, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the artifact's layers: %w", err)
	}
	for _, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if mediaType == "" || string(mt) == mediaType {
			return l, nil
		}
	}
	if mediaType == "" {
		return nil, errors.New("the artifact has no layers")
	}
	return nil, fmt.Errorf("the artifact has no layer with media type '%s': fix spec.layerSelector.mediaType", mediaType)
}

// copyLayer stores the layer byte for byte, within the default limit on its size.
func (r *Reconciler) copyLayer(l v1.Layer, w io.Writer) error {
	size, _ := l.Size() // from the manifest; unknown (0) only for layers not from a registry
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := artifact.Copy(w, rc, size, &artifact.Limits{MaxCompressedSize: r.MaxArtifactSize}); err != nil {
		return fmt.Errorf("copying the layer: %w", err)
	}
	return nil
}

// extractLayer checks the layer and stores it as an artifact with spec.ignore applied, in one
// pass (artifact.Repack): the layer as it is when nothing needs to change, else rebuilt, so
// that what is stored is exactly what consumers should see. MaxArtifactSize bounds the layer
// both compressed and once decompressed.
func (r *Reconciler) extractLayer(l v1.Layer, w io.Writer, ignore *string) error {
	opts := &artifact.RepackOptions{Limits: artifact.Limits{MaxSize: r.MaxArtifactSize, MaxCompressedSize: r.MaxArtifactSize}}
	opts.Size, _ = l.Size()
	if ignore != nil {
		opts.Ignore = artifact.ParseIgnore(*ignore)
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := artifact.Repack(w, rc, opts); err != nil {
		return fmt.Errorf("extracting the layer: %w", err)
	}
	return nil
}
