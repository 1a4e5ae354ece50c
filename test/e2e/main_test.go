package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// The built-in directory's names this package relies on.
const (
	tenantID     = "2e811126-9388-40f9-a8e4-23ac7e094717"
	registryHost = "azimuthlocal.azurecr.io"
	controllerMI = "flux-controller"                      // AcrPull on the registry
	controllerID = "213d8012-7eed-4f6d-a0db-54570c6d6f89" // its client ID
	// noRoleMI is added by this package's directory: a managed identity with no role at all.
	// (Reader would not do: in Azure, as here, Reader's */read includes pulling images.)
	noRoleMI       = "tenant-without-role"
	noRoleMIID     = "6c0f5e3a-2f7e-4d51-9d0b-8c7f0f3e2a11"
	pushAppID      = "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3" // flux-secret-app: AcrPush
	pushAppSecret  = "azimuth-local-secret-do-not-use-elsewhere"
	nodeIdentityID = "4817e33f-6b74-4c56-b006-d543ddff26f0" // node-kubelet: AcrPull via the management group
)

// The namespaces of the tests. Two managers shard them, as controllers with different settings
// would in a cluster: one with the ObjectLevelWorkloadIdentity gate on, one with it off.
const (
	nsWorkloadIdentity = "tenant-wi"
	nsNode             = "tenant-node"
	nsDenied           = "tenant-denied"
	nsPolicy           = "tenant-policy"
	nsGateOff          = "tenant-gate-off"
	nsFaults           = "tenant-faults"
	nsFlux             = "tenant-flux"
	nsGit              = "tenant-git"
)

// suite is the system the package's tests share: one Kubernetes, one local Azure, two managers.
type suite struct {
	env *devenv.Env
}

// shared is the package's one system, started by the first test that needs it and stopped by
// TestMain: starting Kubernetes once per package keeps the suite fast.
var shared struct {
	once  sync.Once
	s     *suite
	err   error
	stop  context.CancelFunc
	done  []<-chan error
	clean func()
}

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
		for _, d := range shared.done {
			<-d
		}
	}
	if shared.clean != nil {
		shared.clean()
	}
	os.Exit(code)
}

// system starts the shared system on first use. Both managers run with, as their own
// environment, the node's managed identity (AZURE_CLIENT_ID only).
func system(t *testing.T) *suite {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = start() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.s
}

func start() (*suite, error) {
	ctx, cancel := context.WithCancel(context.Background())
	shared.stop = cancel
	dir, err := testDirectory()
	if err != nil {
		return nil, err
	}
	env, err := devenv.Start(ctx, &devenv.Options{Directory: dir})
	if err != nil {
		return nil, err
	}
	storage, err := os.MkdirTemp("", "azimuth-e2e-storage-")
	if err != nil {
		env.Stop()
		return nil, err
	}
	shared.clean = func() { env.Stop(); os.RemoveAll(storage) }
	nodeEnv := map[string]string{"AZURE_CLIENT_ID": nodeIdentityID}
	for _, c := range []devenv.Controllers{
		{ObjectLevelWorkloadIdentity: true, Env: nodeEnv, Namespaces: append([]string{nsWorkloadIdentity, nsNode, nsDenied, nsPolicy, nsFaults, nsFlux, nsGit, nsNotify, nsNotifyOCI, nsImageAutomation, nsEventHubs}, keyVaultNamespaces...), StoragePath: storage + "/on"},
		{ObjectLevelWorkloadIdentity: false, Env: nodeEnv, Namespaces: []string{nsGateOff}, StoragePath: storage + "/off"},
	} {
		_, done, err := env.RunControllers(ctx, c)
		if err != nil {
			return nil, err
		}
		shared.done = append(shared.done, done)
	}
	return &suite{env: env}, nil
}

// testDirectory is the built-in directory plus an identity that holds no role.
func testDirectory() (*directory.Directory, error) {
	spec := directory.Default().Spec()
	// The developer's SSH key, for GitRepositories over SSH.
	spec.Resources.DevOpsOrganizations[0].SSHKeys = append(spec.Resources.DevOpsOrganizations[0].SSHKeys, directory.SSHKey{
		Name: "e2e", User: "developer@azimuthlocal.onmicrosoft.com", PublicKey: developerKey.authorized,
	})
	mi := spec.ManagedIdentities[0]
	spec.ManagedIdentities = append(spec.ManagedIdentities, directory.ManagedIdentity{
		Name: noRoleMI, Subscription: mi.Subscription, ResourceGroup: mi.ResourceGroup,
		ClientID: noRoleMIID, PrincipalID: "0d6e2a59-3c54-4b43-a7f4-7f3a1e9b6c22",
	})
	return directory.New(spec)
}

// tenant makes namespace ns with a service account "source" annotated for the principal with
// clientID, and a federated credential on principalName for that account.
func (s *suite) tenant(t *testing.T, ns, principalName, clientID string) {
	t.Helper()
	if err := s.env.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "source", Annotations: map[string]string{
		identity.ClientIDAnnotation: clientID, identity.TenantIDAnnotation: tenantID,
	}}}
	if err := s.env.Client.Create(t.Context(), sa); err != nil {
		t.Fatal(err)
	}
	if principalName == "" {
		return
	}
	err := s.env.Azure.Directory().AddFederatedCredential(principalName, directory.FederatedCredential{
		Name: ns, Issuer: s.env.Kube.IssuerURL, Subject: "system:serviceaccount:" + ns + ":source",
	})
	if err != nil {
		t.Fatal(err)
	}
}

type conditioned interface {
	client.Object
	meta.ObjectWithConditions
}

// applyThrough creates objs and then source, waits until source is Ready, then creates ks,
// which applies it, and waits until ks is Ready.
func (s *suite) applyThrough(t *testing.T, source, ks conditioned, objs ...client.Object) {
	t.Helper()
	for _, o := range append(objs, source) {
		if err := s.env.Client.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	s.waitFor(t, source, "Ready=True", func() bool { st, _, _ := readyStatus(source); return st == metav1.ConditionTrue })
	if err := s.env.Client.Create(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, ks, "Ready=True", func() bool { st, _, _ := readyStatus(ks); return st == metav1.ConditionTrue })
}

// waitFor polls obj until done says so, failing with the object's conditions after a minute.
func (s *suite) waitFor(t *testing.T, obj conditioned, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := s.env.Client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err == nil && done() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s/%s: gave up waiting for %s; conditions: %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), what, describe(obj.GetConditions()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readyStatus(obj meta.ObjectWithConditions) (metav1.ConditionStatus, string, string) {
	c := apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition)
	if c == nil {
		return metav1.ConditionUnknown, "", ""
	}
	return c.Status, c.Reason, c.Message
}

func describe(conds []metav1.Condition) string {
	out := ""
	for _, c := range conds {
		out += fmt.Sprintf("\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return out
}
