package testenv

import (
	"io/fs"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	imagev1 "github.com/azimuth-gitops/azimuth/api/image/v1"
	imagev1beta1 "github.com/azimuth-gitops/azimuth/api/image/v1beta1"
	imagev1beta2 "github.com/azimuth-gitops/azimuth/api/image/v1beta2"
	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1beta1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta1"
	notificationv1beta2 "github.com/azimuth-gitops/azimuth/api/notification/v1beta2"
	notificationv1beta3 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	sourcev1beta2 "github.com/azimuth-gitops/azimuth/api/source/v1beta2"
	"github.com/azimuth-gitops/azimuth/config/crd"
)

// These tests install the generated CRDs (config/crd) in the test API server and use them as a
// user of Flux would: manifests at the API versions Flux 2.6 documents, and values no registry
// name or pattern ever needs.

// warnings records the API server's warnings (such as a deprecated version's) for a client.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := w.seen
	w.seen = nil
	return seen
}

// fluxClient returns a client that knows every served version of Azimuth's kinds, in a
// namespace of its own, with the CRDs installed.
func fluxClient(t *testing.T, ns string) (client.Client, *warnings) {
	t.Helper()
	env := Get(t)
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.InstallCRDsFS(t.Context(), bases); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, sourcev1.AddToScheme, sourcev1beta2.AddToScheme,
		imagev1.AddToScheme, imagev1beta1.AddToScheme, imagev1beta2.AddToScheme,
		notificationv1beta1.AddToScheme, notificationv1beta2.AddToScheme, notificationv1beta3.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = w
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return c, w
}

// apply creates the object of a YAML manifest, decoded into obj, in namespace ns.
func apply(t *testing.T, c client.Client, ns, manifest string, obj client.Object) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(manifest), obj); err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace(ns)
	if err := c.Create(t.Context(), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetObjectKind().GroupVersionKind(), err)
	}
}

func get(t *testing.T, c client.Client, ns, name string, obj client.Object) {
	t.Helper()
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("reading %s %s: %v", obj.GetObjectKind().GroupVersionKind(), name, err)
	}
}

func wantDeprecation(t *testing.T, w *warnings, text string) {
	t.Helper()
	for _, s := range w.take() {
		if strings.Contains(s, text) {
			return
		}
	}
	t.Errorf("the API server sent no warning %q", text)
}

// TestFluxVersionsImageV1beta2 applies Flux 2.6's own image manifests (image.toolkit.fluxcd.io/v1beta2)
// and reads them back at v1, the version the controllers use, and at v1beta2.
func TestFluxVersionsImageV1beta2(t *testing.T) {
	const ns = "versions-image-v1beta2"
	c, w := fluxClient(t, ns)

	apply(t, c, ns, `
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: podinfo
spec:
  image: myregistry.azurecr.io/podinfo
  interval: 5m
  provider: azure
`, &imagev1beta2.ImageRepository{})
	wantDeprecation(t, w, "v1beta2 ImageRepository is deprecated, upgrade to v1")
	apply(t, c, ns, `
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: podinfo
spec:
  imageRepositoryRef:
    name: podinfo
  filterTags:
    pattern: '^(?P<version>[0-9]+\.[0-9]+\.[0-9]+)$'
    extract: '$version'
  policy:
    semver:
      range: 5.0.x
`, &imagev1beta2.ImagePolicy{})
	wantDeprecation(t, w, "v1beta2 ImagePolicy is deprecated, upgrade to v1")

	var repo imagev1.ImageRepository
	get(t, c, ns, "podinfo", &repo)
	if repo.Spec.Image != "myregistry.azurecr.io/podinfo" || repo.GetProvider() != imagev1.AzureProvider ||
		repo.Spec.Interval.Duration.String() != "5m0s" || len(repo.Spec.ExclusionList) != 1 {
		t.Errorf("v1 ImageRepository read back as %+v", repo.Spec)
	}
	var pol imagev1.ImagePolicy
	get(t, c, ns, "podinfo", &pol)
	if pol.Spec.Policy.SemVer == nil || pol.Spec.Policy.SemVer.Range != "5.0.x" ||
		pol.Spec.FilterTags == nil || pol.Spec.FilterTags.Extract != "$version" ||
		pol.Spec.DigestReflectionPolicy != imagev1.ReflectNever || pol.Spec.ImageRepositoryRef.Name != "podinfo" {
		t.Errorf("v1 ImagePolicy read back as %+v", pol.Spec)
	}

	// The controllers write status at v1; a v1beta2 reader sees all of it.
	pol.Status.LatestRef = &imagev1.ImageRef{Name: "myregistry.azurecr.io/podinfo", Tag: "5.0.3"}
	pol.Status.ObservedGeneration = pol.Generation
	if err := c.Status().Update(t.Context(), &pol); err != nil {
		t.Fatal(err)
	}
	var pol2 imagev1beta2.ImagePolicy
	get(t, c, ns, "podinfo", &pol2)
	if pol2.Spec.Policy.SemVer.Range != "5.0.x" || pol2.Status.LatestRef == nil || pol2.Status.LatestRef.Tag != "5.0.3" {
		t.Errorf("v1beta2 ImagePolicy read back as spec %+v, status %+v", pol2.Spec, pol2.Status)
	}
	var repo2 imagev1beta2.ImageRepository
	get(t, c, ns, "podinfo", &repo2)
	if repo2.Spec.Provider != imagev1.AzureProvider {
		t.Errorf("v1beta2 ImageRepository read back as %+v", repo2.Spec)
	}
}

