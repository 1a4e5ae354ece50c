package arm_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

func assignments(t *testing.T, a app) *armauthorization.RoleAssignmentsClient {
	t.Helper()
	c, err := armauthorization.NewRoleAssignmentsClient(subID, credential(t, a), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func assignment(roleID, principalID string) armauthorization.RoleAssignmentCreateParameters {
	return armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: to.Ptr(subScope + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID),
		PrincipalID:      to.Ptr(principalID),
		PrincipalType:    to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
	}}
}

// removeLater deletes the assignment when the test ends.
func removeLater(t *testing.T, c *armauthorization.RoleAssignmentsClient, scope, name string) {
	t.Cleanup(func() {
		if _, err := c.Delete(context.Background(), scope, name, nil); err != nil {
			t.Errorf("remove role assignment %s: %v", name, err)
		}
	})
}

// getKey reads the vault's key as worker, through the real azkeys client, and returns the HTTP
// status of Key Vault's answer (200 when it succeeded).
func getKey(t *testing.T) int {
	t.Helper()
	c, err := azkeys.NewClient("https://"+vault+".vault.azure.net", credential(t, worker), &azkeys.ClientOptions{ClientOptions: clientOptions().ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKey(t.Context(), "sops", "", nil); err != nil {
		return responseError(t, err).StatusCode
	}
	return http.StatusOK
}

// TestAssignmentReachesDataPlane: the administrator grants worker Key Vault Crypto User on the
// vault through ARM, and Key Vault lets worker read the key with the next request; once the
// assignment is deleted, it refuses again.
func TestAssignmentReachesDataPlane(t *testing.T) {
	if got := getKey(t); got != http.StatusForbidden {
		t.Fatalf("before the assignment, Key Vault answered %d, want 403", got)
	}
	c := assignments(t, admin)
	const name = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	resp, err := c.Create(t.Context(), vaultScope, name, assignment(keyVaultCryptoUser, worker.objectID), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantID := vaultScope + "/providers/Microsoft.Authorization/roleAssignments/" + name
	p := resp.Properties
	if *resp.ID != wantID || *resp.Name != name || *resp.Type != "Microsoft.Authorization/roleAssignments" ||
		*p.PrincipalID != worker.objectID || *p.Scope != vaultScope || *p.CreatedBy != admin.objectID ||
		*p.RoleDefinitionID != subScope+"/providers/Microsoft.Authorization/roleDefinitions/"+keyVaultCryptoUser {
		t.Errorf("created %s %s %s %+v", *resp.ID, *resp.Name, *resp.Type, *p)
	}
	if got := getKey(t); got != http.StatusOK {
		t.Fatalf("after the assignment, Key Vault answered %d, want 200", got)
	}
	got, err := c.Get(t.Context(), vaultScope, name, nil)
	if err != nil || *got.ID != wantID {
		t.Fatalf("get: %v", err)
	}
	byID, err := c.GetByID(t.Context(), wantID, nil)
	if err != nil || *byID.Name != name {
		t.Fatalf("get by ID: %v", err)
	}
	if _, err := c.Delete(t.Context(), vaultScope, name, nil); err != nil {
		t.Fatal(err)
	}
	if got := getKey(t); got != http.StatusForbidden {
		t.Fatalf("after the deletion, Key Vault answered %d, want 403", got)
	}
	if _, err := c.Get(t.Context(), vaultScope, name, nil); responseError(t, err).ErrorCode != "RoleAssignmentNotFound" {
		t.Errorf("get after delete: %v", err)
	}
	// Deleting what is gone answers 204, which the SDK takes as success.
	if _, err := c.Delete(t.Context(), vaultScope, name, nil); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

// TestReaderRefused: a Reader may read assignments but not write them; ARM's refusal names the
// client, the action and the full ID asked for.
func TestReaderRefused(t *testing.T) {
	c := assignments(t, reader)
	const name = "1b2c3d4e-5f60-4b7c-9d8e-0f1a2b3c4d5e"
	_, err := c.Create(t.Context(), registryScope, name, assignment(acrPull, worker.objectID), nil)
	re := responseError(t, err)
	want := "The client '" + reader.objectID + "' with object id '" + reader.objectID +
		"' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '" +
		registryScope + "/providers/Microsoft.Authorization/roleAssignments/" + name +
		"' or the scope is invalid. If access was recently granted, please refresh your credentials."
	if re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationFailed" || !strings.Contains(re.Error(), want) {
		t.Errorf("reader's create: %v", err)
	}
	// Reader holds */read, so listing works, and shows its own assignment above the registry.
	pager := c.NewListForScopePager(registryScope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("atScope()")})
	found := false
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Value {
			found = found || (*a.Properties.PrincipalID == reader.objectID && *a.Properties.Scope == subScope)
		}
	}
	if !found {
		t.Error("reader's list at the registry does not show its Reader assignment on the subscription")
	}
	// worker holds nothing: even reading is refused.
	_, err = assignments(t, worker).Get(t.Context(), registryScope, name, nil)
	if re := responseError(t, err); re.ErrorCode != "AuthorizationFailed" || !strings.Contains(re.Error(), "'Microsoft.Authorization/roleAssignments/read'") {
		t.Errorf("worker's get: %v", err)
	}
}

// TestDuplicateAssignment: ARM refuses a second assignment of the same role to the same principal
// at the same scope under another name, answers a repeated PUT with what it has, and refuses to
// change an assignment.
func TestDuplicateAssignment(t *testing.T) {
	c := assignments(t, admin)
	const first, second = "2c3d4e5f-6071-4c8d-8e9f-1a2b3c4d5e6f", "3d4e5f60-7182-4d9e-9fa0-2b3c4d5e6f70"
	if _, err := c.Create(t.Context(), registryScope, first, assignment(acrPull, worker.objectID), nil); err != nil {
		t.Fatal(err)
	}
	removeLater(t, c, registryScope, first)
	_, err := c.Create(t.Context(), registryScope, second, assignment(acrPull, worker.objectID), nil)
	if re := responseError(t, err); re.StatusCode != http.StatusConflict || re.ErrorCode != "RoleAssignmentExists" ||
		!strings.Contains(re.Error(), strings.ReplaceAll(first, "-", "")) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := c.Create(t.Context(), registryScope, first, assignment(acrPull, worker.objectID), nil); err != nil {
		t.Errorf("repeated PUT: %v", err)
	}
	_, err = c.Create(t.Context(), registryScope, first, assignment(readerRole, worker.objectID), nil)
	if re := responseError(t, err); re.ErrorCode != "RoleAssignmentUpdateNotPermitted" {
		t.Errorf("changed PUT: %v", err)
	}
	// The list by principal shows the one assignment, from the subscription down.
	pager := c.NewListForScopePager(subScope, &armauthorization.RoleAssignmentsClientListForScopeOptions{
		Filter: to.Ptr("principalId eq '" + worker.objectID + "'"),
	})
	var names []string
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Value {
			names = append(names, *a.Name)
		}
	}
	if len(names) != 1 || names[0] != first {
		t.Errorf("worker's assignments from the subscription down = %v, want [%s]", names, first)
	}
}

