package rbac

import (
	"slices"
	"strings"
	"testing"
)

const (
	sub      = "/subscriptions/00000000-0000-0000-0000-00000000aaaa"
	otherSub = "/subscriptions/00000000-0000-0000-0000-00000000bbbb"
	rg       = sub + "/resourceGroups/flux"
	registry = rg + "/providers/Microsoft.ContainerRegistry/registries/fluxacr"
	account  = rg + "/providers/Microsoft.Storage/storageAccounts/fluxdata"
	blobs    = account + "/blobServices/default/containers/artifacts"
	vault    = rg + "/providers/Microsoft.KeyVault/vaults/fluxkv"
	hub      = rg + "/providers/Microsoft.EventHub/namespaces/fluxns/eventhubs/events"
)

var (
	mgPlatform = ManagementGroupScope("platform")
	mgRoot     = ManagementGroupScope("root")
)

// testPolicy assigns one role per principal, one principal per scope level, plus a few
// principals that exercise notActions, data actions and the management group chain.
func testPolicy() *Policy {
	return NewPolicy(BuiltinRoles(), []Assignment{
		{ID: "a-resource", PrincipalID: "p-resource", RoleID: AcrPullID, Scope: registry},
		{ID: "a-rg", PrincipalID: "p-rg", RoleID: AcrPushID, Scope: rg},
		{ID: "a-sub", PrincipalID: "p-sub", RoleID: StorageBlobDataReaderID, Scope: sub},
		{ID: "a-mg", PrincipalID: "p-mg", RoleID: KeyVaultCryptoUserID, Scope: mgRoot},
		{ID: "a-owner", PrincipalID: "p-owner", RoleID: OwnerID, Scope: sub},
		{ID: "a-contrib", PrincipalID: "p-contrib", RoleID: ContributorID, Scope: sub},
		{ID: "a-reader", PrincipalID: "p-reader", RoleID: ReaderID, Scope: strings.ToUpper(rg)},
		{ID: "a-sender", PrincipalID: "p-sender", RoleID: EventHubsDataSenderID, Scope: rg},
		{ID: "a-writer", PrincipalID: "p-writer", RoleID: StorageBlobDataContributorID, Scope: blobs},
		{ID: "a-unknown-role", PrincipalID: "p-unknown", RoleID: "does-not-exist", Scope: sub},
	}, map[string]string{
		sub:        mgPlatform,
		mgPlatform: mgRoot,
	})
}