// TestFluxVersionsImageV1beta1 applies manifests at image.toolkit.fluxcd.io/v1beta1, which
// Flux 2.6 still serves: they are stored as v1 with v1's defaults, and a v1 object read at
// v1beta1 shows v1beta1's fields only, while its other fields stay stored.
func TestFluxVersionsImageV1beta1(t *testing.T) {
	const ns = "versions-image-v1beta1"
	c, w := fluxClient(t, ns)

	apply(t, c, ns, `
apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImageRepository
metadata:
  name: podinfo
spec:
  image: ghcr.io/stefanprodan/podinfo
  interval: 1m0s
`, &imagev1beta1.ImageRepository{})
	wantDeprecation(t, w, "v1beta1 ImageRepository is deprecated, upgrade to v1")
	apply(t, c, ns, `
apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImagePolicy
metadata:
  name: podinfo
spec:
  imageRepositoryRef:
    name: podinfo
  policy:
    alphabetical:
      order: asc
`, &imagev1beta1.ImagePolicy{})

	var repo imagev1.ImageRepository
	get(t, c, ns, "podinfo", &repo)
	if repo.Spec.Image != "ghcr.io/stefanprodan/podinfo" || repo.Spec.Provider != imagev1.GenericProvider {
		t.Errorf("v1 ImageRepository read back as %+v", repo.Spec)
	}
	var pol imagev1.ImagePolicy
	get(t, c, ns, "podinfo", &pol)
	if pol.Spec.Policy.Alphabetical == nil || pol.Spec.Policy.Alphabetical.Order != "asc" {
		t.Errorf("v1 ImagePolicy read back as %+v", pol.Spec)
	}

	repo.Spec.Provider = imagev1.AzureProvider
	if err := c.Update(t.Context(), &repo); err != nil {
		t.Fatal(err)
	}
	var old imagev1beta1.ImageRepository
	get(t, c, ns, "podinfo", &old)
	if old.Spec.Image != "ghcr.io/stefanprodan/podinfo" {
		t.Errorf("v1beta1 ImageRepository read back as %+v", old.Spec)
	}
	get(t, c, ns, "podinfo", &repo)
	if repo.Spec.Provider != imagev1.AzureProvider {
		t.Errorf("spec.provider = %q after a v1beta1 read, want azure", repo.Spec.Provider)
	}
}

