package arm_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// TestDefaultAdministrator: the default directory's azimuth-admin, with its client secret, grants
// the identity that holds nothing AcrPull on the registry through ARM, as setup plan --apply does
// against `azimuth dev up`.
func TestDefaultAdministrator(t *testing.T) {
	a := azuretest.Start(t, "", nil)
	spec := a.Directory().Spec()
	var admin directory.Application
	for _, app := range spec.Applications {
		if app.Name == "azimuth-admin" {
			admin = app
		}
	}
	if admin.Name == "" || len(admin.ClientSecrets) == 0 {
		t.Fatal("the default directory has no azimuth-admin with a client secret")
	}
	rules, err := transport.ParseConnectToList(strings.Join(a.ConnectTo(), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transport.New(&transport.Options{ConnectTo: rules, RootCAs: a.CAPool()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	opts := clientOptions()
	opts.Transport = &http.Client{Transport: tr}
	cred, err := azidentity.NewClientSecretCredential(spec.Tenants[0].ID, admin.ClientID, admin.ClientSecrets[0].Value,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: opts.Transport}})
	if err != nil {
		t.Fatal(err)
	}
	sub := spec.Subscriptions[0].ID
	mis, err := armmsi.NewUserAssignedIdentitiesClient(sub, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	denied, err := mis.Get(t.Context(), "flux", "team-denied", nil)
	if err != nil {
		t.Fatal(err)
	}
	registry, _ := a.Directory().Resource(directory.KindRegistry, "azimuthlocal")
	principal := *denied.Properties.PrincipalID
	if a.Directory().Authorize(principal, rbac.ActionRegistryPull, registry.ID()) {
		t.Fatal("team-denied may pull before the grant")
	}
	c, err := armauthorization.NewRoleAssignmentsClient(sub, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(t.Context(), registry.ID(), "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e", armauthorization.RoleAssignmentCreateParameters{
		Properties: &armauthorization.RoleAssignmentProperties{
			RoleDefinitionID: to.Ptr("/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + rbac.AcrPullID),
			PrincipalID:      to.Ptr(principal),
			PrincipalType:    to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Directory().Authorize(principal, rbac.ActionRegistryPull, registry.ID()) {
		t.Error("team-denied may not pull after the grant")
	}
}
