package acr_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	localacr "github.com/azimuth-gitops/azimuth/azurelocal/acr"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	localentra "github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

const (
	tenantID = "4681a6e4-f503-45ad-aa46-5da362b3c738"
	subID    = "cff4a7fa-2448-46cc-8446-da47df0aa2d1"
	secret   = "keychain-test-secret"

	registry = "azimuthtest.azurecr.io"
	armless  = "armless.azurecr.io"

	controllerSubject = "system:serviceaccount:flux-system:source-controller"
	objectSubject     = "system:serviceaccount:apps:puller"
)

// Principals of the test directory: client ID and object ID.
type principal struct{ name, clientID, objectID string }

var (
	pusher     = principal{"pusher", "db7de013-3fa3-4ba8-a1e6-749ba004d214", "1fdcf1b9-d09a-4e2a-b221-8e4dec5b3ac7"}
	certPuller = principal{"cert-puller", "b5c49d46-38f2-4968-ad4b-c1b49cc8410c", "6dd2d7ee-749c-46c0-9c2f-20bbed2ac3fa"}
	nobody     = principal{"nobody", "6a041bb8-1cbd-4fd6-aae1-404c80535c26", "c4e7bb25-86c5-43d4-815e-35790d306dad"}
	rotator    = principal{"rotator", "94837b03-2d2e-40fc-a8ba-294f24294ad9", "38ada338-08b9-4f3b-8893-149ab3c76f35"}
	kubelet    = principal{"kubelet", "e3609c08-50d3-4b40-b0cd-23e2827fc57f", "97a3dd65-4e42-498b-99fc-2b3956074c42"}
	workload   = principal{"workload", "2902ba09-285b-45a8-b510-660935e41e51", "f6f4511f-8f1e-4162-8e19-7586217c9510"}
)

func testDirectory(issuer string, certPEM []byte) string {
	registryScope := "/subscriptions/" + subID + "/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/azimuthtest"
	app := func(p principal, creds string) string {
		return fmt.Sprintf("  - {name: %s, clientId: %s, principalId: %s, %s}\n", p.name, p.clientID, p.objectID, creds)
	}
	return `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `}]
applications:
` + app(pusher, "clientSecrets: [{value: "+secret+"}]") +
		app(certPuller, `certificates: [{pem: "`+azuretest.OneLine(certPEM)+`"}]`) +
		app(nobody, "clientSecrets: [{value: "+secret+"}]") +
		app(rotator, "clientSecrets: [{value: "+secret+"}]") + `
managedIdentities:
  - {name: kubelet, subscription: ` + subID + `, resourceGroup: aks, clientId: ` + kubelet.clientID + `, principalId: ` + kubelet.objectID + `}
  - name: workload
    subscription: ` + subID + `
    resourceGroup: flux
    clientId: ` + workload.clientID + `
    principalId: ` + workload.objectID + `
    federatedCredentials:
      - {name: controller, issuer: "` + issuer + `", subject: "` + controllerSubject + `"}
      - {name: object, issuer: "` + issuer + `", subject: "` + objectSubject + `"}
node: {name: vm0, identities: [kubelet]}
resources:
  registries:
    - {name: azimuthtest, subscription: ` + subID + `, resourceGroup: acr}
    - {name: armless, subscription: ` + subID + `, resourceGroup: acr}
roleAssignments:
  - {principal: pusher, role: AcrPush, scope: /subscriptions/` + subID + `/resourceGroups/acr}
  - {principal: cert-puller, role: AcrPull, scope: ` + registryScope + `}
  - {principal: rotator, role: AcrPull, scope: ` + registryScope + `}
  - {principal: kubelet, role: AcrPull, scope: /subscriptions/` + subID + `}
  - {principal: workload, role: AcrPull, scope: ` + registryScope + `}
