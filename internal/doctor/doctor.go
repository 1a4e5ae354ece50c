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
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	gittransport "github.com/go-git/go-git/v5/plumbing/transport"
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
	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
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
	// Key is the Key Vault key a Kustomization's SOPS files name (the doctor does not read
	// them), https://VAULT.vault.azure.net/keys/NAME[/VERSION]; empty skips the Key Vault link.
	Key string
	// FederatedIssuer is the issuer of the identity's federated credential, as `az identity
	// federated-credential list` prints it; when the exchange fails for want of a matching
	// credential, the doctor compares it with the token's (trailing slash, case).
	FederatedIssuer string
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
	service string // acr, keyvault, blob, devops
	url     string // the registry, the Bucket's endpoint, the repository or the key
	bucket  string // the Bucket's container
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
		t = target{service: "keyvault", url: o.Key}
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
		case "Bucket":
			t.url, _, _ = unstructured.NestedString(obj.Object, "spec", "endpoint")
			t.bucket, _, _ = unstructured.NestedString(obj.Object, "spec", "bucketName")
			t.service = "blob"
		case "GitRepository":
			t.url, _, _ = unstructured.NestedString(obj.Object, "spec", "url")
			t.service = "devops"
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
	unmatched := false // no federated credential matches the token
	var ae *entra.AuthError
	if errors.As(err, &ae) {
		l.Detail = ae.Description
		if ae.Code != 0 && !strings.HasPrefix(ae.Description, fmt.Sprintf("AADSTS%d", ae.Code)) {
			l.Detail = fmt.Sprintf("AADSTS%d: %s", ae.Code, ae.Description)
		}
		l.Fix = ae.Hint
		switch ae.Code {
		case 70021, 700211, 700212, 700213, 7002138:
			unmatched = true
			l.Fix = fmt.Sprintf("add the federated credential to %s: azimuth setup identity --namespace %s --service-account %s --issuer %s --identity-name NAME --resource-group RG "+
				"(the issuer exactly as the token spells it: Entra compares issuer and subject byte for byte)",
				ae.Identity, spec.Namespace, spec.ServiceAccountName, issuer)
		}
	}
	r.add(l)
	if unmatched {
		r.add(o.issuerLink(issuer, spec))
	}
	return nil, false
}

// issuerLink compares the federated credential's issuer (the doctor's --federated-issuer) with
// the token's, and names a difference Entra does not forgive: a trailing slash, or case.
func (o Options) issuerLink(issuer string, spec access.Spec) Link {
	subject := "system:serviceaccount:" + spec.Namespace + ":" + spec.ServiceAccountName
	l := Link{Name: "issuer"}
	list := "az identity federated-credential list --identity-name NAME --resource-group RG --query \"[].{issuer:issuer,subject:subject}\""
	fed := o.FederatedIssuer
	switch {
	case fed == "":
		l.Skipped, l.OK = true, true
		l.Detail = fmt.Sprintf("the token's issuer is %q and its subject %q: compare them, byte for byte, with the federated credential's "+
			"(%s), or give the doctor --federated-issuer", issuer, subject, list)
		return l
	case fed == issuer:
		l.OK = true
		l.Detail = fmt.Sprintf("the federated credential's issuer is the token's, %q: check its subject is exactly %q and its audience %s (%s)",
			issuer, subject, identity.ExchangeAudience, list)
		return l
	case strings.TrimRight(fed, "/") == strings.TrimRight(issuer, "/"):
		l.Detail = fmt.Sprintf("the federated credential's issuer %q and the token's %q differ only by a trailing slash, which Entra does not forgive", fed, issuer)
	case strings.EqualFold(fed, issuer):
		l.Detail = fmt.Sprintf("the federated credential's issuer %q and the token's %q differ only in case, which Entra does not forgive", fed, issuer)
	case strings.EqualFold(strings.TrimRight(fed, "/"), strings.TrimRight(issuer, "/")):
		l.Detail = fmt.Sprintf("the federated credential's issuer %q and the token's %q differ in case and by a trailing slash, which Entra does not forgive", fed, issuer)
	default:
		l.Detail = fmt.Sprintf("the federated credential's issuer %q is not the token's %q: it is another cluster's, or the cluster's issuer changed", fed, issuer)
	}
	l.Fix = fmt.Sprintf("set the federated credential's issuer to the token's: azimuth setup identity --namespace %s --service-account %s --issuer %s --identity-name NAME --resource-group RG",
		spec.Namespace, spec.ServiceAccountName, issuer)
	return l
}

