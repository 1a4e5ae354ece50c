package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/azimuth-gitops/azimuth/api/meta"
	sourcev1 "github.com/azimuth-gitops/azimuth/api/source/v1"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/devenv"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

func TestSetupPlanFromFiles(t *testing.T) {
	out, _, err := run(t.Context(), "setup", "plan", "-f", "../../internal/setup/testdata/plan-manifests",
		"--issuer", "https://oidc.example/abc/", "--subscription", "9500bbc1-08e9-41a1-a586-73f24f82e037", "--resource-group", "flux",
		"--identity", "213d8012-7eed-4f6d-a0db-54570c6d6f89=flux/flux-tenant-a", "--format", "terraform")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`resource "azurerm_federated_identity_credential" "tenant_a_source"`,
		`/registries/myreg"`, `/containers/manifests"`, `/vaults/fluxvault/keys/sops"`,
		"# Note: skipped 1 object(s) of kind Deployment",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
	for args, want := range map[string]string{
		"setup plan --issuer https://x":                       "at least one of the flags",
		"setup plan -f x --from-cluster":                      "none of the others can be",
		"setup plan -f testdata --identity nope":              "CLIENT_ID=RESOURCE_GROUP/NAME",
		"setup plan -f testdata --subscription nope":          "not a subscription ID",
		"setup plan -f testdata --resource-group-of myreg":    "NAME=GROUP",
		"setup plan -f testdata --apply --issuer https://x/y": "--apply needs --subscription",
	} {
		if _, _, err := run(t.Context(), strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", args, err, want)
		}
	}
}

// The local Azure's names this test relies on: the built-in directory's subscription, tenant,
// registry and storage account, its ARM administrator, and an identity of the test's own.
const (
	planSubscription = "9500bbc1-08e9-41a1-a586-73f24f82e037"
	planTenantID     = "2e811126-9388-40f9-a8e4-23ac7e094717"
	planAdminID      = "5c82d981-a915-4b79-942b-b4b22e53332a"
	planAdminSecret  = "azimuth-local-admin-secret-do-not-use-elsewhere"
	planPushID       = "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3"
	planPushSecret   = "azimuth-local-secret-do-not-use-elsewhere"
	planIdentity     = "plan-tenant"
	planIdentityID   = "1f3c9a52-6d0e-4b7a-9c21-5e8f0a4d7b63"
	planNamespace    = "plan-tenant"
	planContainer    = "plan"
	planControllerID = "213d8012-7eed-4f6d-a0db-54570c6d6f89" // flux-controller
)

// TestSetupPlanApply: a fresh tenant's OCIRepository and Bucket, acting as a service account
// whose managed identity has neither a federated credential nor a role, fail; setup plan
// --apply, through the local Azure Resource Manager with the administrator's client secret,
// creates both, and they become Ready; a second apply finds everything present.
func TestSetupPlanApply(t *testing.T) {
	ctx := t.Context()
	env, stateDir := planSystem(t)
	obj, bucket := planTenant(t, env)
	for _, o := range []conditionedObject{obj, bucket} {
		waitReady(t, env.Client, o, metav1.ConditionFalse)
	}

	// The controller's own identity, read from its service account, for an object naming none.
	controllerObjects := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flux-system"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "azimuth-controller", Annotations: map[string]string{
			identity.ClientIDAnnotation: planControllerID,
		}}},
		&sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Namespace: planNamespace, Name: "as-controller"}, Spec: obj.Spec},
	}
	controllerObjects[2].(*sourcev1.OCIRepository).Spec.ServiceAccountName = ""
	for _, o := range controllerObjects {
		if err := env.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	caFile := filepath.Join(stateDir, "ca.pem")
	if err := os.WriteFile(caFile, env.Azure.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_TENANT_ID", planTenantID)
	t.Setenv("AZURE_CLIENT_ID", planAdminID)
	t.Setenv("AZURE_CLIENT_SECRET", planAdminSecret)
	t.Setenv(connectToEnv, strings.Join(env.Azure.ConnectTo(), ","))
	args := []string{"setup", "plan", "--from-cluster", "-n", planNamespace, "--kubeconfig", env.Kube.Kubeconfig,
		"--issuer", env.Kube.IssuerURL, "--subscription", planSubscription, "--ca-file", caFile, "--apply"}
	out, _, err := run(ctx, args...)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, want := range []string{
		"federated credential plan-tenant-source of " + planIdentity, "): created",
		"role AcrPull for " + planIdentity + " on the registry azimuthlocal: created",
		"role Storage Blob Data Reader for " + planIdentity + " on the container " + planContainer + " of the storage account azimuthlocal: created",
		// flux-controller holds AcrPull on the registry already.
		"role AcrPull for flux-controller on the registry azimuthlocal: present",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the apply's report lacks %q:\n%s", want, out)
		}
	}
	for _, o := range []conditionedObject{obj, bucket} {
		requestReconcile(t, env.Client, o)
		waitReady(t, env.Client, o, metav1.ConditionTrue)
	}
	t.Logf("setup plan --apply:\n%s", out)
	again, _, err := run(ctx, args...)
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, again)
	}
	if strings.Contains(again, "created") || strings.Count(again, "present") != 4 {
		t.Errorf("a second apply must find the credential and the three roles present:\n%s", again)
	}
	spec := env.Azure.Directory().Spec()
	for _, ra := range spec.RoleAssignments {
		if ra.Principal == planIdentity && !strings.Contains(ra.Scope, "/registries/azimuthlocal") && !strings.HasSuffix(ra.Scope, "/containers/"+planContainer) {
			t.Errorf("a role wider than the plan's: %+v", ra)
		}
	}
}