`
}

// fixture is the local Azure (with the ACR emulator) that the package's tests share. TestMain
// sets it once; it is read-only afterwards.
type fixture struct {
	azure     *azuretest.Azure
	acr       *localacr.Server
	transport transport.Options
	rt        *http.Transport
	provider  *entra.Provider
	issuer    *azuretest.Issuer
	certPEM   []byte // certificate and key of cert-puller
	acrLog    *azuretest.Recorder[localacr.Record]
	entraLog  *azuretest.Recorder[localentra.Record]
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	issuer := azuretest.NewIssuer()
	defer issuer.Close()
	cert := azuretest.NewKeyPair("cert-puller", nil)
	f := &fixture{issuer: issuer, certPEM: cert.PEM(), acrLog: &azuretest.Recorder[localacr.Record]{}, entraLog: &azuretest.Recorder[localentra.Record]{}}
	var err error
	f.azure, err = azuretest.StartAzure(testDirectory(issuer.URL(), cert.CertPEM()), &azurelocal.Options{
		IssuerCAs: [][]byte{issuer.CAPEM()}, ObserveToken: f.entraLog.Add,
	})
	if err != nil {
		return 0, err
	}
	defer f.azure.Stop()
	f.acr, err = azuretest.ServeACR(f.azure.Azure, localacr.WithObserver(f.acrLog.Add), localacr.WithoutARMAudience("armless"))
	if err != nil {
		return 0, err
	}
	rules, err := transport.ParseConnectToList(strings.Join(f.azure.ConnectTo(), "\n"))
	if err != nil {
		return 0, err
	}
	f.transport = transport.Options{ConnectTo: rules, RootCAs: f.azure.CAPool()}
	if f.rt, err = transport.New(&f.transport); err != nil {
		return 0, err
	}
	defer f.rt.CloseIdleConnections()
	f.provider = entra.NewProvider(&entra.Options{Transport: &f.transport})
	local = f
	return m.Run(), nil
}

// exchangesBy counts successful exchanges of p's tokens after the first n ACR records.
func exchangesBy(n int, p principal) int {
	return local.acrLog.Count(n, func(r localacr.Record) bool {
		return r.Path == "/oauth2/exchange" && r.PrincipalID == p.objectID && r.Status == http.StatusOK
	})
}

// Identities of each kind that needs no Kubernetes.
func secretIdentity(p principal) identity.Identity {
	return identity.Identity{
		Kind: identity.ClientSecret, Level: identity.ObjectLevel, Source: "secret apps/" + p.name, Namespace: "apps",
		TenantID: tenantID, ClientID: p.clientID, Secret: identity.Secret{ClientSecret: secret},
	}
}

func certificateIdentity() identity.Identity {
	return identity.Identity{
		Kind: identity.ClientCertificate, Level: identity.ObjectLevel, Source: "secret apps/cert-puller", Namespace: "apps",
		TenantID: tenantID, ClientID: certPuller.clientID, Secret: identity.Secret{Certificate: local.certPEM},
	}
}

func nodeIdentity() identity.Identity {
	return identity.Identity{Kind: identity.NodeManagedIdentity, Level: identity.ControllerLevel, Source: "node", ClientID: kubelet.clientID}
}

func controllerWorkloadIdentity(t *testing.T) identity.Identity {
	return identity.Identity{
		Kind: identity.ControllerWorkloadIdentity, Level: identity.ControllerLevel, Source: "controller environment",
		TenantID: tenantID, ClientID: workload.clientID, TokenFile: local.issuer.TokenFile(t, controllerSubject, identity.ExchangeAudience),
	}
}

func objectWorkloadIdentity() identity.Identity {
	return identity.Identity{
		Kind: identity.WorkloadIdentity, Level: identity.ObjectLevel, Source: "service account apps/puller",
		Namespace: "apps", ServiceAccount: "puller", TenantID: tenantID, ClientID: workload.clientID,
		Assertion: func(context.Context) (string, error) {
			return local.issuer.Token(objectSubject, identity.ExchangeAudience), nil
		},
	}
}

// keychain returns a keychain for id with a cache of its own.
func keychain(t *testing.T, id identity.Identity, opts *acr.KeychainOptions) *acr.Keychain {
	t.Helper()
	cred, err := local.provider.Credential(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := acr.KeychainOptions{}
	if opts != nil {
		o = *opts
	}
	o.Transport = local.rt
	return acr.NewKeychain(cred, &o)
}

func remoteOptions(t *testing.T, kc *acr.Keychain) []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithTransport(local.rt), remote.WithContext(t.Context())}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
