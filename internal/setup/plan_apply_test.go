package setup

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// The built-in directory's names: its subscription, its ARM administrator (Owner), an
// application without any role on ARM, the identity team-denied (no role, no federated
// credential) and the controller's identity (AcrPull on the registry already).
const (
	localSub        = "9500bbc1-08e9-41a1-a586-73f24f82e037"
	localTenant     = "2e811126-9388-40f9-a8e4-23ac7e094717"
	adminID         = "5c82d981-a915-4b79-942b-b4b22e53332a"
	adminSecret     = "azimuth-local-admin-secret-do-not-use-elsewhere"
	appID           = "7e477dda-4b8a-4ab6-9bc6-71e64b817cd3"
	appSecret       = "azimuth-local-secret-do-not-use-elsewhere"
	deniedID        = "bca54e62-4c56-40ce-9b34-044a9a5f57b4"
	deniedPrincipal = "7ad5fd23-e69a-48d2-92ba-7ec7e2105c52"
	controllerMI    = "213d8012-7eed-4f6d-a0db-54570c6d6f89"
	localIssuer     = "https://issuer.cluster.local/"
	localRegistry   = "/subscriptions/" + localSub + "/resourceGroups/flux/providers/Microsoft.ContainerRegistry/registries/azimuthlocal"
)

// applyObjects are a tenant acting as team-denied (a registry, an event hub, a key, an Azure
// DevOps project), an object acting as the controller, and one naming a registry that does not
// exist.
func applyObjects(t *testing.T) []unstructured.Unstructured {
	t.Helper()
	m := &Manifests{}
	doc := `apiVersion: v1
kind: ServiceAccount
metadata: {name: source, namespace: denied, annotations: {azure.workload.identity/client-id: ` + deniedID + `}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: app, namespace: denied}
spec: {url: oci://azimuthlocal.azurecr.io/app, provider: azure, serviceAccountName: source}
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: hub, namespace: denied}
spec: {type: azureeventhub, address: flux-events, channel: azimuth-local, serviceAccountName: source}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: denied}
spec: {decryption: {provider: sops, serviceAccountName: source}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: denied}
spec: {url: https://dev.azure.com/azimuth-local/fleet/_git/fleet-infra, provider: azure, serviceAccountName: source}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: platform, namespace: platform}
spec: {url: oci://azimuthlocal.azurecr.io/platform, provider: azure}
`
	if err := m.read("apply.yaml", strings.NewReader(doc), map[string]int{}); err != nil {
		t.Fatal(err)
	}
	return m.Objects
}