// TestFluxVersionsOCIRepositoryV1beta2 applies an OCIRepository as Flux 2.5 and earlier wrote it
// (source.toolkit.fluxcd.io/v1beta2), which Flux 2.6 and 2.7 still serve.
func TestFluxVersionsOCIRepositoryV1beta2(t *testing.T) {
	const ns = "versions-oci-v1beta2"
	c, w := fluxClient(t, ns)

	apply(t, c, ns, `
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
spec:
  interval: 5m0s
  url: oci://myregistry.azurecr.io/manifests/podinfo
  provider: azure
  ref:
    semver: ">=6.0.0"
  layerSelector:
    mediaType: application/vnd.cncf.flux.content.v1.tar+gzip
    operation: copy
`, &sourcev1beta2.OCIRepository{})
	wantDeprecation(t, w, "v1beta2 OCIRepository is deprecated, upgrade to v1")

	var repo sourcev1.OCIRepository
	get(t, c, ns, "podinfo", &repo)
	if repo.Spec.URL != "oci://myregistry.azurecr.io/manifests/podinfo" || repo.GetProvider() != sourcev1.AzureOCIProvider ||
		repo.Spec.Reference == nil || repo.Spec.Reference.SemVer != ">=6.0.0" ||
		repo.GetLayerOperation() != sourcev1.OCILayerCopy || repo.GetTimeout().String() != "1m0s" {
		t.Errorf("v1 OCIRepository read back as %+v", repo.Spec)
	}
	var old sourcev1beta2.OCIRepository
	get(t, c, ns, "podinfo", &old)
	if old.Spec.URL != repo.Spec.URL || old.Spec.Reference.SemVer != ">=6.0.0" {
		t.Errorf("v1beta2 OCIRepository read back as %+v", old.Spec)
	}
}

// TestSchemaBoundsRefuseLongValues: a 40 KB url, image or tag pattern is refused by the API
// server with the field and the limit, at every served version, instead of reaching the
// controller, whose messages quote such values.
func TestSchemaBoundsRefuseLongValues(t *testing.T) {
	const ns = "versions-bounds"
	c, _ := fluxClient(t, ns)
	long := strings.Repeat("a", 40<<10)
	om := metav1.ObjectMeta{Name: "long", Namespace: ns}
	ref := sourcev1.OCIRepositorySpec{URL: "oci://" + long, Interval: metav1.Duration{Duration: 60e9}}
	imageSpec := imagev1.ImageRepositorySpec{Image: "myregistry.azurecr.io/" + long, Interval: metav1.Duration{Duration: 60e9}}
	policySpec := imagev1.ImagePolicySpec{
		ImageRepositoryRef: meta.NamespacedObjectReference{Name: "podinfo"},
		Policy:             imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
		FilterTags:         &imagev1.TagFilter{Pattern: "^" + long + "$"},
	}
	tests := []struct {
		obj   client.Object
		field string
	}{
		{&sourcev1.OCIRepository{ObjectMeta: om, Spec: ref}, "spec.url"},
		{&sourcev1beta2.OCIRepository{ObjectMeta: om, Spec: ref}, "spec.url"},
		{&imagev1.ImageRepository{ObjectMeta: om, Spec: imageSpec}, "spec.image"},
		{&imagev1beta2.ImageRepository{ObjectMeta: om, Spec: imageSpec}, "spec.image"},
		{&imagev1beta1.ImageRepository{ObjectMeta: om, Spec: imagev1beta1.ImageRepositorySpec{Image: imageSpec.Image, Interval: imageSpec.Interval}}, "spec.image"},
		{&imagev1.ImagePolicy{ObjectMeta: om, Spec: policySpec}, "spec.filterTags.pattern"},
		{&imagev1beta2.ImagePolicy{ObjectMeta: om, Spec: policySpec}, "spec.filterTags.pattern"},
		{&imagev1beta1.ImagePolicy{ObjectMeta: om, Spec: imagev1beta1.ImagePolicySpec{
			ImageRepositoryRef: policySpec.ImageRepositoryRef, Policy: policySpec.Policy, FilterTags: policySpec.FilterTags,
		}}, "spec.filterTags.pattern"},
	}
	for _, tt := range tests {
		err := c.Create(t.Context(), tt.obj)
		gvk, _ := c.GroupVersionKindFor(tt.obj)
		if err == nil {
			t.Errorf("%s with a 40 KB %s was accepted", gvk, tt.field)
			continue
		}
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.field+": Too long") {
			t.Errorf("%s with a 40 KB %s: %v; want the field refused as too long", gvk, tt.field, err)
		}
		if len(err.Error()) > 4<<10 {
			t.Errorf("%s: the refusal quotes the value (%d bytes)", gvk, len(err.Error()))
		}
	}
}

