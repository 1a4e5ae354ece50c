package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

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

// The AADSTS codes of an assertion that no federated credential matches: none at all (70021),
// none with its issuer (700211), audience (700212) or subject (700213), or a subject that
// matches only when case is ignored (7002138).
const (
	codeNoRecord       = 70021
	codeNoIssuer       = 700211
	codeNoAudience     = 700212
	codeNoSubject      = 700213
	codeSubjectCase    = 7002138
	subjectCaseMessage = "differs from the token's only in case, which Entra does not forgive"
)

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
	if !errors.As(err, &ae) {
		r.add(l)
		return nil, false
	}
	l.Detail, l.Fix = ae.Description, ae.Hint
	if ae.Code != 0 && !strings.HasPrefix(ae.Description, fmt.Sprintf("AADSTS%d", ae.Code)) {
		l.Detail = fmt.Sprintf("AADSTS%d: %s", ae.Code, ae.Description)
	}
	subject := "system:serviceaccount:" + spec.Namespace + ":" + spec.ServiceAccountName
	setup := fmt.Sprintf("azimuth setup identity --namespace %s --service-account %s --issuer %s --identity-name NAME --resource-group RG", spec.Namespace, spec.ServiceAccountName, issuer)
	switch ae.Code {
	case codeSubjectCase:
		l.Fix = fmt.Sprintf("set the federated credential's subject of %s to exactly %q (Entra compares it case-sensitively): %s", ae.Identity, subject, setup)
	case codeNoRecord, codeNoIssuer, codeNoAudience, codeNoSubject:
		l.Fix = fmt.Sprintf("add the federated credential to %s with the issuer %q, the subject %q and the audience %s, exactly as the token spells them (Entra compares them byte for byte): %s",
			ae.Identity, issuer, subject, identity.ExchangeAudience, setup)
	default:
		r.add(l)
		return nil, false
	}
	r.add(l)
	r.add(o.issuerLink(issuer, spec))
	r.add(o.subjectLink(subject, ae.Code == codeSubjectCase, setup))
	return nil, false
}

const federatedList = "az identity federated-credential list --identity-name NAME --resource-group RG --query \"[].{issuer:issuer,subject:subject}\""

// issuerLink compares the federated credential's issuer (the doctor's --federated-issuer) with
// the token's, and names a difference Entra does not forgive: a trailing slash, or case.
func (o Options) issuerLink(issuer string, spec access.Spec) Link {
	subject := "system:serviceaccount:" + spec.Namespace + ":" + spec.ServiceAccountName
	l := Link{Name: "issuer"}
	fed := o.FederatedIssuer
	switch {
	case fed == "":
		l.Skipped, l.OK = true, true
		l.Detail = fmt.Sprintf("the token's issuer is %q and its subject %q: compare them, byte for byte, with the federated credential's "+
			"(%s; %q with a trailing slash does not match), or give the doctor --federated-issuer", issuer, subject, federatedList, strings.TrimSuffix(issuer, "/")+"/")
		return l
	case fed == issuer:
		l.OK = true
		l.Detail = fmt.Sprintf("the federated credential's issuer is the token's, %q: check its subject is exactly %q and its audience %s (%s)",
			issuer, subject, identity.ExchangeAudience, federatedList)
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

// subjectLink compares the federated credential's subject (the doctor's --federated-subject)
// with the token's; caseOnly is Entra saying they differ only in case (AADSTS7002138).
func (o Options) subjectLink(subject string, caseOnly bool, setup string) Link {
	l := Link{Name: "subject"}
	fed := o.FederatedSubject
	switch {
	case fed == subject:
		l.OK = true
		l.Detail = fmt.Sprintf("the federated credential's subject is the token's, %q", subject)
		return l
	case fed != "" && strings.EqualFold(fed, subject), fed == "" && caseOnly:
		l.Detail = fmt.Sprintf("the federated credential's subject %s", subjectCaseMessage)
		if fed != "" {
			l.Detail = fmt.Sprintf("the federated credential's subject %q %s, %q", fed, subjectCaseMessage, subject)
		}
	case fed != "":
		l.Detail = fmt.Sprintf("the federated credential's subject %q is not the token's %q", fed, subject)
	default:
		l.Skipped, l.OK = true, true
		l.Detail = fmt.Sprintf("the token's subject is %q: the federated credential's must be exactly that, case included (%s), or give the doctor --federated-subject", subject, federatedList)
		return l
	}
	l.Fix = fmt.Sprintf("set the federated credential's subject to exactly %q: %s", subject, setup)
	return l
}
