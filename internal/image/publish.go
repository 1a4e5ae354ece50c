package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// WriteLayout writes idx to the OCI image layout in dir, creating it if needed. The layout's
// index.json then lists idx alone; blobs already in dir stay.
func WriteLayout(dir string, idx v1.ImageIndex) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image: writing the OCI layout %s: %w", dir, err)
	}
	if err := p.AppendIndex(idx); err != nil {
		return fmt.Errorf("image: writing the OCI layout %s: %w", dir, err)
	}
	return nil
}

// PushOptions configure Push. A nil *PushOptions is valid.
type PushOptions struct {
	// Keychain finds the registry's credentials. Default: authn.DefaultKeychain, which reads
	// what `crane auth login` and `docker login` store (DOCKER_CONFIG, ~/.docker/config.json).
	Keychain authn.Keychain
	// Transport carries the requests. Default: remote.DefaultTransport, which honours
	// HTTPS_PROXY and SSL_CERT_FILE, as `azimuth dev azure` prints them for the local ACR.
	Transport http.RoundTripper
	// Jobs is how many blobs are uploaded at once. Default: 4, as crane's.
	Jobs int
}

// Push pushes idx, its images and their layers to ref (a tag such as
// azimuthlocal.azurecr.io/azimuth:dev) and returns the reference by digest of what it pushed.
func Push(ctx context.Context, idx v1.ImageIndex, ref string, opts *PushOptions) (name.Digest, error) {
	var o PushOptions
	if opts != nil {
		o = *opts
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Transport == nil {
		o.Transport = remote.DefaultTransport
	}
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image: push to %q: give a tag such as azimuthlocal.azurecr.io/azimuth:dev: %w", ref, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	err = remote.WriteIndex(tag, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(o.Keychain), remote.WithTransport(o.Transport), remote.WithJobs(o.Jobs))
	if err != nil {
		return name.Digest{}, explainPush(tag, err)
	}
	return tag.Context().Digest(digest.String()), nil
}

// explainPush says what to change when a push fails: credentials for a refusal, the network
// settings otherwise.
func explainPush(tag name.Tag, err error) error {
	host := tag.RegistryStr()
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("image: pushing to %s: %w; log in with `crane auth login %s -u CLIENT_ID -p SECRET` (an identity with AcrPush on the registry; docs/image.md)", tag, err, host)
	}
	if errors.As(err, &te) {
		return fmt.Errorf("image: pushing to %s: %w", tag, err)
	}
	return fmt.Errorf("image: pushing to %s: %w; check that %s is reachable (for the local ACR, export the lines `azimuth dev azure` prints: HTTPS_PROXY and SSL_CERT_FILE)", tag, err, host)
}