// TestFluxVersionsNotificationV1beta2 applies a Provider and an Alert at
// notification.toolkit.fluxcd.io/v1beta2, which Flux 2.6 still serves: they are stored at
// v1beta3, the version the event pipeline reads, and fields Azimuth does not implement are
// refused rather than dropped.
func TestFluxVersionsNotificationV1beta2(t *testing.T) {
	const ns = "versions-notification-v1beta2"
	c, w := fluxClient(t, ns)

	apply(t, c, ns, `
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Provider
metadata:
  name: teams
spec:
  type: msteams
  secretRef:
    name: teams-webhook
  timeout: 30s
`, &notificationv1beta2.Provider{})
	wantDeprecation(t, w, "v1beta2 Provider is deprecated, upgrade to v1beta3")
	apply(t, c, ns, `
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Alert
metadata:
  name: on-call
spec:
  providerRef:
    name: teams
  eventSeverity: error
  eventSources:
    - kind: Kustomization
      name: '*'
  exclusionList:
    - ".*upgrade.*has.*started"
`, &notificationv1beta2.Alert{})
	wantDeprecation(t, w, "v1beta2 Alert is deprecated, upgrade to v1beta3")

	var p notificationv1beta3.Provider
	get(t, c, ns, "teams", &p)
	if p.Spec.Type != notificationv1beta3.MSTeamsProvider || p.Spec.SecretRef == nil ||
		p.Spec.SecretRef.Name != "teams-webhook" || p.GetTimeout().String() != "30s" {
		t.Errorf("v1beta3 Provider read back as %+v", p.Spec)
	}
	var a notificationv1beta3.Alert
	get(t, c, ns, "on-call", &a)
	if a.Spec.ProviderRef.Name != "teams" || a.Spec.EventSeverity != notificationv1beta3.EventSeverityError ||
		len(a.Spec.EventSources) != 1 || a.Spec.EventSources[0].Kind != "Kustomization" || len(a.Spec.ExclusionList) != 1 {
		t.Errorf("v1beta3 Alert read back as %+v", a.Spec)
	}

	// Flux's v1beta2 Provider has spec.proxy; Azimuth would ignore it, so the API server refuses it.
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Provider
metadata:
  name: proxied
spec:
  type: generic
  address: https://hooks.example.com
  proxy: http://proxy.example.com:3128
`), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace(ns)
	err := c.Create(t.Context(), u, client.FieldValidation(metav1.FieldValidationStrict))
	if err == nil || !strings.Contains(err.Error(), "proxy") {
		t.Errorf("a v1beta2 Provider with spec.proxy: err = %v, want a refusal naming the field", err)
	}
}

// TestFluxVersionsNotificationV1beta1: a Provider and an Alert at v1beta1, which Flux 2.6 still
// serves, are stored at v1beta3 with its defaults; read back at v1beta1 they show v1beta1's
// fields only.
func TestFluxVersionsNotificationV1beta1(t *testing.T) {
	const ns = "versions-notification-v1beta1"
	c, w := fluxClient(t, ns)

	apply(t, c, ns, `
apiVersion: notification.toolkit.fluxcd.io/v1beta1
kind: Provider
metadata:
  name: hooks
spec:
  type: generic
  address: https://hooks.example.com/flux
`, &notificationv1beta1.Provider{})
	wantDeprecation(t, w, "v1beta1 Provider is deprecated, upgrade to v1beta3")
	apply(t, c, ns, `
apiVersion: notification.toolkit.fluxcd.io/v1beta1
kind: Alert
metadata:
  name: all
spec:
  providerRef:
    name: hooks
  eventSources:
    - kind: GitRepository
      name: '*'
  summary: staging
`, &notificationv1beta1.Alert{})
	wantDeprecation(t, w, "v1beta1 Alert is deprecated, upgrade to v1beta3")

	var a notificationv1beta3.Alert
	get(t, c, ns, "all", &a)
	if a.Spec.EventSeverity != notificationv1beta3.EventSeverityInfo || a.Spec.Summary != "staging" || a.Spec.ProviderRef.Name != "hooks" {
		t.Errorf("v1beta3 Alert read back as %+v", a.Spec)
	}
	a.Spec.InclusionList = []string{".*succeeded.*"}
	if err := c.Update(t.Context(), &a); err != nil {
		t.Fatal(err)
	}
	var a1 notificationv1beta1.Alert
	get(t, c, ns, "all", &a1)
	if a1.Spec.Summary != "staging" || len(a1.Spec.EventSources) != 1 {
		t.Errorf("v1beta1 Alert read back as %+v", a1.Spec)
	}
	get(t, c, ns, "all", &a)
	if len(a.Spec.InclusionList) != 1 {
		t.Errorf("a v1beta1 read lost v1beta3's inclusionList: %+v", a.Spec)
	}
}