func scopeFor(service string, c entra.Cloud) string {
	switch service {
	case "keyvault":
		return keyvault.ScopeFor(c)
	case "blob":
		return blob.ScopeFor(c)
	case "devops":
		return devops.ScopeFor(c)
	}
	return acr.ScopeFor(c)
}

// service asks the service with the cheapest read: for ACR, the token exchange and the tag list.
func (o Options) service(ctx context.Context, r *Report, cred *entra.Credential, t target) {
	switch {
	case t.service == "blob":
		r.add(o.blobLink(ctx, cred, t))
		return
	case t.service == "devops":
		r.add(o.devopsLink(ctx, cred, t))
		return
	case t.service == "keyvault":
		r.add(o.keyVaultLink(ctx, cred, t))
		return
	case t.service != "acr" || t.url == "":
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
	r.add(roleLink(kc.Explain(err, repo, acr.Pull), "acr"))
}

// roleLink is the link for a refusal: a missing role as a `setup grant` command.
func roleLink(err error, integration string) Link {
	l := Link{Name: "role", Detail: err.Error()}
	var re *entra.RoleError
	if errors.As(err, &re) {
		l.Detail = fmt.Sprintf("%s refused it: it needs the role %s on %s", re.Service, re.Role, re.ScopeName)
		l.Fix = fmt.Sprintf("azimuth setup grant --integration %s --client-id %s --scope %s", integration, re.ClientID, re.Scope)
	}
	return l
}

// httpClient is the doctor's transport, as the controller's (connect-to, CA).
func (o Options) httpClient() (*http.Client, error) {
	rt, err := transport.New(&o.Transport)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt}, nil
}

// blobLink lists the Bucket's container with one result.
func (o Options) blobLink(ctx context.Context, cred *entra.Credential, t target) Link {
	ep, err := blob.ParseEndpoint(t.url, false)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.endpoint"}
	}
	if err := blob.CheckContainerName(t.bucket); err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.bucketName"}
	}
	hc, err := o.httpClient()
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	u := *ep.URL
	u.Path, u.RawQuery = "/"+t.bucket, ""
	cc, err := container.NewClient(u.String(), cred, &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: hc, Telemetry: policy.TelemetryOptions{ApplicationID: "azimuth-doctor"},
		Retry: policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	pager := cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: to.Ptr[int32](1)})
	if _, err = pager.NextPage(ctx); err == nil {
		return Link{Name: "role", OK: true, Detail: fmt.Sprintf("storage account %s lets it list container %s", ep.Account, t.bucket)}
	}
	return roleLink(blob.Explain(err, cred, ep.Account, t.bucket), "blob")
}

