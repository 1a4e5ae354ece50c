package doctor

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
)

// target is what the object reaches, from its spec.
type target struct {
	scope   string
	service string // acr, keyvault, blob, devops, eventhubs, aks
	url     string // the registry, the Bucket's endpoint, the repository, the key, or the event hub
	bucket  string // the Bucket's container
	// group is the Azure DevOps group the operation needs: Readers to clone, Contributors to push.
	group devops.Group
	// channel is an azureeventhub Provider's spec.channel: the Event Hubs namespace.
	channel string
	// address and ca are a kubeconfig ConfigMap's API server address and CA, when it gives them.
	address string
	ca      []byte
}

// asked is what the object asks of the chain: who, through which field, and what it reaches.
type asked struct {
	spec    access.Spec
	saField string
	target  target
}

// readObject reads the object's auth fields, adding the provider (and source) links; false
// stops the chain there.
func (o Options) readObject(ctx context.Context, r *Report, obj *unstructured.Unstructured) (asked, bool) {
	a := asked{spec: access.Spec{Namespace: obj.GetNamespace()}, saField: "spec.serviceAccountName"}
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(obj.Object, fields...)
		return s
	}
	switch obj.GetKind() {
	case "Kustomization":
		// With no --key, a Kustomization that applies to an AKS cluster is checked on that path.
		if cm := str("spec", "kubeConfig", "configMapRef", "name"); cm != "" && o.Key == "" {
			return o.readKubeConfigMap(ctx, r, obj, cm, a)
		}
		a.spec.Decryption = true
		a.saField = "spec.decryption.serviceAccountName"
		a.spec.ServiceAccountName = str("spec", "decryption", "serviceAccountName")
		a.spec.IdentitySecret = str("spec", "decryption", "secretRef", "name")
		a.target = target{service: "keyvault", url: o.Key}
		return a, true
	case "Provider":
		return o.readProvider(ctx, r, obj, a)
	case "ImageUpdateAutomation":
		git, ok := o.readAutomationSource(ctx, r, obj)
		if !ok {
			return a, false
		}
		a, ok = o.readObject(ctx, r, git)
		a.target.group = devops.Contributors
		return a, ok
	}
	provider := str("spec", "provider")
	a.spec.ServiceAccountName = str("spec", "serviceAccountName")
	secret := str("spec", "secretRef", "name")
	if provider != "azure" {
		r.add(Link{Name: "provider", Detail: fmt.Sprintf("%s's spec.provider is %q, so the controller does not authenticate with Microsoft Entra ID", obj.GetKind(), provider),
			Fix: "set spec.provider: azure"})
		return a, false
	}
	r.add(Link{Name: "provider", OK: true, Detail: "spec.provider is azure"})
	if obj.GetKind() == "Bucket" {
		a.spec.IdentitySecret = secret
	} else if secret != "" {
		r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: fmt.Sprintf("spec.secretRef %s is used before any workload identity; the doctor checks workload identity only", secret)})
		return a, false
	}
	switch obj.GetKind() {
	case "OCIRepository":
		a.target = target{service: "acr", url: str("spec", "url")}
	case "ImageRepository":
		a.target = target{service: "acr", url: str("spec", "image")}
	case "Bucket":
		a.target = target{service: "blob", url: str("spec", "endpoint"), bucket: str("spec", "bucketName")}
	case "GitRepository":
		a.target = target{service: "devops", url: str("spec", "url"), group: devops.Readers}
	}
	return a, true
}

// readAutomationSource follows an ImageUpdateAutomation's spec.sourceRef to its GitRepository,
// whose identity pushes.
func (o Options) readAutomationSource(ctx context.Context, r *Report, obj *unstructured.Unstructured) (*unstructured.Unstructured, bool) {
	kind, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "kind")
	name, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "name")
	ns, _, _ := unstructured.NestedString(obj.Object, "spec", "sourceRef", "namespace")
	if ns == "" {
		ns = obj.GetNamespace()
	}
	if kind != "GitRepository" {
		r.add(Link{Name: "source", Detail: fmt.Sprintf("spec.sourceRef is a %q: an automation pushes to a GitRepository", kind), Fix: "set spec.sourceRef.kind: GitRepository"})
		return nil, false
	}
	git := &unstructured.Unstructured{}
	git.SetGroupVersionKind(kinds["gitrepository"])
	if err := o.Kube.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, git); err != nil {
		r.add(Link{Name: "source", Detail: fmt.Sprintf("the GitRepository %s/%s of spec.sourceRef: %v", ns, name, err),
			Fix: "create the GitRepository, or fix spec.sourceRef"})
		return nil, false
	}
	r.add(Link{Name: "source", OK: true, Detail: fmt.Sprintf("GitRepository %s/%s (spec.sourceRef): its identity pushes, which needs the project's %s group", ns, name, devops.Contributors)})
	return git, true
}

// readProvider reads an azureeventhub Provider: its hub (spec.address, or the key address of
// spec.secretRef) and its namespace (spec.channel). A SAS connection string or a static token
// has no Entra identity to check.
func (o Options) readProvider(ctx context.Context, r *Report, obj *unstructured.Unstructured, a asked) (asked, bool) {
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(obj.Object, fields...)
		return s
	}
	if typ := str("spec", "type"); typ != "azureeventhub" {
		r.add(Link{Name: "provider", Detail: fmt.Sprintf("spec.type is %q: the doctor checks azureeventhub Providers, the ones that authenticate with Microsoft Entra ID", typ)})
		return a, false
	}
	r.add(Link{Name: "provider", OK: true, Detail: "spec.type is azureeventhub"})
	a.spec.ServiceAccountName = str("spec", "serviceAccountName")
	hub := str("spec", "address")
	if secret := str("spec", "secretRef", "name"); secret != "" {
		var s corev1.Secret
		if err := o.Kube.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: secret}, &s); err != nil {
			r.add(Link{Name: "identity", Detail: fmt.Sprintf("spec.secretRef %s: %v", secret, err), Fix: "create the secret, or remove spec.secretRef"})
			return a, false
		}
		switch {
		case strings.Contains(string(s.Data["address"]), "SharedAccessKey"):
			r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: fmt.Sprintf("the key address of secret %s is a SAS connection string: no Entra identity to check", secret)})
			return a, false
		case len(s.Data["token"]) > 0:
			r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: fmt.Sprintf("secret %s holds a static token (deprecated): no Entra identity to check", secret)})
			return a, false
		case len(s.Data["address"]) > 0:
			hub = string(s.Data["address"])
		}
	}
	channel := strings.TrimSpace(str("spec", "channel"))
	if hub == "" || channel == "" || strings.ContainsAny(hub, "/:;?# ") {
		r.add(Link{Name: "provider", Detail: fmt.Sprintf("the event hub (spec.address) is %q and its namespace (spec.channel) %q", hub, channel),
			Fix: "set spec.address to the event hub's name and spec.channel to its namespace (NAME or NAME.servicebus.windows.net)"})
		return a, false
	}
	a.target = target{service: "eventhubs", url: hub, channel: channel}
	return a, true
}
