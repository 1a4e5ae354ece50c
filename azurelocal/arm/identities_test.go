package arm_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

const exchangeAudience = "api://AzureADTokenExchange"

func credentials(t *testing.T, a app) *armmsi.FederatedIdentityCredentialsClient {
	t.Helper()
	c, err := armmsi.NewFederatedIdentityCredentialsClient(subID, credential(t, a), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fic(issuer, subject string) armmsi.FederatedIdentityCredential {
	return armmsi.FederatedIdentityCredential{Properties: &armmsi.FederatedIdentityCredentialProperties{
		Issuer: to.Ptr(issuer), Subject: to.Ptr(subject), Audiences: []*string{to.Ptr(exchangeAudience)},
	}}
}

// exchange presents the issuer's token for subject to Entra ID as the managed identity, through
// azidentity's client assertion credential, and returns Entra's error (nil when it issued a token).
func exchange(t *testing.T, subject string) error {
	t.Helper()
	assertion := func(context.Context) (string, error) { return local.issuer.Token(subject, exchangeAudience), nil }
	cred, err := azidentity.NewClientAssertionCredential(tenantID, miClientID, assertion,
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: local.client}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	return err
}

// TestFederatedCredentialReachesEntra: the administrator federates a subject with the identity
// through ARM, and Entra ID exchanges that subject's token at once; once deleted, it refuses.
func TestFederatedCredentialReachesEntra(t *testing.T) {
	const subject = "system:serviceaccount:apps:source"
	if err := exchange(t, subject); err == nil || !strings.Contains(err.Error(), "AADSTS700211") {
		t.Fatalf("before the credential, the exchange gave %v, want AADSTS700211", err)
	}
	c := credentials(t, admin)
	resp, err := c.CreateOrUpdate(t.Context(), group, identity, "apps-source", fic(local.issuer.URL(), subject), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *resp.ID != identityScope+"/federatedIdentityCredentials/apps-source" || *resp.Properties.Subject != subject ||
		*resp.Type != "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials" {
		t.Errorf("created %s %s", *resp.ID, *resp.Type)
	}
	if err := exchange(t, subject); err != nil {
		t.Fatalf("after the credential, the exchange failed: %v", err)
	}
	// An update keeps the name and changes the subject.
	if _, err := c.CreateOrUpdate(t.Context(), group, identity, "apps-source", fic(local.issuer.URL(), subject+"-v2"), nil); err != nil {
		t.Fatal(err)
	}
	if err := exchange(t, subject+"-v2"); err != nil {
		t.Errorf("after the update, the exchange failed: %v", err)
	}
	got, err := c.Get(t.Context(), group, identity, "apps-source", nil)
	if err != nil || *got.Properties.Subject != subject+"-v2" {
		t.Errorf("get: %v", err)
	}
	if _, err := c.Delete(t.Context(), group, identity, "apps-source", nil); err != nil {
		t.Fatal(err)
	}
	if err := exchange(t, subject+"-v2"); err == nil {
		t.Error("after the deletion, the exchange still succeeds")
	}
	_, err = c.Get(t.Context(), group, identity, "apps-source", nil)
	if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != "ResourceNotFound" {
		t.Errorf("get after delete: %v", err)
	}
}

// TestFederatedCredentialRules: Azure's rules for a managed identity's federated credentials.
func TestFederatedCredentialRules(t *testing.T) {
	c := credentials(t, admin)
	iss := local.issuer.URL()
	if _, err := c.CreateOrUpdate(t.Context(), group, identity, "rules-0", fic(iss, "rules:0"), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := range 20 {
			c.Delete(context.Background(), group, identity, fmt.Sprint("rules-", i), nil)
		}
	})
	tests := []struct {
		name, fic string
		body      armmsi.FederatedIdentityCredential
		want      string
	}{
		{"same issuer and subject", "rules-dup", fic(iss, "rules:0"), "Issuer and subject combination already exists for this Managed Identity."},
		{"name too short", "ab", fic(iss, "rules:x"), "is invalid"},
		{"name starts with a dash", "-abc", fic(iss, "rules:x"), "is invalid"},
		{"no subject", "rules-x", fic(iss, ""), "must specify 'issuer', 'subject' and 'audience'"},
		{"http issuer", "rules-x", fic("http://example.com", "rules:x"), "must be an https URL"},
		{"long subject", "rules-x", fic(iss, strings.Repeat("s", 601)), "1 to 600 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateOrUpdate(t.Context(), group, identity, tt.fic, tt.body, nil)
			if re := responseError(t, err); re.StatusCode != 400 || re.ErrorCode != "BadRequest" || !strings.Contains(re.Error(), tt.want) {
				t.Errorf("got %v, want 400 BadRequest %q", err, tt.want)
			}
		})
	}
	for i := 1; i < 20; i++ {
		if _, err := c.CreateOrUpdate(t.Context(), group, identity, fmt.Sprint("rules-", i), fic(iss, fmt.Sprint("rules:", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateOrUpdate(t.Context(), group, identity, "rules-20", fic(iss, "rules:20"), nil)
	if re := responseError(t, err); re.ErrorCode != "BadRequest" || !strings.Contains(re.Error(), "maximum is 20") {
		t.Errorf("21st credential: %v", err)
	}
	pager := c.NewListPager(group, identity, nil)
	n := 0
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	if n != 20 {
		t.Errorf("listed %d credentials, want 20", n)
	}
	// A Reader reads credentials but may not write them.
	_, err = credentials(t, reader).CreateOrUpdate(t.Context(), group, identity, "rules-0", fic(iss, "rules:0"), nil)
	if re := responseError(t, err); re.ErrorCode != "AuthorizationFailed" ||
		!strings.Contains(re.Error(), "'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write' over scope '"+identityScope+"/federatedIdentityCredentials/rules-0'") {
		t.Errorf("reader's write: %v", err)
	}
}

// TestIdentities: the identity's client, principal and tenant IDs, by name and in lists, and
// ARM's answers for what is not there.
func TestIdentities(t *testing.T) {
	c, err := armmsi.NewUserAssignedIdentitiesClient(subID, credential(t, reader), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(t.Context(), group, identity, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Properties; *p.ClientID != miClientID || *p.PrincipalID != miPrincipalID || *p.TenantID != tenantID || *got.ID != identityScope {
		t.Errorf("identity = %s %+v", *got.ID, *p)
	}
	bySub, err := c.NewListBySubscriptionPager(nil).NextPage(t.Context())
	if err != nil || len(bySub.Value) != 1 || *bySub.Value[0].Properties.ClientID != miClientID {
		t.Errorf("by subscription: %d identities, %v", len(bySub.Value), err)
	}
	byGroup, err := c.NewListByResourceGroupPager(group, nil).NextPage(t.Context())
	if err != nil || len(byGroup.Value) != 1 {
		t.Errorf("by resource group: %d identities, %v", len(byGroup.Value), err)
	}
	tests := []struct {
		name, group, identity string
		code                  string
	}{
		{"unknown identity", group, "nope", "ResourceNotFound"},
		{"unknown group", "nope", identity, "ResourceGroupNotFound"},
	}
	for _, tt := range tests {
		_, err := c.Get(t.Context(), tt.group, tt.identity, nil)
		if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != tt.code {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// worker holds no role: the list is refused, naming the scope.
	w, err := armmsi.NewUserAssignedIdentitiesClient(subID, credential(t, worker), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.NewListByResourceGroupPager(group, nil).NextPage(t.Context())
	if re := responseError(t, err); re.ErrorCode != "AuthorizationFailed" ||
		!strings.Contains(re.Error(), "'Microsoft.ManagedIdentity/userAssignedIdentities/read' over scope '"+groupScope+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities'") {
		t.Errorf("worker's list: %v", err)
	}
}

// TestResources: the resources of a type in a subscription, as setup looks them up; a principal
// with no role there is refused.
func TestResources(t *testing.T) {
	list := func(a app, filter string) ([]*armresources.GenericResourceExpanded, error) {
		c, err := armresources.NewClient(subID, credential(t, a), clientOptions())
		if err != nil {
			t.Fatal(err)
		}
		page, err := c.NewListPager(&armresources.ClientListOptions{Filter: to.Ptr(filter)}).NextPage(t.Context())
		return page.Value, err
	}
	got, err := list(reader, "resourceType eq 'Microsoft.ContainerRegistry/registries'")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || *got[0].ID != registryScope || *got[0].Name != registry || *got[0].Location == "" ||
		*got[0].Type != "Microsoft.ContainerRegistry/registries" {
		t.Errorf("registries = %d", len(got))
	}
	got, err = list(reader, "resourceType eq 'Microsoft.KeyVault/vaults' or resourceType eq 'Microsoft.Storage/storageAccounts'")
	if err != nil || len(got) != 1 || *got[0].Location != "westeurope" {
		t.Errorf("vaults and accounts: %d, %v", len(got), err)
	}
	_, err = list(worker, "resourceType eq 'Microsoft.ContainerRegistry/registries'")
	if re := responseError(t, err); re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationFailed" ||
		!strings.Contains(re.Error(), "'Microsoft.Resources/subscriptions/resources/read' over scope '"+subScope+"'") {
		t.Errorf("worker: %v", err)
	}
	_, err = list(reader, "name eq 'x'")
	if re := responseError(t, err); re.StatusCode != http.StatusBadRequest {
		t.Errorf("unsupported filter: %v", err)
	}
}