// devopsLink asks the repository for its refs, as a clone's first request does.
func (o Options) devopsLink(ctx context.Context, cred *entra.Credential, t target) Link {
	repo, err := devops.ParseRepository(t.url)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.url"}
	}
	token, err := devops.BearerToken(ctx, cred, t.url)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "use the repository's https:// clone URL"}
	}
	hc, err := o.httpClient()
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "fix spec.url"}
	}
	u.User, u.RawQuery, u.Fragment = nil, "service=git-upload-pack", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/info/refs"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	_ = resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return Link{Name: "role", OK: true, Detail: fmt.Sprintf("Azure DevOps lets it read %s (organization member, project group %s)", repo, devops.Readers)}
	case http.StatusUnauthorized, http.StatusNonAuthoritativeInfo:
		err = gittransport.ErrAuthenticationRequired
	case http.StatusForbidden:
		err = gittransport.ErrAuthorizationFailed
	case http.StatusNotFound:
		err = gittransport.ErrRepositoryNotFound
	default:
		return Link{Name: "role", Detail: fmt.Sprintf("Azure DevOps answered %s to %s", resp.Status, u.Redacted())}
	}
	err = devops.Explain(err, cred, repo, devops.Readers)
	l := Link{Name: "role", Detail: err.Error()}
	var ae *devops.AccessError
	if errors.As(err, &ae) {
		switch {
		case ae.NotFound:
			l.Detail = fmt.Sprintf("Azure DevOps answers that %s does not exist or that it may not see it: it needs the project %s's group %s", repo, repo.Project, devops.Readers)
		case ae.Forbidden:
			l.Detail = fmt.Sprintf("Azure DevOps refused it: a member, but without the Git permission of the project %s's group %s", repo.Project, devops.Readers)
		default:
			l.Detail = fmt.Sprintf("Azure DevOps refused it: it must be a user of the organization %s and a member of the project %s's group %s", repo.Organization, repo.Project, devops.Readers)
		}
		l.Fix = fmt.Sprintf("azimuth setup grant --integration devops --client-id %s --organization %s --project %q --group %s",
			cred.ClientID(), repo.Organization, repo.Project, devops.Readers)
	}
	return l
}

// parseKey reads a Key Vault key identifier, https://VAULT.vault.azure.net/keys/NAME[/VERSION].
func parseKey(raw string) (keyvault.Key, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return keyvault.Key{}, fmt.Errorf("--key %q is not a Key Vault key URL, such as https://VAULT.vault.azure.net/keys/NAME", raw)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "keys" || parts[1] == "" {
		return keyvault.Key{}, fmt.Errorf("--key %q is not a Key Vault key URL, such as https://VAULT.vault.azure.net/keys/NAME", raw)
	}
	k := keyvault.Key{VaultURL: u.Scheme + "://" + u.Host, Name: parts[1]}
	if len(parts) == 3 {
		k.Version = parts[2]
	}
	return k, nil
}

// keyVaultLink reads the key, which the role Key Vault Crypto User allows.
func (o Options) keyVaultLink(ctx context.Context, cred *entra.Credential, t target) (l Link) {
	if t.url == "" {
		return Link{Name: "role", Skipped: true, OK: true, Detail: "the doctor does not read the SOPS files, so it does not know their key: give --key https://VAULT.vault.azure.net/keys/NAME to ask Key Vault"}
	}
	key, err := parseKey(t.url)
	if err == nil {
		err = key.Validate(cred.Cloud())
	}
	if err != nil {
		return Link{Name: "role", Detail: err.Error(), Fix: "give --key the key's URL, as the SOPS file's azure_kv names it"}
	}
	hc, err := o.httpClient()
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	kc, err := azkeys.NewClient(strings.TrimSuffix(key.VaultURL, "/"), cred, &azkeys.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: hc, Telemetry: policy.TelemetryOptions{ApplicationID: "azimuth-doctor"},
		Retry: policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		return Link{Name: "role", Detail: err.Error()}
	}
	defer func() {
		// azkeys panics on a malformed authentication challenge.
		if p := recover(); p != nil {
			l = Link{Name: "role", Detail: fmt.Sprintf("Key Vault's answer could not be read: %v", p)}
		}
	}()
	if _, err = kc.GetKey(ctx, key.Name, key.Version, nil); err == nil {
		return Link{Name: "role", OK: true, Detail: fmt.Sprintf("Key Vault %s lets it read the key %s", key.Vault(), key.Name)}
	}
	return roleLink(keyvault.Explain(err, cred, key, keyvault.Permission("get")), "keyvault")
}
