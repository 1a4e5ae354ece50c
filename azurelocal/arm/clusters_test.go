package arm_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/golang-jwt/jwt/v5"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

func clusters(t *testing.T, a app) *armcontainerservice.ManagedClustersClient {
	t.Helper()
	c, err := armcontainerservice.NewManagedClustersClient(subID, credential(t, a), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withClusterCA sets the fleet cluster's API server CA, as whoever runs the API server does, and
// removes it when the test ends.
func withClusterCA(t *testing.T) string {
	t.Helper()
	ca := string(azuretest.NewCA("fleet-ca", nil).CertPEM())
	dir := local.azure.Directory()
	if err := dir.SetManagedClusterEndpoint(cluster, fleetAPI, ca); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dir.SetManagedClusterEndpoint(cluster, fleetAPI, ""); err != nil {
			t.Error(err)
		}
	})
	return ca
}

// TestClusterGet: the cluster as Flux reads it, an aadProfile for an Entra ID cluster and none
// for a cluster of local accounts.
func TestClusterGet(t *testing.T) {
	c := clusters(t, reader)
	got, err := c.Get(t.Context(), group, cluster, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Properties
	if !strings.EqualFold(*got.ID, clusterScope) || *got.Name != cluster || *got.Location != "westeurope" ||
		!strings.EqualFold(*got.Type, "Microsoft.ContainerService/managedClusters") {
		t.Errorf("cluster %s %s %s %s", *got.ID, *got.Name, *got.Type, *got.Location)
	}
	if p.AADProfile == nil || !*p.AADProfile.Managed || *p.AADProfile.EnableAzureRBAC || *p.AADProfile.TenantID != tenantID {
		t.Fatalf("aadProfile = %+v", p.AADProfile)
	}
	if *p.Fqdn != fleetAPI || *p.AzurePortalFQDN != "fleet-api.portal.hcp.westeurope.azmk8s.io" || *p.DNSPrefix != "fleet-api" ||
		*p.ProvisioningState != "Succeeded" || *p.PowerState.Code != armcontainerservice.CodeRunning || !*p.EnableRBAC ||
		!*p.DisableLocalAccounts || *p.KubernetesVersion == "" || *p.CurrentKubernetesVersion == "" {
		t.Errorf("properties = fqdn %s, portal %s, prefix %s, %s, %s, rbac %v, local accounts disabled %v",
			*p.Fqdn, *p.AzurePortalFQDN, *p.DNSPrefix, *p.ProvisioningState, *p.PowerState.Code, *p.EnableRBAC, *p.DisableLocalAccounts)
	}

	old, err := c.Get(t.Context(), group, legacy, nil)
	if err != nil {
		t.Fatal(err)
	}
	dc, _ := local.azure.Directory().ManagedCluster(legacy)
	if lp := old.Properties; lp.AADProfile != nil || *lp.DisableLocalAccounts || *lp.Fqdn != dc.Host() ||
		!strings.HasSuffix(*lp.Fqdn, ".hcp.eastus.azmk8s.io") || *old.Location != "eastus" {
		t.Errorf("local accounts cluster: aadProfile %+v, fqdn %s, location %s", lp.AADProfile, *lp.Fqdn, *old.Location)
	}
}

// kubeconfigOf lists the cluster's user credentials as a and returns its one kubeconfig, read
// by client-go.
func kubeconfigOf(t *testing.T, a app, name string, opts *armcontainerservice.ManagedClustersClientListClusterUserCredentialsOptions) []byte {
	t.Helper()
	resp, err := clusters(t, a).ListClusterUserCredentials(t.Context(), group, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kubeconfigs) != 1 || *resp.Kubeconfigs[0].Name != "clusterUser" {
		t.Fatalf("kubeconfigs = %+v", resp.Kubeconfigs)
	}
	return resp.Kubeconfigs[0].Value
}

// TestClusterUserCredentials: the user kubeconfig, as client-go reads it: the API server with
// the CA set at run time, and a user for Entra ID (kubelogin, or the legacy auth provider), or a
// local account's token.
func TestClusterUserCredentials(t *testing.T) {
	ca := withClusterCA(t)
	value := kubeconfigOf(t, admin, cluster, nil)
	cfg, err := clientcmd.Load(value)
	if err != nil {
		t.Fatalf("%v\n%s", err, value)
	}
	user := "clusterUser_" + group + "_" + cluster
	kc := cfg.Clusters[cluster]
	if cfg.CurrentContext != cluster || kc == nil || cfg.Contexts[cluster] == nil || cfg.Contexts[cluster].AuthInfo != user {
		t.Fatalf("kubeconfig:\n%s", value)
	}
	if kc.Server != "https://"+fleetAPI+":443" || string(kc.CertificateAuthorityData) != ca {
		t.Errorf("cluster = %s, CA %q", kc.Server, kc.CertificateAuthorityData)
	}
	exec := cfg.AuthInfos[user].Exec
	if exec == nil || exec.Command != "kubelogin" || exec.APIVersion != "client.authentication.k8s.io/v1beta1" ||
		!slices.Equal(exec.Args, []string{"get-token", "--environment", "AzurePublicCloud", "--server-id", entra.AKSServerAppID,
			"--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", tenantID, "--login", "devicecode"}) {
		t.Errorf("user = %+v", cfg.AuthInfos[user])
	}
	// As Flux reads it: a REST config whose host, canonicalised, is the cluster's FQDN on 443.
	rc, err := clientcmd.RESTConfigFromKubeConfig(value)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(rc.Host); err != nil || strings.ToLower(u.Hostname()) != fleetAPI || u.Port() != "443" || string(rc.CAData) != ca {
		t.Errorf("REST config host %s (%v)", rc.Host, err)
	}

	// format=exec is the default; format=azure gives the legacy auth provider.
	if again := kubeconfigOf(t, admin, cluster, &armcontainerservice.ManagedClustersClientListClusterUserCredentialsOptions{
		Format: to.Ptr(armcontainerservice.FormatExec), ServerFqdn: to.Ptr("public"),
	}); string(again) != string(value) {
		t.Errorf("format=exec differs from the default:\n%s", again)
	}
	legacyCfg, err := clientcmd.Load(kubeconfigOf(t, admin, cluster, &armcontainerservice.ManagedClustersClientListClusterUserCredentialsOptions{
		Format: to.Ptr(armcontainerservice.FormatAzure),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if ap := legacyCfg.AuthInfos[user].AuthProvider; ap == nil || ap.Name != "azure" || ap.Config["apiserver-id"] != entra.AKSServerAppID ||
		ap.Config["tenant-id"] != tenantID || ap.Config["config-mode"] != "1" {
		t.Errorf("format=azure user = %+v", legacyCfg.AuthInfos[user])
	}
	_, err = clusters(t, admin).ListClusterUserCredentials(t.Context(), group, cluster,
		&armcontainerservice.ManagedClustersClientListClusterUserCredentialsOptions{Format: to.Ptr(armcontainerservice.Format("yaml"))})
	if re := responseError(t, err); re.StatusCode != http.StatusBadRequest || re.ErrorCode != "BadRequest" || !strings.Contains(re.Error(), "'yaml'") {
		t.Errorf("unknown format: %v", err)
	}

	// A cluster of local accounts: a token, no CA (none was set), and the default host.
	localCfg, err := clientcmd.Load(kubeconfigOf(t, admin, legacy, nil))
	if err != nil {
		t.Fatal(err)
	}
	dc, _ := local.azure.Directory().ManagedCluster(legacy)
	localUser := localCfg.AuthInfos["clusterUser_"+group+"_"+legacy]
	if lc := localCfg.Clusters[legacy]; lc == nil || lc.Server != "https://"+dc.Host()+":443" || len(lc.CertificateAuthorityData) != 0 ||
		localUser == nil || len(localUser.Token) < 32 || localUser.Exec != nil {
		t.Errorf("local accounts kubeconfig: %+v %+v", lc, localUser)
	}
}

// TestClusterAuthorization: who may read a cluster and list its credentials. A principal with no
// role is refused both, naming the action and the cluster; the Cluster User Role at the cluster
// grants both at once; Reader reads but does not list; Contributor does both.
func TestClusterAuthorization(t *testing.T) {
	c := clusters(t, aksUser)
	const (
		readAction = "'Microsoft.ContainerService/managedClusters/read' over scope '" + clusterScope + "'"
		listAction = "'Microsoft.ContainerService/managedClusters/listClusterUserCredential/action' over scope '" + clusterScope + "'"
	)
	_, err := c.Get(t.Context(), group, cluster, nil)
	if re := responseError(t, err); re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationFailed" || !strings.Contains(re.Error(), readAction) {
		t.Errorf("get without a role: %v", err)
	}
	_, err = c.ListClusterUserCredentials(t.Context(), group, cluster, nil)
	if re := responseError(t, err); re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationFailed" ||
		!strings.Contains(re.Error(), "The client '"+aksUser.objectID+"' with object id '"+aksUser.objectID+"'") || !strings.Contains(re.Error(), listAction) {
		t.Errorf("list without a role: %v", err)
	}

	ra := assignments(t, admin)
	const name = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"
	if _, err := ra.Create(t.Context(), clusterScope, name, assignment(rbac.AKSClusterUserRoleID, aksUser.objectID), nil); err != nil {
		t.Fatal(err)
	}
	removeLater(t, ra, clusterScope, name)
	if _, err := c.Get(t.Context(), group, cluster, nil); err != nil {
		t.Errorf("get with the Cluster User Role: %v", err)
	}
	if _, err := clientcmd.Load(kubeconfigOf(t, aksUser, cluster, nil)); err != nil {
		t.Errorf("list with the Cluster User Role: %v", err)
	}
	// The grant is the cluster's, not its neighbour's.
	_, err = c.ListClusterUserCredentials(t.Context(), group, legacy, nil)
	if re := responseError(t, err); re.StatusCode != http.StatusForbidden {
		t.Errorf("list of another cluster: %v", err)
	}

	// Reader (at the subscription): */read reads the cluster; the list is an action.
	if _, err := clusters(t, reader).Get(t.Context(), group, cluster, nil); err != nil {
		t.Errorf("reader's get: %v", err)
	}
	_, err = clusters(t, reader).ListClusterUserCredentials(t.Context(), group, cluster, nil)
	if re := responseError(t, err); re.StatusCode != http.StatusForbidden || !strings.Contains(re.Error(), listAction) {
		t.Errorf("reader's list: %v", err)
	}

	// Contributor at the resource group: both.
	const contributorAssignment = "6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f"
	if _, err := ra.Create(t.Context(), groupScope, contributorAssignment, assignment(rbac.ContributorID, worker.objectID), nil); err != nil {
		t.Fatal(err)
	}
	removeLater(t, ra, groupScope, contributorAssignment)
	kubeconfigOf(t, worker, legacy, nil)
}

// TestClusterRequests: what is not there, and what the emulator refuses.
func TestClusterRequests(t *testing.T) {
	c := clusters(t, admin)
	_, err := c.Get(t.Context(), group, "nope", nil)
	if re := responseError(t, err); re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceNotFound" ||
		!strings.Contains(re.Error(), "The Resource 'Microsoft.ContainerService/managedClusters/nope' under resource group '"+group+"' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix") {
		t.Errorf("unknown cluster: %v", err)
	}
	_, err = c.ListClusterUserCredentials(t.Context(), group, "nope", nil)
	if re := responseError(t, err); re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceNotFound" {
		t.Errorf("credentials of an unknown cluster: %v", err)
	}
	_, err = c.Get(t.Context(), "nope", cluster, nil)
	if re := responseError(t, err); re.StatusCode != http.StatusNotFound || re.ErrorCode != "ResourceGroupNotFound" {
		t.Errorf("unknown group: %v", err)
	}

	tok := token(t, admin, "https://management.azure.com/.default")
	path := clusterScope
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"SDK's api-version", "GET", path + "?api-version=2025-02-01", 200, ""},
		{"oldest api-version", "GET", path + "?api-version=2017-08-31", 200, ""},
		{"newest api-version", "POST", path + "/listClusterUserCredential?api-version=2025-10-01", 200, ""},
		{"unknown api-version", "GET", path + "?api-version=2016-03-30", 400, "InvalidApiVersionParameter"},
		{"no api-version", "GET", path, 400, "MissingApiVersionParameter"},
		{"private FQDN", "POST", path + "/listClusterUserCredential?api-version=2025-02-01&server-fqdn=private", 400, "BadRequest"},
		{"credentials by GET", "GET", path + "/listClusterUserCredential?api-version=2025-02-01", 405, "MethodNotAllowed"},
		{"admin credentials", "POST", path + "/listClusterAdminCredential?api-version=2025-02-01", 501, "NotImplemented"},
		{"create a cluster", "PUT", groupScope + "/providers/Microsoft.ContainerService/managedClusters/new?api-version=2025-02-01", 501, "NotImplemented"},
		{"list clusters", "GET", subScope + "/providers/Microsoft.ContainerService/managedClusters?api-version=2025-02-01", 501, "NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := call(t, tt.method, tt.path, tok, "")
			if status != tt.status || e.Code != tt.code {
				t.Errorf("got %d %+v, want %d %s", status, e, tt.status, tt.code)
			}
		})
	}

	// The cluster is a resource of the subscription, and a scope of role assignments.
	rc, err := armresources.NewClient(subID, credential(t, reader), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	page, err := rc.NewListPager(&armresources.ClientListOptions{Filter: to.Ptr("resourceType eq 'Microsoft.ContainerService/managedClusters'")}).NextPage(t.Context())
	if err != nil || len(page.Value) != 2 || *page.Value[0].ID != clusterScope || *page.Value[0].Location != "westeurope" {
		t.Errorf("resources: %d, %v", len(page.Value), err)
	}
	pager := assignments(t, admin).NewListForScopePager(clusterScope, nil)
	if _, err := pager.NextPage(t.Context()); err != nil {
		t.Errorf("role assignments at the cluster: %v", err)
	}
}