// planSystem starts Kubernetes, the local Azure (the built-in directory with an identity that
// has nothing, and a container for the Bucket) and a manager for the tenant's namespace.
func planSystem(t *testing.T) (*devenv.Env, string) {
	t.Helper()
	spec := directory.Default().Spec()
	mi := spec.ManagedIdentities[0]
	spec.ManagedIdentities = append(spec.ManagedIdentities, directory.ManagedIdentity{
		Name: planIdentity, Subscription: mi.Subscription, ResourceGroup: mi.ResourceGroup,
		ClientID: planIdentityID, PrincipalID: "5b7e1c0a-93d4-4f26-8a1e-0c6d2f9b4e17",
	})
	spec.Resources.StorageAccounts[0].Containers = append(spec.Resources.StorageAccounts[0].Containers, planContainer)
	dir, err := directory.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	env, err := devenv.Start(ctx, &devenv.Options{Directory: dir})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	_, done, err := env.RunControllers(ctx, devenv.Controllers{ObjectLevelWorkloadIdentity: true, Namespaces: []string{planNamespace}, StoragePath: filepath.Join(stateDir, "storage")})
	if err != nil {
		cancel()
		env.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done; env.Stop() })
	return env, stateDir
}

type conditionedObject interface {
	client.Object
	meta.ObjectWithConditions
}

// planTenant pushes an artifact and uploads a blob, and creates the tenant: its namespace, its
// service account annotated with the identity, an OCIRepository and a Bucket acting as it.
func planTenant(t *testing.T, env *devenv.Env) (*sourcev1.OCIRepository, *sourcev1.Bucket) {
	t.Helper()
	ctx := t.Context()
	img, err := devenv.Artifact(map[string]string{"deploy/app.yaml": "kind: ConfigMap\n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := env.Pusher(ctx, planTenantID, planPushID, planPushSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := pusher.Push("azimuthlocal.azurecr.io/plan-tenant/manifests:1.0.0", img); err != nil {
		t.Fatal(err)
	}
	sa := env.Azure.Directory().Spec().Resources.StorageAccounts[0]
	key, err := azblob.NewSharedKeyCredential(sa.Name, sa.Keys[0])
	if err != nil {
		t.Fatal(err)
	}
	rt, err := transport.New(&env.Transport)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := azblob.NewClientWithSharedKeyCredential("https://"+sa.Name+".blob.core.windows.net", key,
		&azblob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.UploadBuffer(ctx, planContainer, "deploy/app.yaml", []byte("kind: ConfigMap\n"), nil); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: planNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: planNamespace, Name: "source", Annotations: map[string]string{
			identity.ClientIDAnnotation: planIdentityID, identity.TenantIDAnnotation: planTenantID,
		}}},
	}
	oci := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: planNamespace, Name: "manifests"},
		Spec: sourcev1.OCIRepositorySpec{
			URL: "oci://azimuthlocal.azurecr.io/plan-tenant/manifests", Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"},
			Provider: sourcev1.AzureOCIProvider, ServiceAccountName: "source", Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	bucket := &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Namespace: planNamespace, Name: "manifests"},
		Spec: sourcev1.BucketSpec{
			Provider: sourcev1.AzureBucketProvider, Endpoint: "https://" + sa.Name + ".blob.core.windows.net", BucketName: planContainer,
			ServiceAccountName: "source", Interval: metav1.Duration{Duration: time.Hour},
		},
	}
	for _, o := range append(objs, oci, bucket) {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return oci, bucket
}

// requestReconcile asks for a reconcile now, as flux reconcile does, rather than waiting for
// the failure back-off.
func requestReconcile(t *testing.T, c client.Client, o conditionedObject) {
	t.Helper()
	patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
	ann := o.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	o.SetAnnotations(ann)
	if err := c.Patch(t.Context(), o, patch); err != nil {
		t.Fatal(err)
	}
}

// waitReady polls o until its Ready condition has status want; a bound against a hang, not a
// measurement.
func waitReady(t *testing.T, c client.Client, o conditionedObject, want metav1.ConditionStatus) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(o), o); err == nil {
			if cond := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition); cond != nil && cond.Status == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s: Ready is not %s: %+v", o.GetNamespace(), o.GetName(), want, o.GetConditions())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
