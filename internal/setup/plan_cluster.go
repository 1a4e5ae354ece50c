package setup

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// clusterKinds are the kinds ReadCluster lists: those NeedsOf reads, the GitRepositories of
// automations, and the service accounts.
var clusterKinds = []schema.GroupVersionKind{
	{Group: sourceGroup, Version: "v1", Kind: "OCIRepository"},
	{Group: sourceGroup, Version: "v1", Kind: "GitRepository"},
	{Group: sourceGroup, Version: "v1", Kind: "Bucket"},
	{Group: imageGroup, Version: "v1", Kind: "ImageRepository"},
	{Group: imageGroup, Version: "v1", Kind: "ImageUpdateAutomation"},
	{Group: kustomizeGroup, Version: "v1", Kind: "Kustomization"},
	{Group: notificationGroup, Version: "v1beta3", Kind: "Provider"},
	{Group: "", Version: "v1", Kind: "ServiceAccount"},
}

// The controller's Deployment and service account, as config/ names them.
const (
	controllerNamespace = "flux-system"
	controllerName      = "azimuth-controller"
)

// maxListed bounds the objects of one kind ReadCluster reads.
const maxListed = 20000

// ReadCluster lists the plan's kinds in namespace (every namespace when empty), and reads the
// controller's own identity: its service account's client-id annotation, else its Deployment's
// AZURE_CLIENT_ID. A kind the cluster does not serve is a note.
func ReadCluster(ctx context.Context, c ctrlclient.Reader, namespace string) (*Manifests, KnownIdentity, error) {
	m := &Manifests{}
	for _, gvk := range clusterKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		var cont string
		for {
			err := c.List(ctx, list, ctrlclient.InNamespace(namespace), ctrlclient.Limit(500), ctrlclient.Continue(cont))
			if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				m.Notes = append(m.Notes, fmt.Sprintf("the cluster does not serve %s: its CRD is not installed", gvk.GroupVersion().WithKind(gvk.Kind)))
				break
			}
			if err != nil {
				return nil, KnownIdentity{}, fmt.Errorf("listing %s: %w", gvk.Kind, err)
			}
			for _, item := range list.Items {
				item.SetGroupVersionKind(gvk)
				m.Objects = append(m.Objects, item)
			}
			if len(m.Objects) > maxListed {
				return nil, KnownIdentity{}, fmt.Errorf("more than %d objects: plan one namespace at a time (-n)", maxListed)
			}
			if cont = list.GetContinue(); cont == "" {
				break
			}
		}
	}
	controller, err := readController(ctx, c)
	return m, controller, err
}

// readController finds the controller's client ID, when it is a workload identity or set in
// its environment; a node's managed identity stays unknown.
func readController(ctx context.Context, c ctrlclient.Reader) (KnownIdentity, error) {
	key := types.NamespacedName{Namespace: controllerNamespace, Name: controllerName}
	var sa corev1.ServiceAccount
	switch err := c.Get(ctx, key, &sa); {
	case err == nil:
		if id := sa.Annotations[ClientIDAnnotation]; guid.MatchString(id) {
			return KnownIdentity{ClientID: id, TenantID: sa.Annotations[TenantIDAnnotation]}, nil
		}
	case !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err):
		return KnownIdentity{}, fmt.Errorf("reading the controller's service account %s: %w", key, err)
	}
	var d appsv1.Deployment
	switch err := c.Get(ctx, key, &d); {
	case err == nil:
		for _, ctr := range d.Spec.Template.Spec.Containers {
			for _, e := range ctr.Env {
				if e.Name == "AZURE_CLIENT_ID" && guid.MatchString(e.Value) {
					return KnownIdentity{ClientID: e.Value}, nil
				}
			}
		}
	case !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err):
		return KnownIdentity{}, fmt.Errorf("reading the controller's Deployment %s: %w", key, err)
	}
	return KnownIdentity{}, nil
}

// maxDiscovery bounds the OpenID configuration ClusterIssuer reads.
const maxDiscovery = 64 << 10

// ClusterIssuer reads the cluster's service account issuer from its API server's OpenID
// configuration (/.well-known/openid-configuration), spelled exactly as its tokens carry it:
// the federated credentials must name it byte for byte. The discovery document is served to
// authenticated users by default; a refusal says to pass --issuer.
func ClusterIssuer(ctx context.Context, cfg *rest.Config) (string, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	rc, err := rest.RESTClientForConfigAndClient(withoutGroup(cfg), hc)
	if err != nil {
		return "", err
	}
	body, err := rc.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the cluster's OpenID configuration (/.well-known/openid-configuration) for its issuer: %w; pass --issuer (on AKS: az aks show --query oidcIssuerProfile.issuerUrl)", err)
	}
	if len(body) > maxDiscovery {
		return "", fmt.Errorf("the cluster's OpenID configuration is over %d bytes; pass --issuer", maxDiscovery)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Issuer == "" {
		return "", fmt.Errorf("the cluster's OpenID configuration names no issuer; pass --issuer")
	}
	return doc.Issuer, nil
}

// withoutGroup is cfg for requests outside an API group, as discovery paths are.
func withoutGroup(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &schema.GroupVersion{}
	c.APIPath = "/"
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return c
}