func TestCheck(t *testing.T) {
	p := testPolicy()
	tests := []struct {
		name      string
		principal string
		action    string
		data      bool
		resource  string
		want      bool
		wantRole  string
	}{
		// Resource scope.
		{"resource scope grants on the resource", "p-resource", ActionRegistryPull, false, registry, true, "AcrPull"},
		{"resource scope grants on a child", "p-resource", ActionRegistryPull, false, registry + "/repositories/app", true, "AcrPull"},
		{"resource scope does not grant a sibling", "p-resource", ActionRegistryPull, false, rg + "/providers/Microsoft.ContainerRegistry/registries/other", false, ""},
		{"resource scope does not grant the parent", "p-resource", ActionRegistryPull, false, rg, false, ""},
		{"name prefix is not a parent", "p-resource", ActionRegistryPull, false, registry + "2", false, ""},
		{"role lacks the action", "p-resource", ActionRegistryPush, false, registry, false, ""},
		// Resource group scope.
		{"resource group scope inherits to resources", "p-rg", ActionRegistryPush, false, registry, true, "AcrPush"},
		{"resource group scope does not reach another group", "p-rg", ActionRegistryPull, false, sub + "/resourceGroups/other/providers/Microsoft.ContainerRegistry/registries/x", false, ""},
		// Subscription scope.
		{"subscription scope grants a data action", "p-sub", DataActionBlobRead, true, blobs, true, "Storage Blob Data Reader"},
		{"data action is not a control action", "p-sub", DataActionBlobRead, false, blobs, false, ""},
		{"reader of data may not write", "p-sub", DataActionBlobWrite, true, blobs, false, ""},
		{"subscription scope does not reach another subscription", "p-sub", DataActionBlobRead, true, strings.Replace(blobs, sub, otherSub, 1), false, ""},
		// Management group scope, through two levels.
		{"management group scope reaches its subscriptions", "p-mg", DataActionKeyDecrypt, true, vault + "/keys/sops", true, "Key Vault Crypto User"},
		{"management group scope applies to a child group", "p-mg", DataActionKeyDecrypt, true, mgPlatform, true, "Key Vault Crypto User"},
		{"management group scope does not reach an unattached subscription", "p-mg", DataActionKeyDecrypt, true, otherSub + "/resourceGroups/x", false, ""},
		// Wildcards and exclusions.
		{"owner holds every action", "p-owner", "Microsoft.Authorization/roleAssignments/write", false, registry, true, "Owner"},
		{"owner holds no data action", "p-owner", DataActionBlobRead, true, blobs, false, ""},
		{"contributor may pull", "p-contrib", ActionRegistryPull, false, registry, true, "Contributor"},
		{"contributor notActions exclude role assignment writes", "p-contrib", "Microsoft.Authorization/roleAssignments/write", false, registry, false, ""},
		{"reader */read matches any read", "p-reader", "Microsoft.KeyVault/vaults/read", false, vault, true, "Reader"},
		{"reader */read does not match write", "p-reader", "Microsoft.KeyVault/vaults/write", false, vault, false, ""},
		{"middle wildcard in a data action", "p-sender", DataActionEventHubsSend, true, hub, true, "Azure Event Hubs Data Sender"},
		{"container scope grants blob writes inside", "p-writer", DataActionBlobWrite, true, blobs + "/blobs/x.tgz", true, "Storage Blob Data Contributor"},
		{"container scope does not grant other containers", "p-writer", DataActionBlobWrite, true, account + "/blobServices/default/containers/other", false, ""},
		// Principals and IDs.
		{"IDs compare case-insensitively", "P-RESOURCE", strings.ToLower(ActionRegistryPull), false, strings.ToUpper(registry), true, "AcrPull"},
		{"unknown principal", "nobody", ActionRegistryPull, false, registry, false, ""},
		{"unknown role grants nothing", "p-unknown", ActionRegistryPull, false, registry, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Check(Request{PrincipalID: tt.principal, Action: tt.action, Data: tt.data, ResourceID: tt.resource})
			if d.Allowed != tt.want {
				t.Fatalf("Allowed = %v, want %v (reason: %s)", d.Allowed, tt.want, d.Reason)
			}
			if d.Role.Name != tt.wantRole {
				t.Errorf("Role = %q, want %q", d.Role.Name, tt.wantRole)
			}
			if !d.Allowed && d.Reason == "" {
				t.Error("a denial must carry a reason")
			}
		})
	}
}

func TestCheckReasons(t *testing.T) {
	p := testPolicy()
	d := p.Check(Request{PrincipalID: "p-resource", Action: ActionRegistryPush, ResourceID: registry})
	for _, want := range []string{"'AcrPull' at scope", registry, ActionRegistryPush} {
		if !strings.Contains(d.Reason, want) {
			t.Errorf("reason %q lacks %q", d.Reason, want)
		}
	}
	d = p.Check(Request{PrincipalID: "nobody", Action: DataActionBlobRead, Data: true, ResourceID: blobs})
	if !strings.Contains(d.Reason, "no role assignment") || !strings.Contains(d.Reason, "data action") {
		t.Errorf("reason %q does not explain the missing assignment", d.Reason)
	}
}

func TestAuthorizeHelpers(t *testing.T) {
	p := testPolicy()
	if !p.Authorize("p-rg", ActionRegistryPull, registry) {
		t.Error("Authorize: AcrPush at the resource group should allow pull")
	}
	if !p.AuthorizeData("p-sub", DataActionBlobRead, blobs) {
		t.Error("AuthorizeData: Storage Blob Data Reader at the subscription should allow blob reads")
	}
}

