package arm

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	const sub = "/subscriptions/s1"
	tests := []struct {
		path      string
		scope     string
		level     int
		namespace string
		rest      []string
	}{
		{sub + "/providers/Microsoft.Authorization/roleAssignments/a1", sub, LevelSubscription, "Microsoft.Authorization", []string{"roleAssignments", "a1"}},
		{"/" + sub + "/resourceGroups/g/providers/Microsoft.Authorization/roleAssignments", sub + "/resourceGroups/g", LevelResourceGroup, "Microsoft.Authorization", []string{"roleAssignments"}},
		{sub + "/resourcegroups/g/providers/Microsoft.KeyVault/vaults/v/providers/Microsoft.Authorization/roleAssignments/a1",
			sub + "/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v", LevelResource, "Microsoft.Authorization", []string{"roleAssignments", "a1"}},
		{sub + "/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a/blobServices/default/containers/c/providers/Microsoft.Authorization/roleAssignments/x",
			sub + "/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a/blobServices/default/containers/c", LevelResource, "Microsoft.Authorization", []string{"roleAssignments", "x"}},
		{sub + "/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi/federatedIdentityCredentials/f",
			sub + "/resourceGroups/g", LevelResourceGroup, "Microsoft.ManagedIdentity", []string{"userAssignedIdentities", "mi", "federatedIdentityCredentials", "f"}},
		{"/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/roleAssignments/a",
			"/providers/Microsoft.Management/managementGroups/root", LevelManagementGroup, "Microsoft.Authorization", []string{"roleAssignments", "a"}},
		{"/providers/Microsoft.Authorization/roleDefinitions/r", "/", LevelRoot, "Microsoft.Authorization", []string{"roleDefinitions", "r"}},
		{sub + "/resources", sub, LevelSubscription, "", []string{"resources"}},
		{sub + "/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/listClusterUserCredential",
			sub + "/resourceGroups/g", LevelResourceGroup, "Microsoft.ContainerService", []string{"managedClusters", "c", "listClusterUserCredential"}},
		{sub + "/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/providers/Microsoft.Authorization/roleAssignments/a",
			sub + "/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c", LevelResource, "Microsoft.Authorization", []string{"roleAssignments", "a"}},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.path)
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if got.Scope.String() != tt.scope || got.Scope.Level() != tt.level || got.Namespace != tt.namespace || !reflect.DeepEqual(got.Rest, tt.rest) {
			t.Errorf("%s: scope %s (level %d), namespace %s, rest %v", tt.path, got.Scope, got.Scope.Level(), got.Namespace, got.Rest)
		}
	}
	for _, bad := range []string{
		"", "/", "/subscriptions", sub + "//providers/x", sub + "/providers/NS/t/n/providers/Microsoft.Authorization/roleAssignments",
		sub + "/resourceGroups/g/providers/NS/t/providers/Microsoft.Authorization/roleAssignments",
		sub + "/providers", "/a/../b", strings.Repeat("/a", maxPathSegments+1), "/" + strings.Repeat("a", maxPathLen),
	} {
		if got, err := ParsePath(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, got)
		}
	}
}

// FuzzParsePath: any path parses or fails without panicking, within bounds, and what parses
// renders to a path that parses to the same target.
func FuzzParsePath(f *testing.F) {
	for _, seed := range []string{
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v/providers/Microsoft.Authorization/roleAssignments/a",
		"//subscriptions/s/providers/Microsoft.Authorization/roleAssignments",
		"/providers/Microsoft.Management/managementGroups/m/providers/Microsoft.Authorization/roleAssignments/x",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i/federatedIdentityCredentials/f",
		"/subscriptions/s/resources", "/providers/Microsoft.Authorization/roleDefinitions/r", "/a/b/providers", "/subscriptions/providers/providers/p",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/listClusterUserCredential",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got, err := ParsePath(path)
		if err != nil {
			return
		}
		if len(got.Path()) > len(path)+64 {
			t.Fatalf("%q rendered as %q, much longer", path, got.Path())
		}
		again, err := ParsePath(got.Path())
		if err != nil {
			t.Fatalf("%q rendered as %q, which does not parse: %v", path, got.Path(), err)
		}
		if !reflect.DeepEqual(normalizeTarget(got), normalizeTarget(again)) {
			t.Fatalf("%q: %+v, rendered %q: %+v", path, got, got.Path(), again)
		}
	})
}

// normalizeTarget makes nil and empty slices compare equal.
func normalizeTarget(t Target) Target {
	if len(t.Rest) == 0 {
		t.Rest = nil
	}
	if len(t.Scope.Types) == 0 {
		t.Scope.Types, t.Scope.Names = nil, nil
	}
	return t
}
