// Package doctor walks the chain from a Flux object to the Azure service it reaches, one link at
// a time, and says which link is broken and what repairs it: the object's auth fields, the
// feature gate, the service account and its annotations, the TokenRequest, Entra ID's exchange
// (through the same internal/access and internal/entra code path as the controller), and the
// service's answer (its role).
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/azure/keyvault"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
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
}

// The controller's Deployment, as config/ names it.
const (
	ControllerNamespace = "flux-system"
	ControllerName      = "azimuth-controller"
)

// kinds are the kinds the doctor knows, by lower-case name.
var kinds = map[string]schema.GroupVersionKind{
	"ocirepository":   {Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "OCIRepository"},
	"bucket":          {Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "Bucket"},
	"gitrepository":   {Group: "source.toolkit.fluxcd.io", Version: "v1", Kind: "GitRepository"},
	"imagerepository": {Group: "image.toolkit.fluxcd.io", Version: "v1", Kind: "ImageRepository"},
	"kustomization":   {Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"},
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

// target is what the object reaches, from its spec.
type target struct {
	scope   string
	service string // acr, keyvault, ...
	url     string
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
	issuer := "ISSUER" // the service account's token issuer, once known
	spec := access.Spec{Namespace: namespace}
	var t target
	saField := "spec.serviceAccountName"
	if gvk.Kind == "Kustomization" {
		spec.Decryption = true
		saField = "spec.decryption.serviceAccountName"
		spec.ServiceAccountName, _, _ = unstructured.NestedString(obj.Object, "spec", "decryption", "serviceAccountName")
		spec.IdentitySecret, _, _ = unstructured.NestedString(obj.Object, "spec", "decryption", "secretRef", "name")
		t = target{service: "keyvault"}
	} else {
		provider, _, _ := unstructured.NestedString(obj.Object, "spec", "provider")
		spec.ServiceAccountName, _, _ = unstructured.NestedString(obj.Object, "spec", "serviceAccountName")
		secret, _, _ := unstructured.NestedString(obj.Object, "spec", "secretRef", "name")
		if gvk.Kind == "Bucket" {
			spec.IdentitySecret = secret
		}
		if provider != "azure" {
			r.add(Link{Name: "provider", Detail: fmt.Sprintf("spec.provider is %q, so the controller does not authenticate with Microsoft Entra ID", provider),
				Fix: "set spec.provider: azure"})
			return r, nil
		}
		r.add(Link{Name: "provider", OK: true, Detail: "spec.provider is azure"})
		if secret != "" && gvk.Kind != "Bucket" {
			r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: fmt.Sprintf("spec.secretRef %s is used before any workload identity; the doctor checks workload identity only", secret)})
			return r, nil
		}
		switch gvk.Kind {
		case "OCIRepository":
			t.url, _, _ = unstructured.NestedString(obj.Object, "spec", "url")
			t.service = "acr"
		case "ImageRepository":
			t.url, _, _ = unstructured.NestedString(obj.Object, "spec", "image")
			t.service = "acr"
		}
	}
	switch {
	case spec.IdentitySecret != "":
		r.add(Link{Name: "identity", OK: true, Detail: fmt.Sprintf("the secret %s (it wins over %s)", spec.IdentitySecret, saField)})
	case spec.ServiceAccountName != "":
		r.add(Link{Name: "identity", OK: true, Detail: fmt.Sprintf("workload identity of service account %s/%s (%s)", namespace, spec.ServiceAccountName, saField)})
		var ok bool
		if issuer, ok = o.serviceAccountLinks(ctx, r, namespace, spec.ServiceAccountName); !ok {
			return r, nil
		}
	default:
		r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: fmt.Sprintf("no %s: the controller's own identity, which the doctor cannot see from here; run `azimuth token` in the controller's pod", saField)})
		return r, nil
	}
	cred, ok := o.exchange(ctx, r, spec, t, issuer)
	if !ok {
		return r, nil
	}
	o.service(ctx, r, cred, t)
	return r, nil
}

