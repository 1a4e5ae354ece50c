package demo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

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

// The sample repositories of the registry.
const (
	// ManifestsRepository holds OCI artifacts of Kubernetes manifests, as `flux push artifact`
	// makes them, tagged ManifestsTags.
	ManifestsRepository = "samples/manifests"
	// ImageRepository holds images tagged ImageTags.
	ImageRepository = "samples/podinfo"
)

// Flux's media types for artifacts (`flux push artifact`).
const (
	fluxConfigMediaType  = "application/vnd.cncf.flux.config.v1+json"
	fluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
)

var (
	// ManifestsTags are the artifact's versions; OCIRepositories select the highest.
	ManifestsTags = []string{"1.0.0", "1.1.0"}
	// ImageTags are the image's tags; ImagePolicies select the highest release (not the
	// release candidate).
	ImageTags = []string{"6.5.0", "6.6.0", "6.7.1", "7.0.0-rc.1"}
)

// latestManifests and latestImage are what the policies must select.
const (
	latestManifests = "1.1.0"
	latestImage     = "6.7.1"
)

// pushSamples uploads the sample artifact and image tags as PushApplication, the way a CI
// pipeline with a client secret would.
func (s *System) pushSamples(ctx context.Context) (string, error) {
	rt, err := transport.New(&s.Env.Transport)
	if err != nil {
		return "", err
	}
	cred, err := entra.NewProvider(&entra.Options{Transport: &s.Env.Transport}).Credential(identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, TenantID: s.names.tenantID, ClientID: s.names.pushID,
		Secret: identity.Secret{ClientSecret: s.names.pushSecret}, Source: "application " + PushApplication,
	}, nil)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{
		remote.WithAuthFromKeychain(acr.NewKeychain(cred, &acr.KeychainOptions{Transport: rt})),
		remote.WithTransport(rt), remote.WithContext(ctx),
	}
	for _, tag := range ManifestsTags {
		img, err := artifact(manifests(s.names.registryHost(), tag), tag)
		if err != nil {
			return "", err
		}
		if err := s.push(ManifestsRepository, tag, img, opts); err != nil {
			return "", err
		}
	}
	for _, tag := range ImageTags {
		img, err := image(tag)
		if err != nil {
			return "", err
		}
		if err := s.push(ImageRepository, tag, img, opts); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s:%s, %s:%s", ManifestsRepository, strings.Join(ManifestsTags, ","), ImageRepository, strings.Join(ImageTags, ",")), nil
}

func (s *System) push(repository, tag string, img v1.Image, opts []remote.Option) error {
	ref, err := name.ParseReference(s.names.registryHost() + "/" + repository + ":" + tag)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return fmt.Errorf("pushing %s as %s: %w", ref, PushApplication, err)
	}
	return nil
}

// artifact is an OCI artifact with one layer, a tar.gz of files, as `flux push artifact` makes.
func artifact(files map[string]string, version string) (v1.Image, error) {
	layer, err := tarGz(files)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(layer, fluxContentMediaType))
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, fluxConfigMediaType)
	return mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.source":   "https://github.com/azimuth-gitops/azimuth",
		"org.opencontainers.image.revision": version,
		"org.opencontainers.image.created":  time.Now().UTC().Format(time.RFC3339),
	}).(v1.Image), nil
}

// image is a small image whose one layer holds a file that names its tag, so every tag has its
// own digest.
func image(tag string) (v1.Image, error) {
	layer, err := tarGz(map[string]string{"VERSION": tag + "\n"})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(layer, types.OCILayer))
}

func tarGz(files map[string]string) ([]byte, error) {
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

// manifests are the artifact's files: an application whose replicas change between versions.
func manifests(registry, version string) map[string]string {
	replicas := "1"
	if version != ManifestsTags[0] {
		replicas = "2"
	}
	image := registry + "/" + ImageRepository + ":" + ImageTags[0]
	return map[string]string{
		"podinfo/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml\n  - configmap.yaml\n",
		"podinfo/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: ` + replicas + `
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: ` + image + `
          ports:
            - containerPort: 9898
          envFrom:
            - configMapRef: {name: podinfo}
`,
		"podinfo/service.yaml":   "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\nspec:\n  selector: {app: podinfo}\n  ports:\n    - port: 9898\n",
		"podinfo/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\ndata:\n  PODINFO_UI_MESSAGE: \"Hello from Azimuth " + version + "\"\n",
	}
}
