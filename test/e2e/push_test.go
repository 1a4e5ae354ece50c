package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"

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

// push uploads an OCI artifact with one tar.gz layer of files to repository:tag of the local
// registry, as the client-secret application with AcrPush, and returns the manifest digest.
func (s *suite) push(t *testing.T, repository, tag string, files map[string]string) v1.Hash {
	t.Helper()
	layer := static.NewLayer(tarGz(t, files), types.MediaType("application/vnd.cncf.flux.content.v1.tar+gzip"))
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(registryHost + "/" + repository + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := transport.New(&s.env.Transport)
	if err != nil {
		t.Fatal(err)
	}
	provider := entra.NewProvider(&entra.Options{Transport: &s.env.Transport})
	cred, err := provider.Credential(identity.Identity{Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: tenantID, ClientID: pushAppID,
		Secret: identity.Secret{ClientSecret: pushAppSecret}, Source: "the e2e pusher"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc := acr.NewKeychain(cred, &acr.KeychainOptions{Transport: rt})
	if err := remote.Write(ref, img, remote.WithAuthFromKeychain(kc), remote.WithTransport(rt), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
