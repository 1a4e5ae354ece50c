package bucket_test

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	localblob "github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/config/crd"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/manager"
	"github.com/azimuth-gitops/azimuth/internal/testenv"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The directory the tests run against. Every ID is fake.
const (
	tenantID = "b0c70000-0000-4000-8000-000000000001"
	subID    = "b0c70000-0000-4000-8000-0000000000a1"
	group    = "fleet"
	// account holds the tests' containers; flaky is the account faults are injected on.
	account = "azimuthfleet"
	flaky   = "azimuthflaky"
	key     = "cuubrhlUBBrFuF8pGEF9uQEkGKuGeAqTTXVjCO4jFUJIscu/9VtQhtgHX9o21/0tGJQ5ulvUBzz674NLHzTSvg=="
	secret  = "bucket-test-s3cret"

	secretApp   = "b0c7a000-0000-4000-8000-000000000001"
	certApp     = "b0c7a000-0000-4000-8000-000000000002"
	noRoleApp   = "b0c7a000-0000-4000-8000-000000000003"
	wiObject    = "b0c7c000-0000-4000-8000-000000000001"
	wiControl   = "b0c7c000-0000-4000-8000-000000000002"
	secretMI    = "b0c7c000-0000-4000-8000-000000000003"
	systemMI    = "b0c7c000-0000-4000-8000-000000000004"
	systemMIOID = "b0c7d000-0000-4000-8000-000000000004"

	// The controller's own service account, whose token the controller-level workload identity
	// exchanges.
	controllerNS, controllerSA = "azimuth-system", "azimuth"
)

func directoryYAML(cert azuretest.KeyPair) string {
	app := func(name, clientID, creds string) string {
		return fmt.Sprintf("  - {name: %s, clientId: %s, principalId: %s, %s}\n", name, clientID, strings.Replace(clientID, "b0c7a", "b0c7b", 1), creds)
	}
	mi := func(name, clientID string) string {
		return fmt.Sprintf("  - {name: %s, subscription: %s, resourceGroup: %s, clientId: %s, principalId: %s}\n", name, subID, group, clientID, strings.Replace(clientID, "b0c7c", "b0c7d", 1))
	}
	accountScope := "/subscriptions/" + subID + "/resourceGroups/" + group + "/providers/Microsoft.Storage/storageAccounts/"
	reader := func(principal, acct string) string {
		return fmt.Sprintf("  - {principal: %s, role: Storage Blob Data Reader, scope: %s%s}\n", principal, accountScope, acct)
	}
	return `
tenants: [{id: ` + tenantID + `}]
subscriptions: [{id: ` + subID + `, tenant: ` + tenantID + `}]
applications:
` + app("secret-app", secretApp, "clientSecrets: [{value: "+secret+"}]") +
		app("cert-app", certApp, `certificates: [{name: c0, pem: "`+azuretest.OneLine(cert.CertPEM())+`"}]`) +
		app("no-role-app", noRoleApp, "clientSecrets: [{value: "+secret+"}]") + `
managedIdentities:
` + mi("wi-object", wiObject) + mi("wi-controller", wiControl) + mi("secret-mi", secretMI) + `
node:
  name: bucket-node
  systemAssigned: {clientId: ` + systemMI + `, principalId: ` + systemMIOID + `}
  identities: [secret-mi]
resources:
  storageAccounts:
    - {name: ` + account + `, subscription: ` + subID + `, resourceGroup: ` + group + `, keys: [` + key + `]}
    - {name: ` + flaky + `, subscription: ` + subID + `, resourceGroup: ` + group + `, keys: [` + key + `]}
roleAssignments:
` + reader("secret-app", account) + reader("cert-app", account) + reader("wi-object", account) + reader("wi-controller", account) +
		reader("secret-mi", account) + reader(systemMIOID, account) + reader("secret-app", flaky)
}

// fixture is what every test of the package shares: one control plane, one local Azure with its
// Blob service (one Azurite), one manager running the Bucket controller. It is set once in
// TestMain; tests only read it, but for the controller's environment (setEnv), which the tests
// of controller-level identities change one at a time.
type fixture struct {
	env      *testenv.Env
	azure    *azuretest.Azure
	kube     client.Client
	blob     *http.Client
	requests *azuretest.Recorder[localblob.Record]
	cert     azuretest.KeyPair
	storage  string
	logs     *syncBuffer
	// azurite is Azurite's own address (https://127.0.0.1:PORT), which serves path-style
	// requests (https://127.0.0.1:PORT/ACCOUNT/CONTAINER) without the gateway.
	azurite string

	mu       sync.Mutex
	ctrlEnv  map[string]string
	envMutex sync.Mutex // held by a test that changes the controller's environment
}

var local *fixture

func TestMain(m *testing.M) { azuretest.Main(m, run) }

