package entra

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	localentra "github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The directory the integration tests run against. Every ID is fake.
const (
	tenantID    = "a2e00000-0000-4000-8000-000000000001"
	govTenantID = "a2e00000-0000-4000-8000-000000000002"
	subID       = "a2e00000-0000-4000-8000-0000000000a1"

	secretApp, secretAppOID   = "a2e0a000-0000-4000-8000-000000000001", "a2e0b000-0000-4000-8000-000000000001"
	secretApp2, secretApp2OID = "a2e0a000-0000-4000-8000-000000000002", "a2e0b000-0000-4000-8000-000000000002"
	certApp, certAppOID       = "a2e0a000-0000-4000-8000-000000000003", "a2e0b000-0000-4000-8000-000000000003"
	govApp, govAppOID         = "a2e0a000-0000-4000-8000-000000000004", "a2e0b000-0000-4000-8000-000000000004"
	appSecret                 = "entra-test-s3cret-value"
	app2Secret                = "entra-test-other-s3cret"
	govSecret                 = "entra-test-gov-s3cret"

	// Managed identities: wiObject, wiController, wiAudience and wiSubject get federated
	// credentials for the test control plane at run time; wiNone never does.
	wiObject, wiObjectOID         = "a2e0c000-0000-4000-8000-000000000001", "a2e0d000-0000-4000-8000-000000000001"
	wiController, wiControllerOID = "a2e0c000-0000-4000-8000-000000000002", "a2e0d000-0000-4000-8000-000000000002"
	wiAudience                    = "a2e0c000-0000-4000-8000-000000000003"
	wiSubject                     = "a2e0c000-0000-4000-8000-000000000004"
	wiNone                        = "a2e0c000-0000-4000-8000-000000000005"
	// secretMI is chosen by an object's secret; nodeMI by the controller's AZURE_CLIENT_ID; both
	// are assigned to the node, which also has a system-assigned identity.
	secretMI, secretMIOID = "a2e0c000-0000-4000-8000-000000000006", "a2e0d000-0000-4000-8000-000000000006"
	nodeMI, nodeMIOID     = "a2e0c000-0000-4000-8000-000000000007", "a2e0d000-0000-4000-8000-000000000007"
	systemMI, systemOID   = "a2e0c000-0000-4000-8000-000000000008", "a2e0d000-0000-4000-8000-000000000008"
)

// certPassword protects the PKCS#12 certificates.
const certPassword = "p12-pass-w0rd"

// localAzure is the package's local Azure and control plane, with hooks that let a test count
// and hold token requests and move the local Azure's clock.
type localAzure struct {
	azure     *azuretest.Azure
	env       *testenv.Env
	kube      client.Client
	transport transport.Options

	// Certificates of cert-app: certPEM, and the same key in PKCS#12 with certPassword (AES as
	// OpenSSL 3 writes it, and legacy 3DES), each with its own registered certificate; stranger
	// is a certificate registered nowhere.
	certPEM, p12AES, p12DES, strangerPEM []byte

	clock  azuretest.Clock // the local Azure's clock: the real time, moved by skewClock
	events azuretest.Recorder[event]

	mu   sync.Mutex
	gate func(context.Context, localentra.Record)
}

// event is a token request arriving at the local Entra ID (start, from its gate) or answered by
// it or by IMDS (end, from its observer), in the order they happened.
type event struct {
	end bool
	rec localentra.Record
}

// shared holds the one local Azure of this test binary, started by the first test that needs it,
// as testenv holds its control plane. Its state lives in the control plane's directory, which
// testenv.Main removes.
var shared azuretest.Lazy[*localAzure]

// local returns the package's local Azure and control plane, starting them on first use.
func local(t *testing.T) *localAzure {
	t.Helper()
	return shared.Get(t, func() (*localAzure, error) { return startLocal(testenv.Get(t)) })
}

func startLocal(env *testenv.Env) (*localAzure, error) {
	la := &localAzure{env: env}
	key := azuretest.NewKeyPair("cert-app-0", nil)
	certs := []azuretest.KeyPair{key, key.Reissue("cert-app-1"), key.Reissue("cert-app-2"), key.Reissue("cert-app-3")}
	la.certPEM = certs[0].PEM()
	var err error
	if la.p12AES, err = pkcs12.Modern.Encode(key.Key, certs[1].Cert, nil, certPassword); err != nil {
		return nil, err
	}
	if la.p12DES, err = pkcs12.LegacyDES.Encode(key.Key, certs[2].Cert, nil, certPassword); err != nil {
		return nil, err
	}
	la.strangerPEM = certs[3].PEM()

	la.azure, err = azuretest.StartAzure(directoryYAML(certs[:3]), &azurelocal.Options{
		StateDir:     filepath.Join(env.Dir, "local-azure"),
		IssuerCAs:    [][]byte{env.CAPEM},
		Clock:        la.clock.Now,
		ObserveToken: func(r localentra.Record) { la.events.Add(event{end: true, rec: r}) },
		GateToken:    la.hold,
	})
	if err != nil {
		return nil, err
	}
	rules, err := transport.ParseConnectToList(strings.Join(la.azure.ConnectTo(), "\n"))
	if err != nil {
		return nil, err
	}
	la.transport = transport.Options{ConnectTo: rules, RootCAs: la.azure.CAPool()}
	la.kube, err = client.New(env.Config, client.Options{})
	return la, err
}