// TestAssignmentRefusals: what ARM answers a PUT that names no principal, role or scope it knows.
func TestAssignmentRefusals(t *testing.T) {
	c := assignments(t, admin)
	const name = "4e5f6071-8293-4eaf-80b1-3c4d5e6f7081"
	const ghost = "5f607182-93a4-4fb0-91c2-4d5e6f708192"
	tests := []struct {
		name   string
		scope  string
		assign string
		params armauthorization.RoleAssignmentCreateParameters
		status int
		code   string
	}{
		{"unknown principal", registryScope, name, assignment(acrPull, ghost), 400, "PrincipalNotFound"},
		{"principal of another tenant", registryScope, name, assignment(acrPull, outsider.objectID), 400, "PrincipalNotFound"},
		{"unknown role", registryScope, name, assignment(ghost, worker.objectID), 400, "RoleDefinitionDoesNotExist"},
		{"name not a GUID", registryScope, "acr-pull", assignment(acrPull, worker.objectID), 400, "InvalidRoleAssignmentId"},
		{"unknown resource", groupScope + "/providers/Microsoft.ContainerRegistry/registries/nope", name, assignment(acrPull, worker.objectID), 404, "ResourceNotFound"},
		{"unknown resource group", subScope + "/resourceGroups/nope", name, assignment(acrPull, worker.objectID), 404, "ResourceGroupNotFound"},
		{"unknown subscription", "/subscriptions/" + ghost, name, assignment(acrPull, worker.objectID), 404, "SubscriptionNotFound"},
		{"above the administrator's role", mgScope, name, assignment(acrPull, worker.objectID), 403, "AuthorizationFailed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Create(t.Context(), tt.scope, tt.assign, tt.params, nil)
			if re := responseError(t, err); re.StatusCode != tt.status || re.ErrorCode != tt.code {
				t.Errorf("got %d %s, want %d %s: %v", re.StatusCode, re.ErrorCode, tt.status, tt.code, err)
			}
		})
	}
	body := `{"properties":{"roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/` + acrPull + `","principalId":"` + worker.objectID + `","principalType":"User"}}`
	tok := token(t, admin, "https://management.azure.com/.default")
	path := registryScope + "/providers/Microsoft.Authorization/roleAssignments/" + name + "?api-version=2022-04-01"
	if status, e := call(t, http.MethodPut, path, tok, body); status != 400 || e.Code != "UnmatchedPrincipalType" {
		t.Errorf("principalType User: %d %+v", status, e)
	}
	if status, e := call(t, http.MethodPut, path, tok, `{"properties":`); status != 400 || e.Code != "InvalidRequestContent" {
		t.Errorf("truncated body: %d %+v", status, e)
	}
	if status, e := call(t, http.MethodPut, path, tok, `{"properties":{"principalId":"`+worker.objectID+`"}}`); status != 400 || e.Code != "InvalidRequestContent" ||
		!strings.Contains(e.Message, "roleDefinitionId") {
		t.Errorf("no role: %d %+v", status, e)
	}
}

