package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
)

// The flux CLI, built from its module source by `make tools` (hack/tools/flux.sh), drives the
// system as a Flux user would: the newest release that builds here (bin/flux) and 2.6, the
// version whose documentation Azimuth implements (bin/flux-2.6). Flux 2.6 reads the image kinds
// at image.toolkit.fluxcd.io/v1beta2, so its `get images` and `reconcile image` work only
// because Azimuth serves that version. docs/compatibility.md lists what works and what not.

// fluxCLI is one flux binary pointed at the test API server, in the namespace nsFlux, whose
// objects the controllers reconcile with the node's managed identity.
type fluxCLI struct {
	name, path, kubeconfig, home string
	newest                       bool // 2.7 and later: ImagePolicy has suspend and its own reconcile
}

func fluxCLIs(t *testing.T, kubeconfig string) []fluxCLI {
	t.Helper()
	bin := os.Getenv("AZIMUTH_BIN_DIR")
	if bin == "" {
		bin = filepath.Join("..", "..", "bin")
	}
	var clis []fluxCLI
	for _, name := range []string{"flux", "flux-2.6"} {
		path, err := filepath.Abs(filepath.Join(bin, name))
		if err == nil {
			_, err = os.Stat(path)
		}
		if err != nil {
			t.Fatalf("%s is missing from %s: run `make tools` first", name, bin)
		}
		clis = append(clis, fluxCLI{name: name, path: path, kubeconfig: kubeconfig, home: t.TempDir(), newest: name == "flux"})
	}
	return clis
}

// run runs the CLI with args and returns its output and error.
func (f fluxCLI) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.path, append(args, "--kubeconfig="+f.kubeconfig, "--namespace="+nsFlux, "--timeout=90s")...)
	cmd.Env = append(os.Environ(), "HOME="+f.home) // its discovery cache stays in the test's directory
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %v\n%s", f.name, strings.Join(args, " "), err, out)
	return string(out), err
}

// want runs the CLI, which must succeed and print every one of wants.
func (f fluxCLI) want(t *testing.T, args []string, wants ...string) {
	t.Helper()
	out, err := f.run(t, args...)
	if err != nil {
		t.Errorf("%s %s failed: %v", f.name, strings.Join(args, " "), err)
		return
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s %s printed no %q", f.name, strings.Join(args, " "), w)
		}
	}
}

// refuse runs the CLI, which must fail and say why with every one of wants.
func (f fluxCLI) refuse(t *testing.T, args []string, wants ...string) {
	t.Helper()
	out, err := f.run(t, args...)
	if err == nil {
		t.Errorf("%s %s succeeded; Azimuth lacks what it needs", f.name, strings.Join(args, " "))
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s %s: the refusal does not say %q", f.name, strings.Join(args, " "), w)
		}
	}
}

// fluxObjects creates an OCIRepository, an ImageRepository and an ImagePolicy named podinfo in
// nsFlux, with an artifact and two tags in the registry, and waits until they are Ready.
func (s *suite) fluxObjects(t *testing.T) (*sourcev1.OCIRepository, *imagev1.ImageRepository, *imagev1.ImagePolicy, *kustomizev1.Kustomization) {
	t.Helper()
	if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: nsFlux}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	s.push(t, "flux/manifests", "1.0.0", map[string]string{"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo-config\ndata:\n  greeting: hello\n"})
	for _, tag := range []string{"1.0.0", "1.1.0"} {
		s.push(t, "flux/app", tag, map[string]string{"x": tag})
	}
	om := metav1.ObjectMeta{Namespace: nsFlux, Name: "podinfo"}
	oci := &sourcev1.OCIRepository{ObjectMeta: om, Spec: sourcev1.OCIRepositorySpec{
		URL: "oci://" + registryHost + "/flux/manifests", Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"},
		Provider: sourcev1.AzureOCIProvider, Interval: metav1.Duration{Duration: time.Hour},
	}}
	repo := &imagev1.ImageRepository{ObjectMeta: om, Spec: imagev1.ImageRepositorySpec{
		Image: registryHost + "/flux/app", Provider: imagev1.AzureProvider, Interval: metav1.Duration{Duration: time.Hour},
	}}
	policy := &imagev1.ImagePolicy{ObjectMeta: om, Spec: imagev1.ImagePolicySpec{
		ImageRepositoryRef: meta.NamespacedObjectReference{Name: "podinfo"},
		Policy:             imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
	}}
	ks := &kustomizev1.Kustomization{ObjectMeta: om, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "podinfo"},
		Path:      "./deploy", Prune: true, TargetNamespace: nsFlux, Interval: metav1.Duration{Duration: time.Hour},
	}}
	for _, o := range []client.Object{oci, repo, policy, ks} {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	s.waitFor(t, oci, "Ready=True", func() bool { st, _, _ := readyStatus(oci); return st == metav1.ConditionTrue })
	s.waitFor(t, policy, "latest 1.1.0", func() bool { return policy.Status.LatestRef != nil && policy.Status.LatestRef.Tag == "1.1.0" })
	s.waitFor(t, ks, "Ready=True", func() bool { st, _, _ := readyStatus(ks); return st == metav1.ConditionTrue })
	return oci, repo, policy, ks
}