func directoryYAML(certs []azuretest.KeyPair) string {
	var pems []string
	for i, c := range certs {
		pems = append(pems, fmt.Sprintf(`{name: c%d, pem: "%s"}`, i, azuretest.OneLine(c.CertPEM())))
	}
	mi := func(name, clientID, oid string) string {
		return fmt.Sprintf("  - {name: %s, subscription: %s, resourceGroup: entra, clientId: %s, principalId: %s}\n", name, subID, clientID, oid)
	}
	return `
tenants:
  - {id: ` + tenantID + `, name: Entra Tests}
  - {id: ` + govTenantID + `, name: Entra Tests Gov, cloud: AzureUSGovernment}
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
applications:
  - {name: secret-app, tenant: ` + tenantID + `, clientId: ` + secretApp + `, principalId: ` + secretAppOID + `, clientSecrets: [{value: ` + appSecret + `}]}
  - {name: secret-app-2, tenant: ` + tenantID + `, clientId: ` + secretApp2 + `, principalId: ` + secretApp2OID + `, clientSecrets: [{value: ` + app2Secret + `}]}
  - {name: cert-app, tenant: ` + tenantID + `, clientId: ` + certApp + `, principalId: ` + certAppOID + `, certificates: [` + strings.Join(pems, ", ") + `]}
  - {name: gov-app, tenant: ` + govTenantID + `, clientId: ` + govApp + `, principalId: ` + govAppOID + `, clientSecrets: [{value: ` + govSecret + `}]}
managedIdentities:
` + mi("wi-object", wiObject, wiObjectOID) +
		mi("wi-controller", wiController, wiControllerOID) +
		mi("wi-audience", wiAudience, "a2e0d000-0000-4000-8000-000000000003") +
		mi("wi-subject", wiSubject, "a2e0d000-0000-4000-8000-000000000004") +
		mi("wi-none", wiNone, "a2e0d000-0000-4000-8000-000000000005") +
		mi("secret-mi", secretMI, secretMIOID) +
		mi("node-mi", nodeMI, nodeMIOID) + `
node:
  name: entra-node
  systemAssigned: {clientId: ` + systemMI + `, principalId: ` + systemOID + `}
  identities: [secret-mi, node-mi]
`
}

// hold is the local Entra ID's gate: it records the request's arrival and runs the test's gate.
func (la *localAzure) hold(ctx context.Context, r localentra.Record) {
	la.events.Add(event{rec: r})
	la.mu.Lock()
	gate := la.gate
	la.mu.Unlock()
	if gate != nil {
		gate(ctx, r)
	}
}

// setGate runs fn for every token request to Entra ID until the test ends.
func (la *localAzure) setGate(t *testing.T, fn func(context.Context, localentra.Record)) {
	la.mu.Lock()
	la.gate = fn
	la.mu.Unlock()
	t.Cleanup(func() { la.mu.Lock(); la.gate = nil; la.mu.Unlock() })
}

// skewClock moves the local Azure's clock d ahead until the test ends.
func (la *localAzure) skewClock(t *testing.T, d time.Duration) {
	la.clock.Advance(d)
	t.Cleanup(func() { la.clock.Advance(-d) })
}

// mark returns a position in the event log, for eventsSince.
func (la *localAzure) mark() int { return la.events.Len() }

func (la *localAzure) eventsSince(mark int) []event { return la.events.Since(mark, nil) }

// requests counts the token requests for clientID answered since mark, by Entra ID or IMDS.
func (la *localAzure) requests(mark int, clientID string) int {
	return la.events.Count(mark, func(e event) bool { return e.end && strings.EqualFold(e.rec.ClientID, clientID) })
}

// provider returns a Provider that reaches the local Azure, with opts' cache settings.
func (la *localAzure) provider(opts *Options) *Provider {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	tr := la.transport
	o.Transport = &tr
	return NewProvider(&o)
}

// namespace creates a namespace for the test.
func (la *localAzure) namespace(t *testing.T) string {
	t.Helper()
	return testenv.Namespace(t, la.kube, "entra-")
}

func (la *localAzure) create(t *testing.T, objs ...client.Object) {
	t.Helper()
	testenv.Create(t, la.kube, objs...)
}

// secret creates a secret with data in ns.
func (la *localAzure) secret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	la.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data})
}

// serviceAccount creates a service account annotated for the managed identity clientID.
func (la *localAzure) serviceAccount(t *testing.T, ns, name, clientID string) {
	t.Helper()
	la.create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{
		identity.ClientIDAnnotation: clientID, identity.TenantIDAnnotation: tenantID,
	}}})
}

// federate lets the service account ns/sa of the control plane act as the managed identity
// clientID, with the audiences given (default: the exchange audience).
func (la *localAzure) federate(t *testing.T, clientID, ns, sa string, audiences ...string) {
	t.Helper()
	err := la.azure.Directory().AddFederatedCredential(clientID, directory.FederatedCredential{
		Name: ns + "-" + sa, Issuer: la.env.IssuerURL, Subject: "system:serviceaccount:" + ns + ":" + sa, Audiences: audiences,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// resolver returns a resolver over the control plane with env as the controller's environment.
func (la *localAzure) resolver(t *testing.T, opts identity.Options, env map[string]string) *identity.Resolver {
	t.Helper()
	opts.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	r, err := identity.NewResolver(la.kube, &opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (la *localAzure) resolve(t *testing.T, r *identity.Resolver, req identity.Request) identity.Identity {
	t.Helper()
	id, err := r.Resolve(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