// TestFluxReachesCluster walks Flux's kubeConfig.configMapRef path with provider azure: an ARM
// token reads the cluster (it must have an aadProfile) and its user kubeconfig; then a token for
// the AKS server application goes to the API server, which verifies it with the tenant's v1
// discovery document and keys, as a JWT authenticator does.
func TestFluxReachesCluster(t *testing.T) {
	ca := withClusterCA(t)
	c := clusters(t, admin)
	mc, err := c.Get(t.Context(), group, cluster, nil)
	if err != nil || mc.Properties.AADProfile == nil {
		t.Fatalf("get: %v", err)
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(kubeconfigOf(t, admin, cluster, nil))
	if err != nil || rc.Host != "https://"+*mc.Properties.Fqdn+":443" || string(rc.CAData) != ca {
		t.Fatalf("REST config %+v: %v", rc, err)
	}

	tok, err := credential(t, admin).GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{entra.AKSServerAppID + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, "https://login.microsoftonline.com/"+tenantID+"/.well-known/openid-configuration", &doc)
	if doc.Issuer != "https://sts.windows.net/"+tenantID+"/" || doc.JWKSURI != "https://login.microsoftonline.com/"+tenantID+"/discovery/keys" {
		t.Fatalf("v1 discovery: %+v", doc)
	}
	var set struct {
		Keys []struct {
			Kid string   `json:"kid"`
			X5c []string `json:"x5c"`
		} `json:"keys"`
	}
	getJSON(t, doc.JWKSURI, &set)
	parsed, err := jwt.Parse(tok.Token, func(tk *jwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tk.Header["kid"] && len(k.X5c) > 0 {
				der, err := base64.StdEncoding.DecodeString(k.X5c[0])
				if err != nil {
					return nil, err
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, err
				}
				return cert.PublicKey, nil
			}
		}
		return nil, jwt.ErrTokenUnverifiable
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(doc.Issuer), jwt.WithAudience(entra.AKSServerAppID))
	if err != nil || !parsed.Valid {
		t.Fatalf("the API server would refuse the token: %v", err)
	}
	if aud, _ := parsed.Claims.GetAudience(); len(aud) != 1 || aud[0] != "6dae42f8-4368-4678-94ff-3960e28e3630" {
		t.Errorf("aud = %v", aud)
	}
	// ARM refuses that token: its audience is the cluster's.
	if status, e := call(t, http.MethodGet, clusterScope+"?api-version=2025-02-01", tok.Token, ""); status != http.StatusUnauthorized ||
		e.Code != "InvalidAuthenticationTokenAudience" {
		t.Errorf("ARM with an AKS token: %d %+v", status, e)
	}
}

// getJSON reads a JSON document through the local Azure.
func getJSON(t *testing.T, rawURL string, into any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := local.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", rawURL, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
}