func TestFluxCLI(t *testing.T) {
	s := system(t)
	oci, repo, policy, ks := s.fluxObjects(t)
	image := registryHost + "/flux/app"
	for _, f := range fluxCLIs(t, s.env.Kube.Kubeconfig) {
		t.Run(f.name, func(t *testing.T) {
			// The stamped kube-apiserver (hack/tools/kube-apiserver.sh) passes the version check.
			f.want(t, []string{"check", "--pre"}, "✔ Kubernetes 1.34.3", "prerequisites checks passed")

			f.want(t, []string{"get", "sources", "oci"}, "podinfo", "1.0.0@sha256:", "True")
			f.want(t, []string{"get", "images", "repository"}, "podinfo", "successful scan: found 2 tags")
			if f.newest {
				f.want(t, []string{"get", "images", "policy"}, "podinfo", image, "1.1.0")
			} else {
				// Flux 2.6 prints the deprecated status.latestImage, which Azimuth does not
				// write (nor does Flux's v1): its LATEST IMAGE column is empty.
				f.want(t, []string{"get", "images", "policy"}, "podinfo", "resolved to 1.1.0")
			}
			f.want(t, []string{"get", "kustomizations"}, "podinfo", "Applied revision: 1.0.0@sha256:")
			f.want(t, []string{"get", "all"}, "ocirepository/podinfo", "imagerepository/podinfo", "imagepolicy/podinfo", "kustomization/podinfo")
			f.want(t, []string{"export", "source", "oci", "podinfo"}, "kind: OCIRepository", "url: oci://"+registryHost+"/flux/manifests")

			f.want(t, []string{"reconcile", "source", "oci", "podinfo"}, "fetched revision 1.0.0@sha256:")
			f.want(t, []string{"reconcile", "image", "repository", "podinfo"}, "scan fetched 2 tags")
			if f.newest {
				f.want(t, []string{"reconcile", "image", "policy", "podinfo"}, "selected ref "+image+":1.1.0")
			}

			f.want(t, []string{"reconcile", "kustomization", "podinfo"}, "applied revision 1.0.0@sha256:")
			f.want(t, []string{"tree", "kustomization", "podinfo"}, "Kustomization/"+nsFlux+"/podinfo", "ConfigMap/"+nsFlux+"/podinfo-config")

			s.suspendAndResume(t, f, oci, "source", "oci")
			s.suspendAndResume(t, f, ks, "kustomization")
			s.suspendAndResume(t, f, repo, "image", "repository")
			if f.newest {
				s.suspendAndResume(t, f, policy, "image", "policy")
			}

			f.want(t, []string{"events", "--for", "OCIRepository/podinfo"}, "NewArtifact", "oci://"+registryHost+"/flux/manifests")
			f.want(t, []string{"events", "--for", "ImagePolicy/podinfo"}, "ImageRepository/podinfo", "resolved to 1.1.0")

			// What needs Flux's other kinds or Flux's own installation.
			f.refuse(t, []string{"check"}, "no controllers found", "app.kubernetes.io/part-of=flux")
		})
	}
}

// suspendAndResume suspends obj with the CLI, checks spec.suspend, then resumes it, which waits
// for the controllers to reconcile the new generation.
func (s *suite) suspendAndResume(t *testing.T, f fluxCLI, obj client.Object, kind ...string) {
	t.Helper()
	suspended := func() bool {
		if err := s.env.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		switch o := obj.(type) {
		case *sourcev1.OCIRepository:
			return o.Spec.Suspend
		case *imagev1.ImageRepository:
			return o.Spec.Suspend
		case *imagev1.ImagePolicy:
			return o.Spec.Suspend
		case *kustomizev1.Kustomization:
			return o.Spec.Suspend
		}
		t.Fatalf("%T cannot be suspended", obj)
		return false
	}
	f.want(t, append([]string{"suspend"}, append(kind, "podinfo")...), "suspended")
	if !suspended() {
		t.Errorf("%s suspend %s: spec.suspend is false", f.name, strings.Join(kind, " "))
	}
	f.want(t, append([]string{"resume"}, append(kind, "podinfo")...), "resumed", "reconciliation completed")
	if suspended() {
		t.Errorf("%s resume %s: spec.suspend is true", f.name, strings.Join(kind, " "))
	}
}
