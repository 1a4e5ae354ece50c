package remote

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/azure/aks"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The directory of these tests. Every ID is fake.
const (
	tenantID = "a3e00000-0000-4000-8000-000000000001"
	subID    = "a3e00000-0000-4000-8000-0000000000a1"
	group    = "fleet"

	// member may list the clusters' user kubeconfigs; reader may only read the clusters;
	// stranger has no role at all.
	member, memberOID     = "a3e0a000-0000-4000-8000-000000000001", "a3e0b000-0000-4000-8000-000000000001"
	reader, readerOID     = "a3e0a000-0000-4000-8000-000000000002", "a3e0b000-0000-4000-8000-000000000002"
	stranger, strangerOID = "a3e0a000-0000-4000-8000-000000000003", "a3e0b000-0000-4000-8000-000000000003"
	secret                = "remote-test-s3cret"

	// fleet has Entra ID integration and its API server is the test control plane, reached at
	// fleetHost; legacy has local accounts only.
	fleetHost = "fleet-dns-0a1b2c3d.hcp.westeurope.azmk8s.io"
)

const (
	clusters = "/subscriptions/" + subID + "/resourceGroups/" + group + "/providers/Microsoft.ContainerService/managedClusters/"
	fleetID  = clusters + "fleet"
	legacyID = clusters + "legacy"
)

// world is the package's control plane, serving as the AKS cluster fleet, and its local Azure.
type world struct {
	env   *testenv.Env
	azure *azuretest.Azure
	kube  client.Client
	// base reaches the local Azure and fleet's API server through the connect-to map.
	base transport.Options
}

var (
	shared  azuretest.Lazy[*world]
	started *world // stopped by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if started != nil {
		started.azure.Stop()
		started.env.Stop()
	}
	os.Exit(code)
}

// local returns the package's world, starting it on first use.
func local(t testing.TB) *world {
	t.Helper()
	return shared.Get(t, startWorld)
}

func startWorld() (*world, error) {
	ctx := context.Background()
	// The API server reaches Entra ID's keys through the local Azure's proxy, whose port must be
	// known before the API server starts.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	proxyAddr := l.Addr().String()
	l.Close()
	env, err := testenv.Start(ctx, &testenv.Options{HTTPSProxy: "http://" + proxyAddr, ServingNames: []string{fleetHost}})
	if err != nil {
		return nil, err
	}
	w := &world{env: env}
	w.azure, err = azuretest.StartAzure(directoryYAML(env.CAPEM), &azurelocal.Options{
		StateDir: filepath.Join(env.Dir, "local-azure"), ProxyListen: proxyAddr, IssuerCAs: [][]byte{env.CAPEM},
	})
	if err != nil {
		env.Stop()
		return nil, err
	}
	fail := func(err error) (*world, error) {
		w.azure.Stop()
		env.Stop()
		return nil, err
	}
	apiServer := strings.TrimPrefix(env.Config.Host, "https://")
	rules, err := transport.ParseConnectToList(strings.Join(append(w.azure.ConnectTo(), fleetHost+":443:"+apiServer), "\n"))
	if err != nil {
		return fail(err)
	}
	w.base = transport.Options{ConnectTo: rules, RootCAs: w.azure.CAPool()}
	// The control plane accepts Entra ID's tokens for AKS, naming the user by object ID, as
	// an AKS cluster with Entra ID integration does.
	err = env.SetJWTAuthenticators([]testenv.JWTAuthenticator{{
		IssuerURL:     "https://sts.windows.net/" + tenantID + "/",
		DiscoveryURL:  "https://login.microsoftonline.com/" + tenantID + "/.well-known/openid-configuration",
		Audiences:     []string{aks.ServerApplication},
		CAPEM:         w.azure.CAPEM(),
		UsernameClaim: "oid",
		GroupsClaim:   "groups",
	}})
	if err != nil {
		return fail(err)
	}
	if w.kube, err = client.New(env.Config, client.Options{}); err != nil {
		return fail(err)
	}
	cred, err := w.resolver(member).access.Credential(ctx, access.Spec{Namespace: "default"}, access.Connection{})
	if err != nil {
		return fail(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{aks.ServerScope}})
	if err != nil {
		return fail(err)
	}
	if _, err := env.Authenticate(ctx, tok.Token, time.Minute); err != nil {
		return fail(err)
	}
	started = w
	return w, nil
}

func directoryYAML(clusterCA []byte) string {
	app := func(name, clientID, oid string) string {
		return fmt.Sprintf("  - {name: %s, tenant: %s, clientId: %s, principalId: %s, clientSecrets: [{value: %s}]}\n", name, tenantID, clientID, oid, secret)
	}
	return `
tenants: [{id: ` + tenantID + `, name: Remote Tests}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
applications:
` + app("member", member, memberOID) + app("reader", reader, readerOID) + app("stranger", stranger, strangerOID) + `
resources:
  managedClusters:
    - {name: fleet, subscription: ` + subID + `, resourceGroup: ` + group + `, location: westeurope, fqdn: ` + fleetHost + `, certificateAuthority: "` + azuretest.OneLine(clusterCA) + `"}
    - {name: legacy, subscription: ` + subID + `, resourceGroup: ` + group + `, location: westeurope, localAccountsOnly: true}
roleAssignments:
  - {principal: member, role: Azure Kubernetes Service Cluster User Role, scope: /subscriptions/` + subID + `/resourceGroups/` + group + `}
  - {principal: reader, role: Reader, scope: ` + fleetID + `}
`
}

// resolver returns a Resolver whose controller identity is the application clientID, from the
// environment a controller pod would have.
func (w *world) resolver(clientID string) *Resolver {
	env := map[string]string{"AZURE_TENANT_ID": tenantID, "AZURE_CLIENT_ID": clientID, "AZURE_CLIENT_SECRET": secret}
	ids, err := identity.NewResolver(w.kube, &identity.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		panic(err)
	}
	base := w.base
	provider := entra.NewProvider(&entra.Options{Transport: &base})
	return NewResolver(access.NewResolver(w.kube, ids, provider, w.base))
}

// configMap creates a ConfigMap with data in a new namespace and returns the namespace.
func (w *world) configMap(t testing.TB, name string, data map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "remote-"}}
	if err := w.kube.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.kube.Delete(context.Background(), ns) })
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: name}, Data: data}
	if err := w.kube.Create(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// grant binds the ClusterRole role to the user oid, as a cluster administrator does for an Entra
// identity, until the test ends.
func (w *world) grant(t *testing.T, oid, role string) {
	t.Helper()
	b := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "entra-"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: oid}},
	}
	if err := w.kube.Create(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.kube.Delete(context.Background(), b) })
}