// TestManagementGroupScope: an Owner of the management group assigns there, and the role reaches
// the subscription's resources below it.
func TestManagementGroupScope(t *testing.T) {
	c := assignments(t, mgAdmin)
	const name = "60718293-a4b5-40c1-82d3-5e6f708192a3"
	if _, err := c.Create(t.Context(), mgScope, name, assignment(keyVaultCryptoUser, worker.objectID), nil); err != nil {
		t.Fatal(err)
	}
	if got := getKey(t); got != http.StatusOK {
		t.Errorf("with the role at the management group, Key Vault answered %d, want 200", got)
	}
	if _, err := c.Delete(t.Context(), mgScope, name, nil); err != nil {
		t.Fatal(err)
	}
	if got := getKey(t); got != http.StatusForbidden {
		t.Errorf("after the deletion, Key Vault answered %d, want 403", got)
	}
	_, err := c.Create(t.Context(), "/providers/Microsoft.Management/managementGroups/nope", name, assignment(acrPull, worker.objectID), nil)
	if re := responseError(t, err); re.ErrorCode != "AuthorizationFailed" {
		t.Errorf("unknown management group: %v", err)
	}
}

// TestRoleDefinitions: the role ID lookups setup prints, by ID and by name.
func TestRoleDefinitions(t *testing.T) {
	c, err := armauthorization.NewRoleDefinitionsClient(credential(t, reader), clientOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(t.Context(), subScope, acrPull, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Name != acrPull || *got.Properties.RoleName != "AcrPull" || *got.Properties.RoleType != "BuiltInRole" ||
		*got.ID != subScope+"/providers/Microsoft.Authorization/roleDefinitions/"+acrPull ||
		*got.Properties.Permissions[0].Actions[0] != "Microsoft.ContainerRegistry/registries/pull/read" {
		t.Errorf("AcrPull = %s %s %+v", *got.ID, *got.Name, *got.Properties)
	}
	pager := c.NewListPager(subScope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq 'Key Vault Crypto User'")})
	page, err := pager.NextPage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Value) != 1 || *page.Value[0].Name != keyVaultCryptoUser {
		t.Errorf("by name: %d definitions", len(page.Value))
	}
	_, err = c.Get(t.Context(), subScope, "6f8192a3-b4c5-41d2-93e4-6f708192a3b4", nil)
	if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != "RoleDefinitionDoesNotExist" {
		t.Errorf("unknown role: %v", err)
	}
}

// TestConcurrentDuplicates: PUTs of one role for one principal at one scope under different
// names, all at once, make exactly one assignment; the others are told it exists.
func TestConcurrentDuplicates(t *testing.T) {
	c := assignments(t, admin)
	names := []string{
		"7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c01", "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c02", "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c03",
		"7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c04", "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c05", "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c06",
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			_, errs[i] = c.Create(t.Context(), groupScope, name, assignment(readerRole, worker.objectID), nil)
		})
	}
	wg.Wait()
	created := 0
	for i, err := range errs {
		if err == nil {
			created++
			removeLater(t, c, groupScope, names[i])
			continue
		}
		if re := responseError(t, err); re.ErrorCode != "RoleAssignmentExists" {
			t.Errorf("%s: %v", names[i], err)
		}
	}
	if created != 1 {
		t.Errorf("%d assignments created, want 1", created)
	}
}
