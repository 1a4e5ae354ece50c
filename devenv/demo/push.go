package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/azimuth-gitops/azimuth/devenv"
)

// The sample repositories of the registry.
const (
	// ManifestsRepository holds OCI artifacts of Kubernetes manifests, as `flux push artifact`
	// makes them, tagged ManifestsTags.
	ManifestsRepository = "samples/manifests"
	// ImageRepository holds images tagged ImageTags.
	ImageRepository = "samples/podinfo"
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
	pusher, err := s.Env.Pusher(ctx, s.names.tenantID, s.names.pushID, s.names.pushSecret)
	if err != nil {
		return "", err
	}
	for _, tag := range ManifestsTags {
		img, err := devenv.Artifact(manifests(s.names.registryHost(), tag, s.sopsSecret), map[string]string{
			"org.opencontainers.image.source":   "https://github.com/azimuth-gitops/azimuth",
			"org.opencontainers.image.revision": tag,
			"org.opencontainers.image.created":  time.Now().UTC().Format(time.RFC3339),
		})
		if err != nil {
			return "", err
		}
		if err := pusher.Push(s.names.registryHost()+"/"+ManifestsRepository+":"+tag, img); err != nil {
			return "", fmt.Errorf("as %s: %w", PushApplication, err)
		}
	}
	for _, tag := range ImageTags {
		img, err := image(tag)
		if err != nil {
			return "", err
		}
		if err := pusher.Push(s.names.registryHost()+"/"+ImageRepository+":"+tag, img); err != nil {
			return "", fmt.Errorf("as %s: %w", PushApplication, err)
		}
	}
	return fmt.Sprintf("%s:%s, %s:%s", ManifestsRepository, strings.Join(ManifestsTags, ","), ImageRepository, strings.Join(ImageTags, ",")), nil
}

// image is a small image whose one layer holds a file that names its tag, so every tag has its
// own digest.
func image(tag string) (v1.Image, error) {
	layer, err := devenv.TarGz(map[string]string{"VERSION": tag + "\n"})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), static.NewLayer(layer, types.OCILayer))
}

// manifests are the artifact's files: an application whose replicas change between versions
// (AppPath) and, when secret is not empty, a SOPS-encrypted Secret (SecretsPath).
func manifests(registry, version string, secret []byte) map[string]string {
	replicas := "1"
	if version != ManifestsTags[0] {
		replicas = "2"
	}
	image := registry + "/" + ImageRepository + ":" + ImageTags[0]
	files := map[string]string{
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
	if len(secret) > 0 {
		files[SecretsPath+"/kustomization.yaml"] = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + SOPSSecret + ".yaml\n"
		files[SecretsPath+"/"+SOPSSecret+".yaml"] = string(secret)
	}
	return files
}