func run(m *testing.M) (int, error) {
	flag.Parse()
	if testing.Short() {
		return m.Run(), nil
	}
	ctx := context.Background()
	env, err := testenv.Start(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer env.Stop()
	fx := &fixture{env: env, cert: azuretest.NewKeyPair("cert-app", nil), requests: &azuretest.Recorder[localblob.Record]{}, logs: &syncBuffer{}, ctrlEnv: map[string]string{}}
	fx.azure, err = azuretest.StartAzure(directoryYAML(fx.cert), &azurelocal.Options{
		StateDir:  filepath.Join(env.Dir, "local-azure"),
		IssuerCAs: [][]byte{env.CAPEM},
		Blob:      &azurelocal.BlobOptions{},
	})
	if err != nil {
		return 0, err
	}
	defer fx.azure.Stop()
	srv, err := azuretest.ServeBlob(fx.azure.Azure, localblob.WithObserver(fx.requests.Add))
	if err != nil {
		return 0, err
	}
	fx.azurite = srv.Azurite().URL()
	rules, err := transport.ParseConnectToList(strings.Join(fx.azure.ConnectTo(), "\n"))
	if err != nil {
		return 0, err
	}
	topts := transport.Options{ConnectTo: rules, RootCAs: fx.azure.CAPool()}
	rt, err := transport.New(&topts)
	if err != nil {
		return 0, err
	}
	fx.blob = &http.Client{Transport: rt}
	bases, err := fs.Sub(crd.Bases, "bases")
	if err != nil {
		return 0, err
	}
	if err := env.InstallCRDsFS(ctx, bases); err != nil {
		return 0, err
	}
	scheme, err := manager.Scheme()
	if err != nil {
		return 0, err
	}
	if fx.kube, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	if err := fx.controllerIdentity(ctx); err != nil {
		return 0, err
	}
	ctrllog.SetLogger(funcr.New(func(prefix, args string) { fx.logs.WriteString(prefix + " " + args + "\n") }, funcr.Options{}))
	if fx.storage, err = os.MkdirTemp(env.Dir, "storage-"); err != nil {
		return 0, err
	}
	mgr, err := manager.New(env.Config, manager.Options{
		Controllers: []string{"bucket"},
		StoragePath: fx.storage, StorageAddr: "127.0.0.1:0", MetricsAddr: "0", HealthAddr: "0",
		Identity:  identity.Options{ObjectLevelWorkloadIdentity: true, LookupEnv: fx.lookupEnv},
		Transport: topts,
	})
	if err != nil {
		return 0, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	local = fx
	return m.Run(), nil
}

// controllerIdentity creates the controller's service account, lets it act as the managed
// identity wi-controller, and writes its token where AZURE_FEDERATED_TOKEN_FILE will name it.
func (fx *fixture) controllerIdentity(ctx context.Context) error {
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: controllerNS}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: controllerNS, Name: controllerSA}},
	} {
		if err := fx.kube.Create(ctx, o); err != nil {
			return err
		}
	}
	err := fx.azure.Directory().AddFederatedCredential(wiControl, directory.FederatedCredential{
		Name: "controller", Issuer: fx.env.IssuerURL, Subject: "system:serviceaccount:" + controllerNS + ":" + controllerSA,
	})
	if err != nil {
		return err
	}
	token, err := fx.env.ServiceAccountToken(ctx, controllerNS, controllerSA, identity.ExchangeAudience)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(fx.env.Dir, "azure-token"), []byte(token), 0o600)
}

func (fx *fixture) lookupEnv(k string) (string, bool) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	v, ok := fx.ctrlEnv[k]
	return v, ok
}

// setEnv makes env the controller's environment until the test ends. Tests that call it run
// one at a time.
func (fx *fixture) setEnv(t *testing.T, env map[string]string) {
	fx.envMutex.Lock()
	fx.mu.Lock()
	fx.ctrlEnv = env
	fx.mu.Unlock()
	t.Cleanup(func() {
		fx.mu.Lock()
		fx.ctrlEnv = map[string]string{}
		fx.mu.Unlock()
		fx.envMutex.Unlock()
	})
}

// get returns the fixture, or skips the test in -short mode.
func get(t *testing.T) *fixture {
	t.Helper()
	if local == nil {
		t.Skip("starts a control plane and a local Azure; run without -short")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("manager log (last 32 KiB):\n%s", local.logs.tail(32<<10))
		}
	})
	return local
}

// sharedKeyClient is azblob with the account's key, as a user uploading blobs.
func (fx *fixture) sharedKeyClient(t *testing.T, acct string) *azblob.Client {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(acct, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential("https://"+acct+localblob.Suffix+"/", cred,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: fx.blob}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// syncBuffer collects the manager's log from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[max(0, len(s)-n):]
}
