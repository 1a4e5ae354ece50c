// Package doctor walks the chain from a Flux object to the Azure service it reaches, one link at
// a time, and says which link is broken and what repairs it: the object's auth fields, the
// feature gate, the service account and its annotations, the TokenRequest, Entra ID's exchange
// (through the same internal/access and internal/entra code path as the controller), and the
// service's answer (its role or group).
//
// In docs/architecture.md's flow it walks the arrows a reconciler step takes, from the object
// spec through internal/access and internal/entra to internal/azure/<service>, but only reads:
// object.go reads the object's auth fields, chain.go checks the identity links, and one file per
// service asks its cheapest call (acr.go, blob.go, devops.go, keyvault.go, eventhubs.go).
package doctor

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// Link is one link of the chain.
type Link struct {
	Name string `json:"name"`
	// OK is true when the link holds; Skipped when it could not be checked.
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// Fix says what repairs a broken link, with the command.
	Fix string `json:"fix,omitempty"`
}

// Report is the chain of one object.
type Report struct {
	Object string `json:"object"`
	Links  []Link `json:"links"`
}

// OK says every link holds.
func (r *Report) OK() bool {
	return !slices.ContainsFunc(r.Links, func(l Link) bool { return !l.OK && !l.Skipped })
}

// Print writes the report for people: ✔, ✘ or - per link, and the fix under a broken one.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%s\n", r.Object)
	for _, l := range r.Links {
		mark := "✔"
		switch {
		case l.Skipped:
			mark = "-"
		case !l.OK:
			mark = "✘"
		}
		fmt.Fprintf(w, "  %s %s", mark, l.Name)
		if l.Detail != "" {
			fmt.Fprintf(w, ": %s", l.Detail)
		}
		fmt.Fprintln(w)
		if l.Fix != "" && !l.OK {
			fmt.Fprintf(w, "      fix: %s\n", l.Fix)
		}
	}
}

func (r *Report) add(l Link) { r.Links = append(r.Links, l) }

// Options are how the doctor reaches the cluster and Azure.
type Options struct {
	// Kube reads the object, the service account and the controller, and requests tokens.
	Kube client.Client
	// FeatureGate is the controller's ObjectLevelWorkloadIdentity when known (its flags);
	// otherwise the doctor reads the Deployment ControllerNamespace/ControllerName.
	FeatureGate bool
	Entra       *entra.Provider
	Transport   transport.Options
	// Key is the Key Vault key a Kustomization's SOPS files name (the doctor does not read
	// them), https://VAULT.vault.azure.net/keys/NAME[/VERSION]; empty skips the Key Vault link.
	Key string
	// FederatedIssuer is the issuer of the identity's federated credential, as `az identity
	// federated-credential list` prints it; when the exchange fails for want of a matching
	// credential, the doctor compares it with the token's (trailing slash, case). Default: not
	// compared, the token's issuer is printed.
	FederatedIssuer string
	// FederatedSubject is the subject of that credential, compared with the token's the same
	// way (Entra compares subjects case-sensitively). Default: not compared.
	FederatedSubject string
}

// The controller's Deployment, as config/ names it.
const (
	ControllerNamespace = "flux-system"
	ControllerName      = "azimuth-controller"
)

// kinds are the kinds the doctor knows, by lower-case name.
var kinds = map[string]schema.GroupVersionKind{
	"ocirepository":         {Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "OCIRepository"},
	"bucket":                {Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "Bucket"},
	"gitrepository":         {Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"},
	"imagerepository":       {Group: "image.toolkit.fluxcd.io", Version: "v1", Kind: "ImageRepository"},
	"imageupdateautomation": {Group: "image.toolkit.fluxcd.io", Version: "v1", Kind: "ImageUpdateAutomation"},
	"kustomization":         {Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"},
	"provider":              {Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Kind: "Provider"},
}

// Kinds lists the kinds the doctor knows.
func Kinds() []string {
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Diagnose walks the chain of the object kind namespace/name.
func Diagnose(ctx context.Context, o Options, kind, namespace, name string) (*Report, error) {
	gvk, ok := kinds[strings.ToLower(kind)]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q: use one of %s", kind, strings.Join(Kinds(), ", "))
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	if err := o.Kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, obj); err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, namespace, name, err)
	}
	r := &Report{Object: fmt.Sprintf("%s %s/%s", gvk.Kind, namespace, name)}
	a, ok := o.readObject(ctx, r, obj)
	if !ok {
		return r, nil
	}
	issuer := "ISSUER" // the service account's token issuer, once known
	switch {
	case a.spec.IdentitySecret != "":
		r.add(Link{Name: "identity", OK: true, Detail: fmt.Sprintf("the secret %s (it wins over %s)", a.spec.IdentitySecret, a.saField)})
	case a.spec.ServiceAccountName != "":
		r.add(Link{Name: "identity", OK: true, Detail: fmt.Sprintf("workload identity of service account %s/%s (%s)", a.spec.Namespace, a.spec.ServiceAccountName, a.saField)})
		if issuer, ok = o.serviceAccountLinks(ctx, r, a.spec.Namespace, a.spec.ServiceAccountName); !ok {
			return r, nil
		}
	default:
		r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: fmt.Sprintf("no %s: the controller's own identity, which the doctor cannot see from here; run `azimuth token` in the controller's pod", a.saField)})
		return r, nil
	}
	cred, ok := o.exchange(ctx, r, a.spec, a.target, issuer)
	if !ok {
		return r, nil
	}
	o.service(ctx, r, cred, a.target)
	return r, nil
}