func TestMatchAction(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.Storage/storageAccounts/read", true},
		{"Microsoft.Storage/*", "Microsoft.Storage/storageAccounts/read", true},
		{"Microsoft.Storage/*", "Microsoft.StorageSync/x/read", false},
		{"*/read", "Microsoft.Storage/storageAccounts/read", true},
		{"*/read", "Microsoft.Storage/storageAccounts/write", false},
		{"Microsoft.EventHub/*/send/action", "Microsoft.EventHub/namespaces/messages/send/action", true},
		{"Microsoft.Authorization/*/Write", "microsoft.authorization/roleassignments/write", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "x", false},
		{"**", "", true},
	}
	for _, tt := range tests {
		if got := MatchAction(tt.pattern, tt.action); got != tt.want {
			t.Errorf("MatchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func TestValidScope(t *testing.T) {
	valid := []string{"/", sub, rg, registry, blobs, mgRoot, sub + "/", rg + "/providers/Microsoft.ContainerService/managedClusters/fleet"}
	for _, s := range valid {
		if err := ValidScope(s); err != nil {
			t.Errorf("ValidScope(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{"", "subscriptions/x", "/subscriptions", "/subscriptions/x/groups/y", "/subscriptions/x/resourceGroups",
		rg + "/providers/Microsoft.Storage", "/providers/Microsoft.Management/managementGroups", "/tenants/x", sub + "//resourceGroups/x"}
	for _, s := range invalid {
		if err := ValidScope(s); err == nil {
			t.Errorf("ValidScope(%q) = nil, want an error", s)
		}
	}
}

func TestBuiltinRolesAreComplete(t *testing.T) {
	ids := map[string]string{}
	for _, r := range BuiltinRoles() {
		if r.ID == "" || r.Name == "" || len(r.Permissions) == 0 {
			t.Errorf("incomplete built-in role %+v", r)
		}
		if other, dup := ids[r.ID]; dup {
			t.Errorf("role ID %s used by %s and %s", r.ID, other, r.Name)
		}
		ids[r.ID] = r.Name
	}
	if len(ids) != 19 {
		t.Errorf("got %d built-in roles, want 19", len(ids))
	}
}

// TestKeyVaultRoles: the Key Vault data roles grant what Azure's definitions grant, and no
// control-plane role reaches keys.
func TestKeyVaultRoles(t *testing.T) {
	byID := map[string]Role{}
	for _, r := range BuiltinRoles() {
		byID[r.ID] = r
	}
	keyActions := []string{DataActionKeyRead, DataActionKeyCreate, DataActionKeyEncrypt, DataActionKeyDecrypt, DataActionKeyWrap, DataActionKeyUnwrap}
	for _, tt := range []struct {
		role  string
		allow []string
	}{
		{KeyVaultCryptoUserID, []string{DataActionKeyRead, DataActionKeyEncrypt, DataActionKeyDecrypt, DataActionKeyWrap, DataActionKeyUnwrap}},
		{KeyVaultCryptoServiceEncryptionUserID, []string{DataActionKeyRead, DataActionKeyWrap, DataActionKeyUnwrap}},
		{KeyVaultCryptoOfficerID, keyActions},
		{KeyVaultAdministratorID, keyActions},
		{OwnerID, nil},
		{ContributorID, nil},
	} {
		role := byID[tt.role]
		for _, a := range keyActions {
			if want := slices.Contains(tt.allow, a); grants(role, a, true) != want {
				t.Errorf("%s grants %s: %v, want %v", role.Name, a, !want, want)
			}
		}
	}
}

// TestStorageBlobRoles: the Storage Blob Data roles grant what Azure's definitions grant; the
// control-plane roles grant none of the data actions, though Reader's */read, like every role
// here, reaches the container read action that List Containers checks.
func TestStorageBlobRoles(t *testing.T) {
	byID := map[string]Role{}
	for _, r := range BuiltinRoles() {
		byID[r.ID] = r
	}
	dataActions := []string{DataActionBlobRead, DataActionBlobWrite, DataActionBlobAdd, DataActionBlobDelete,
		DataActionBlobDeleteVersion, DataActionBlobTagsRead, DataActionBlobTagsWrite, DataActionBlobFilter}
	for _, tt := range []struct {
		role      string
		allow     []string
		container bool // containers/write and containers/delete
	}{
		{StorageBlobDataReaderID, []string{DataActionBlobRead}, false},
		{StorageBlobDataContributorID, []string{DataActionBlobRead, DataActionBlobWrite, DataActionBlobAdd, DataActionBlobDelete}, true},
		{StorageBlobDataOwnerID, dataActions, true},
		{OwnerID, nil, true},
		{ContributorID, nil, true},
		{ReaderID, nil, false},
	} {
		role := byID[tt.role]
		for _, a := range dataActions {
			if want := slices.Contains(tt.allow, a); grants(role, a, true) != want {
				t.Errorf("%s grants %s: %v, want %v", role.Name, a, !want, want)
			}
		}
		if !grants(role, ActionBlobContainerRead, false) {
			t.Errorf("%s does not grant %s", role.Name, ActionBlobContainerRead)
		}
		for _, a := range []string{ActionBlobContainerWrite, ActionBlobContainerDelete} {
			if grants(role, a, false) != tt.container {
				t.Errorf("%s grants %s: %v, want %v", role.Name, a, !tt.container, tt.container)
			}
		}
	}
}

// TestAKSRoles: the AKS cluster roles grant what Azure's definitions grant, and the generic roles
// reach the cluster operations as in Azure: Reader's */read reads the cluster but does not list
// its credentials (an action), Contributor and Owner do both.
func TestAKSRoles(t *testing.T) {
	byID := map[string]Role{}
	for _, r := range BuiltinRoles() {
		byID[r.ID] = r
	}
	for _, tt := range []struct {
		role              string
		read, user, admin bool
	}{
		{AKSClusterUserRoleID, true, true, false},
		{AKSClusterAdminRoleID, true, false, true},
		{ReaderID, true, false, false},
		{ContributorID, true, true, true},
		{OwnerID, true, true, true},
		{AcrPullID, false, false, false},
	} {
		role := byID[tt.role]
		for _, c := range []struct {
			action string
			want   bool
		}{{ActionManagedClusterRead, tt.read}, {ActionManagedClusterUserCredential, tt.user}, {ActionManagedClusterAdminCredential, tt.admin}} {
			if grants(role, c.action, false) != c.want {
				t.Errorf("%s grants %s: %v, want %v", role.Name, c.action, !c.want, c.want)
			}
		}
	}
	p := NewPolicy(BuiltinRoles(), []Assignment{
		{ID: "a-user", PrincipalID: "p-user", RoleID: AKSClusterUserRoleID, Scope: rg + "/providers/Microsoft.ContainerService/managedClusters/fleet"},
	}, nil)
	cluster := rg + "/providers/Microsoft.ContainerService/managedClusters/fleet"
	if !p.Authorize("p-user", ActionManagedClusterUserCredential, cluster) {
		t.Error("the Cluster User Role at the cluster does not list its credentials")
	}
	if p.Authorize("p-user", ActionManagedClusterUserCredential, rg+"/providers/Microsoft.ContainerService/managedClusters/other") {
		t.Error("the Cluster User Role at one cluster lists another's credentials")
	}
}

func FuzzMatchAction(f *testing.F) {
	f.Add("Microsoft.EventHub/*/send/action", "Microsoft.EventHub/namespaces/messages/send/action")
	f.Add("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, pattern, action string) {
		if !MatchAction(action, action) && !strings.Contains(action, "*") {
			t.Fatalf("an action without '*' must match itself: %q", action)
		}
		_ = MatchAction(pattern, action)
	})
}

// TestEventHubsRoles: Sender sends only, Receiver receives only, Owner does both.
func TestEventHubsRoles(t *testing.T) {
	const hub = "/subscriptions/s/resourceGroups/g/providers/Microsoft.EventHub/namespaces/ns/eventhubs/h"
	p := NewPolicy(BuiltinRoles(), []Assignment{
		{ID: "1", PrincipalID: "sender", RoleID: EventHubsDataSenderID, Scope: "/subscriptions/s"},
		{ID: "2", PrincipalID: "receiver", RoleID: EventHubsDataReceiverID, Scope: hub},
		{ID: "3", PrincipalID: "owner", RoleID: EventHubsDataOwnerID, Scope: "/subscriptions/s/resourceGroups/g/providers/Microsoft.EventHub/namespaces/ns"},
	}, nil)
	for _, c := range []struct {
		principal, action string
		want              bool
	}{
		{"sender", DataActionEventHubsSend, true},
		{"sender", DataActionEventHubsReceive, false},
		{"receiver", DataActionEventHubsReceive, true},
		{"receiver", DataActionEventHubsSend, false},
		{"owner", DataActionEventHubsSend, true},
		{"owner", DataActionEventHubsReceive, true},
	} {
		if got := p.AuthorizeData(c.principal, c.action, hub); got != c.want {
			t.Errorf("%s %s: got %v, want %v", c.principal, c.action, got, c.want)
		}
	}
}
