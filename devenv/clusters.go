package devenv

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
)

// serveClusters makes the control plane the API server of every AKS cluster of the directory,
// as an AKS cluster with Microsoft Entra ID integration is: ARM hands out its address and CA,
// and it takes Entra ID tokens for the AKS server application from the clusters' tenants,
// naming the identity by its object ID. It returns once the API server takes such a token.
func (e *Env) serveClusters(ctx context.Context) error {
	dir := e.Azure.Directory()
	clusters := dir.ManagedClusters()
	if len(clusters) == 0 {
		return nil
	}
	apiServer := strings.TrimPrefix(e.Kube.Config.Host, "https://")
	tenants := map[string]bool{}
	var authenticators []testenv.JWTAuthenticator
	for _, c := range clusters {
		if err := dir.SetManagedClusterEndpoint(c.Name, c.FQDN, string(e.Kube.CAPEM)); err != nil {
			return err
		}
		e.clusterRules = append(e.clusterRules, c.Host()+":443:"+apiServer)
		tenant, ok := dir.SubscriptionTenant(c.Subscription)
		if !ok || tenants[tenant] {
			continue
		}
		tenants[tenant] = true
		authenticators = append(authenticators, testenv.JWTAuthenticator{
			IssuerURL:     "https://sts.windows.net/" + tenant + "/",
			DiscoveryURL:  "https://login.microsoftonline.com/" + tenant + "/.well-known/openid-configuration",
			Audiences:     []string{aks.ServerApplication},
			CAPEM:         e.Azure.CAPEM(),
			UsernameClaim: "oid",
			GroupsClaim:   "groups",
		})
	}
	if err := e.Kube.SetJWTAuthenticators(authenticators); err != nil {
		return err
	}
	// The API server reloads its configuration and then reads each issuer's keys: wait until
	// it takes a token, so that the first Kustomization is not refused while it does.
	for tenant := range tenants {
		p, ok := anyPrincipal(dir, tenant)
		if !ok {
			continue
		}
		tok, err := e.Azure.Entra().IssueManagedIdentityToken(p, aks.ServerApplication)
		if err != nil {
			return err
		}
		if _, err := e.Kube.Authenticate(ctx, tok.Token, time.Minute); err != nil {
			return fmt.Errorf("the control plane as AKS API server: %w", err)
		}
	}
	return nil
}

// anyPrincipal is a managed identity of tenant, to prove the API server takes its tokens.
func anyPrincipal(dir *directory.Directory, tenant string) (directory.Principal, bool) {
	for _, mi := range dir.ManagedIdentities() {
		if p, ok := dir.Principal(mi.ClientID); ok && strings.EqualFold(p.TenantID, tenant) {
			return p, true
		}
	}
	return directory.Principal{}, false
}

// freeAddr is a free loopback address to listen on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