// localARM starts a local Azure and returns how to reach it and a client-secret credential of
// clientID.
func localARM(t *testing.T) (*directory.Directory, transport.Options, func(clientID, secret string) azcore.TokenCredential) {
	t.Helper()
	a := azuretest.Start(t, "", nil)
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), ","))
	if err != nil {
		t.Fatal(err)
	}
	net := transport.Options{ConnectTo: rules, RootCAs: a.CAPool()}
	rt, err := transport.New(&net)
	if err != nil {
		t.Fatal(err)
	}
	cred := func(clientID, secret string) azcore.TokenCredential {
		c, err := azidentity.NewClientSecretCredential(localTenant, clientID, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: &http.Client{Transport: rt}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return a.Directory(), net, cred
}

func TestApply(t *testing.T) {
	dir, net, cred := localARM(t)
	objects := applyObjects(t)
	o := PlanOptions{Issuer: localIssuer, Controller: KnownIdentity{ClientID: controllerMI},
		SOPSKeys: []string{"https://azimuth-local.vault.azure.net/keys/sops"}}
	var out bytes.Buffer
	ao := ApplyOptions{Credential: cred(adminID, adminSecret), Subscription: localSub, Transport: &net, Out: &out}
	if _, err := Apply(t.Context(), objects, o, ao); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{
		"federated credential denied-source of team-denied (issuer " + localIssuer + ", subject system:serviceaccount:denied:source): created",
		"role AcrPull for team-denied on the registry azimuthlocal: created",
		"role Azure Event Hubs Data Sender for team-denied on the event hub flux-events of the namespace azimuth-local: created",
		"role Key Vault Crypto User for team-denied on the key sops of the vault azimuth-local: created",
		// The controller's AcrPull is in the directory under another name: RoleAssignmentExists.
		"role AcrPull for flux-controller on the registry azimuthlocal: present",
		"Azure DevOps group Readers of azimuth-local/fleet for team-denied: created",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	spec := dir.Spec()
	var scopes []string
	for _, ra := range spec.RoleAssignments {
		if strings.EqualFold(ra.Principal, deniedPrincipal) || ra.Principal == "team-denied" || ra.Principal == deniedID {
			scopes = append(scopes, ra.Scope)
		}
	}
	if len(scopes) != 3 || !strings.Contains(strings.Join(scopes, " "), localRegistry) {
		t.Errorf("team-denied's roles are at %v, want the registry, the hub and the key", scopes)
	}
	for _, mi := range spec.ManagedIdentities {
		if mi.Name == "team-denied" && (len(mi.FederatedCredentials) != 1 || mi.FederatedCredentials[0].Subject != "system:serviceaccount:denied:source") {
			t.Errorf("team-denied's federated credentials: %+v", mi.FederatedCredentials)
		}
	}
	// Azure DevOps took team-denied into the organization and the project's Readers.
	if _, ok := dir.DevOpsMember("azimuth-local", deniedPrincipal); !ok || !dir.DevOpsInGroup("azimuth-local", "fleet", directory.DevOpsReaders, deniedPrincipal) {
		t.Errorf("team-denied is not a Reader of azimuth-local/fleet: %+v", dir.Spec().Resources.DevOpsOrganizations)
	}

	out.Reset()
	if _, err := Apply(t.Context(), objects, o, ao); err != nil {
		t.Fatalf("second apply: %v\n%s", err, out.String())
	}
	if again := out.String(); strings.Contains(again, "created") || strings.Count(again, ": present") != 6 {
		t.Errorf("a second apply must find all six present:\n%s", again)
	}
}

func TestApplyExplainsRefusalsAndMissingResources(t *testing.T) {
	dir, net, cred := localARM(t)
	var out bytes.Buffer
	// flux-secret-app may not read the subscription: the lookup says what it needs.
	ao := ApplyOptions{Credential: cred(appID, appSecret), Subscription: localSub, Transport: &net, Out: &out}
	_, err := Apply(t.Context(), applyObjects(t), PlanOptions{Issuer: localIssuer}, ao)
	if err == nil || !strings.Contains(err.Error(), "the credential needs Reader on it") || !strings.Contains(err.Error(), "AuthorizationFailed") {
		t.Fatalf("err = %v, want AuthorizationFailed and the role the credential needs", err)
	}
	// As a Reader, it may not write federated credentials nor assign roles.
	if err := dir.AddRoleAssignment(directory.RoleAssignment{Principal: "flux-secret-app", Role: "Reader", Scope: "/subscriptions/" + localSub}); err != nil {
		t.Fatal(err)
	}
	objects := applyObjects(t)
	missing := objects[1].DeepCopy()
	missing.SetName("elsewhere")
	_ = unstructured.SetNestedField(missing.Object, "oci://nosuchreg.azurecr.io/app", "spec", "url")
	objects = append(objects, *missing)
	_, err = Apply(t.Context(), objects, PlanOptions{Issuer: localIssuer}, ao)
	if !errors.Is(err, ErrApplyIncomplete) {
		t.Fatalf("err = %v, want ErrApplyIncomplete\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{
		"no registry named nosuchreg in subscription " + localSub,
		"failed: AuthorizationFailed (HTTP 403): the credential of AZURE_CLIENT_ID needs Managed Identity Contributor on the identity",
		"failed: AuthorizationFailed (HTTP 403): the credential of AZURE_CLIENT_ID needs Owner or User Access Administrator on " + localRegistry,
		// flux-secret-app reads azimuth-local/fleet but administers nothing there.
		"Azure DevOps group Readers of azimuth-local/fleet for team-denied: failed: adding it to the organization: TF50309",
		"(HTTP 403): the credential of AZURE_CLIENT_ID needs Project Collection Administrator of azimuth-local",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, appSecret) {
		t.Errorf("the report holds the secret")
	}
}
