package e2e

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/azimuth-gitops/azimuth/devenv"
)

// push uploads an OCI artifact with one tar.gz layer of files to repository:tag of the local
// registry, as the client-secret application with AcrPush, and returns the manifest digest.
func (s *suite) push(t *testing.T, repository, tag string, files map[string]string) v1.Hash {
	t.Helper()
	return s.pushAnnotated(t, repository, tag, files, nil)
}

// pushAnnotated is push with annotations on the manifest, such as the revision it was built from.
func (s *suite) pushAnnotated(t *testing.T, repository, tag string, files, annotations map[string]string) v1.Hash {
	t.Helper()
	img, err := devenv.Artifact(files, annotations)
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := s.env.Pusher(t.Context(), tenantID, pushAppID, pushAppSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := pusher.Push(registryHost+"/"+repository+":"+tag, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return digest
}