// serviceAccountLinks checks the feature gate, the service account and the TokenRequest; it
// returns the token's issuer and whether the chain can go on.
func (o Options) serviceAccountLinks(ctx context.Context, r *Report, namespace, name string) (string, bool) {
	gate := o.FeatureGate
	where := "the doctor's --feature-gates"
	if !gate {
		var d appsv1.Deployment
		if err := o.Kube.Get(ctx, types.NamespacedName{Namespace: ControllerNamespace, Name: ControllerName}, &d); err == nil {
			where = "the Deployment " + ControllerNamespace + "/" + ControllerName
			for _, c := range d.Spec.Template.Spec.Containers {
				gate = gate || slices.Contains(c.Args, "--feature-gates="+identity.FeatureGate+"=true")
			}
		}
	}
	if gate {
		r.add(Link{Name: "feature gate", OK: true, Detail: identity.FeatureGate + " is on (" + where + ")"})
	} else {
		r.add(Link{Name: "feature gate", Detail: identity.FeatureGate + " is off in " + where + ", so the controller refuses spec.serviceAccountName",
			Fix: "add --feature-gates=" + identity.FeatureGate + "=true to the controller (azimuth setup controller --feature-gate), or pass it to the doctor if the controller has it"})
	}
	var sa corev1.ServiceAccount
	if err := o.Kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &sa); err != nil {
		r.add(Link{Name: "service account", Detail: err.Error(),
			Fix: fmt.Sprintf("create it: azimuth setup identity --namespace %s --service-account %s --identity-name NAME --resource-group RG --issuer ISSUER", namespace, name)})
		return "", false
	}
	var missing []string
	for _, a := range []string{identity.ClientIDAnnotation, identity.TenantIDAnnotation} {
		if strings.TrimSpace(sa.Annotations[a]) == "" {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		r.add(Link{Name: "service account", Detail: fmt.Sprintf("%s/%s lacks the annotation %s", namespace, name, strings.Join(missing, " and ")),
			Fix: fmt.Sprintf("annotate it with the identity's client ID and tenant ID: azimuth setup identity --namespace %s --service-account %s --identity-name NAME --resource-group RG --issuer ISSUER", namespace, name)})
		return "", false
	}
	r.add(Link{Name: "service account", OK: true, Detail: fmt.Sprintf("%s/%s acts as client ID %s in tenant %s", namespace, name,
		sa.Annotations[identity.ClientIDAnnotation], sa.Annotations[identity.TenantIDAnnotation])})
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{identity.ExchangeAudience}}}
	if err := o.Kube.SubResource("token").Create(ctx, &sa, tr); err != nil {
		r.add(Link{Name: "token request", Detail: err.Error(), Fix: "give the controller (and you) RBAC to create serviceaccounts/token in " + namespace})
		return "", false
	}
	var claims struct {
		Iss, Sub string
		Aud      any
	}
	_ = entra.ReadClaims(tr.Status.Token, &claims)
	r.add(Link{Name: "token request", OK: true, Detail: fmt.Sprintf("issuer %s, subject %s, audience %v", claims.Iss, claims.Sub, claims.Aud)})
	return claims.Iss, true
}

// exchange gets an Entra token as the controller would.
func (o Options) exchange(ctx context.Context, r *Report, spec access.Spec, t target, issuer string) (*entra.Credential, bool) {
	ids, err := identity.NewResolver(o.Kube, &identity.Options{ObjectLevelWorkloadIdentity: true})
	if err != nil {
		r.add(Link{Name: "entra exchange", Detail: err.Error()})
		return nil, false
	}
	res := access.NewResolver(o.Kube, ids, o.Entra, o.Transport)
	conn, err := res.Connect(ctx, spec)
	if err == nil {
		var cred *entra.Credential
		if cred, err = res.Credential(ctx, spec, conn); err == nil {
			scope := t.scope
			if scope == "" {
				scope = scopeFor(t.service, cred.Cloud())
			}
			if _, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}}); err == nil {
				r.add(Link{Name: "entra exchange", OK: true, Detail: fmt.Sprintf("%s got a token for %s", cred.Method(), scope)})
				return cred, true
			}
		}
	}
	l := Link{Name: "entra exchange", Detail: err.Error()}
	var ae *entra.AuthError
	if errors.As(err, &ae) {
		l.Detail = ae.Description
		if ae.Code != 0 && !strings.HasPrefix(ae.Description, fmt.Sprintf("AADSTS%d", ae.Code)) {
			l.Detail = fmt.Sprintf("AADSTS%d: %s", ae.Code, ae.Description)
		}
		l.Fix = ae.Hint
		switch ae.Code {
		case 70021, 700211, 700212, 700213, 7002138:
			l.Fix = fmt.Sprintf("add the federated credential to %s: azimuth setup identity --namespace %s --service-account %s --issuer %s --identity-name NAME --resource-group RG "+
				"(the issuer exactly as the token spells it: Entra compares issuer and subject byte for byte)",
				ae.Identity, spec.Namespace, spec.ServiceAccountName, issuer)
		}
	}
	r.add(l)
	return nil, false
}

func scopeFor(service string, c entra.Cloud) string {
	if service == "keyvault" {
		return keyvault.ScopeFor(c)
	}
	return acr.ScopeFor(c)
}

// service asks the service with the cheapest read: for ACR, the token exchange and the tag list.
func (o Options) service(ctx context.Context, r *Report, cred *entra.Credential, t target) {
	if t.service != "acr" || t.url == "" {
		r.add(Link{Name: "role", Skipped: true, OK: true, Detail: "the doctor does not yet ask this service; the Entra token is good"})
		return
	}
	repo, err := name.NewRepository(strings.TrimPrefix(t.url, "oci://"))
	if err != nil {
		r.add(Link{Name: "role", Detail: fmt.Sprintf("the URL %q is not a repository: %v", t.url, err), Fix: "fix spec.url"})
		return
	}
	rt, err := transport.New(&o.Transport)
	if err != nil {
		r.add(Link{Name: "role", Detail: err.Error()})
		return
	}
	kc := acr.NewKeychain(cred, &acr.KeychainOptions{Transport: rt})
	_, err = remote.List(repo, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(rt))
	if err == nil || strings.Contains(err.Error(), "NAME_UNKNOWN") {
		r.add(Link{Name: "role", OK: true, Detail: "the registry " + repo.RegistryStr() + " lets it pull " + repo.RepositoryStr()})
		return
	}
	err = kc.Explain(err, repo, acr.Pull)
	l := Link{Name: "role", Detail: err.Error()}
	var re *entra.RoleError
	if errors.As(err, &re) {
		l.Detail = fmt.Sprintf("%s refused it: it needs the role %s on %s", re.Service, re.Role, re.ScopeName)
		l.Fix = fmt.Sprintf("azimuth setup grant --integration acr --client-id %s --scope %s", re.ClientID, re.Scope)
	}
	r.add(l)
}
