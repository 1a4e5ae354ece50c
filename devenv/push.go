package devenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Flux's media types for artifacts (`flux push artifact`).
const (
	FluxConfigMediaType  = "application/vnd.cncf.flux.config.v1+json"
	FluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
)

// Pusher writes to the local registries as an application with a client secret, the way a CI
// pipeline would: Entra token, ACR exchange, push. It goes through the same transport as the
// controllers, so the local Azure is reached by connect-to and CA alone.
type Pusher struct {
	Transport http.RoundTripper
	options   []remote.Option
}

// Pusher returns a Pusher acting as the application clientID of tenantID.
func (e *Env) Pusher(ctx context.Context, tenantID, clientID, secret string) (*Pusher, error) {
	rt, err := transport.New(&e.Transport)
	if err != nil {
		return nil, err
	}
	cred, err := entra.NewProvider(&entra.Options{Transport: &e.Transport}).Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: tenantID, ClientID: clientID,
		Secret: identity.Secret{ClientSecret: secret}, Source: "the pusher",
	}, nil)
	if err != nil {
		return nil, err
	}
	kc := acr.NewKeychain(cred, &acr.KeychainOptions{Transport: rt})
	return &Pusher{Transport: rt, options: []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithTransport(rt), remote.WithContext(ctx)}}, nil
}

// Push writes img as ref (REGISTRY/REPOSITORY:TAG).
func (p *Pusher) Push(ref string, img v1.Image) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img, p.options...); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// Options are the pusher's remote options, for other go-containerregistry calls (remote.Tag).
func (p *Pusher) Options() []remote.Option { return p.options }

// Artifact is an OCI artifact with one layer, a tar.gz of files, as `flux push artifact` makes
// it, with the given manifest annotations.
func Artifact(files map[string]string, annotations map[string]string) (v1.Image, error) {
	layer, err := TarGz(files)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(layer, FluxContentMediaType))
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, FluxConfigMediaType)
	if len(annotations) > 0 {
		img = mutate.Annotations(img, annotations).(v1.Image)
	}
	return img, nil
}

// TarGz packs files (path → content) into a gzipped tarball, in path order.
func TarGz(files map[string]string) ([]byte, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, p := range paths {
		content := files[p]
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
