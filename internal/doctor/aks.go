package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/remote"
)

// readKubeConfigMap reads a Kustomization's spec.kubeConfig.configMapRef: the AKS cluster it
// names and the identity that reaches it.
func (o Options) readKubeConfigMap(ctx context.Context, r *Report, obj *unstructured.Unstructured, name string, a asked) (asked, bool) {
	var cm corev1.ConfigMap
	if err := o.Kube.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}, &cm); err != nil {
		r.add(Link{Name: "kubeconfig", Detail: fmt.Sprintf("the ConfigMap %s of spec.kubeConfig.configMapRef: %v", name, err),
			Fix: "create the ConfigMap, or fix spec.kubeConfig.configMapRef"})
		return a, false
	}
	parsed, err := remote.ParseConfigMap(name, cm.Data)
	if err != nil {
		r.add(Link{Name: "kubeconfig", Detail: err.Error(), Fix: "fix the ConfigMap " + name})
		return a, false
	}
	what := "AKS cluster " + parsed.Cluster
	if parsed.Address != "" && len(parsed.CA) > 0 {
		what = "the API server " + parsed.Address + " with its CA"
	}
	r.add(Link{Name: "kubeconfig", OK: true, Detail: fmt.Sprintf("ConfigMap %s (spec.kubeConfig.configMapRef) names %s", name, what)})
	a.spec = access.Spec{Namespace: obj.GetNamespace(), ServiceAccountName: parsed.ServiceAccountName, KubeConfig: true, Audiences: parsed.Audiences}
	a.saField = "the serviceAccountName of ConfigMap " + name
	a.target = target{service: "aks", scope: aks.ServerScope, url: parsed.Cluster, address: parsed.Address, ca: parsed.CA}
	return a, true
}

// aksLinks ask Azure Resource Manager where the cluster's API server is (which needs the role
// Azure Kubernetes Service Cluster User Role), then the API server who it takes the token for.
func (o Options) aksLinks(ctx context.Context, r *Report, cred *entra.Credential, t target) {
	ep := aks.Endpoint{Address: t.address, CAData: t.ca}
	if t.address == "" || len(t.ca) == 0 {
		id, err := aks.ParseClusterID(t.url)
		if err != nil {
			r.add(Link{Name: "role", Detail: err.Error(), Fix: "fix the ConfigMap's 'cluster' key"})
			return
		}
		rt, err := o.httpClient()
		if err != nil {
			r.add(Link{Name: "role", Detail: err.Error()})
			return
		}
		described, err := aks.Describe(ctx, cred, id, aks.DescribeOptions{Cloud: cred.Cloud(), Transport: rt.Transport, Address: t.address})
		var re *entra.RoleError
		switch {
		case errors.As(err, &re):
			r.add(Link{Name: "role", Detail: fmt.Sprintf("%s refused it: it needs the role %s on %s", re.Service, re.Role, re.ScopeName),
				Fix: fmt.Sprintf("az role assignment create --assignee %s --role %q --scope %s", re.ClientID, re.Role, re.Scope)})
			return
		case err != nil:
			r.add(Link{Name: "role", Detail: err.Error()})
			return
		}
		r.add(Link{Name: "role", OK: true, Detail: fmt.Sprintf("Azure Resource Manager lets it read the user kubeconfig of AKS cluster %s: its API server is %s", id.Name, described.Address)})
		if len(t.ca) > 0 {
			described.CAData = t.ca
		}
		ep = described
	}
	r.add(o.apiServerLink(ctx, cred, ep))
}

// apiServerLink asks the API server who it takes the identity's token for (SelfSubjectReview),
// the name its Kubernetes RBAC knows the identity by.
func (o Options) apiServerLink(ctx context.Context, cred *entra.Credential, ep aks.Endpoint) Link {
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{aks.ServerScope}})
	if err != nil {
		return Link{Name: "API server", Detail: err.Error()}
	}
	cfg := &rest.Config{Host: ep.Address, BearerToken: tok.Token, TLSClientConfig: rest.TLSClientConfig{CAData: ep.CAData}, Dial: o.Transport.Dial}
	cs, err := kubernetes.NewForConfig(cfg)
	if err == nil {
		var review *authenticationv1.SelfSubjectReview
		review, err = cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err == nil {
			return Link{Name: "API server", OK: true, Detail: fmt.Sprintf("%s takes the token as user %q: bind Roles to that name in the cluster", ep.Address, review.Status.UserInfo.Username)}
		}
	}
	var netErr net.Error
	switch {
	case apierrors.IsUnauthorized(err):
		return Link{Name: "API server", Detail: fmt.Sprintf("%s did not accept the Microsoft Entra token (%v)", ep.Address, err),
			Fix: "the cluster needs AKS-managed Microsoft Entra ID integration in the identity's tenant: az aks update --enable-aad"}
	case strings.Contains(err.Error(), "x509:"):
		return Link{Name: "API server", Detail: fmt.Sprintf("%s: %v", ep.Address, err), Fix: "fix or remove the ConfigMap's 'ca.crt'"}
	case errors.As(err, &netErr):
		return Link{Name: "API server", Detail: fmt.Sprintf("%s cannot be reached: %v", ep.Address, err),
			Fix: "check the ConfigMap's 'address', and that this machine's network reaches the API server (a private cluster needs a path to it)"}
	}
	return Link{Name: "API server", Detail: fmt.Sprintf("%s: %v", ep.Address, err)}
}
