package arm_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuthentication: ARM's 401s, each with its code, for what is wrong with the token.
func TestAuthentication(t *testing.T) {
	path := subScope + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
	armToken := token(t, reader, "https://management.azure.com/.default")
	tests := []struct {
		name, token, code string
	}{
		{"no token", "", "AuthenticationFailed"},
		{"not a JWT", "not-a-token", "InvalidAuthenticationToken"},
		{"bad signature", armToken[:len(armToken)-4] + "AAAA", "InvalidAuthenticationToken"},
		{"Key Vault's audience", token(t, reader, "https://vault.azure.net/.default"), "InvalidAuthenticationTokenAudience"},
		{"another tenant", token(t, outsider, "https://management.azure.com/.default"), "InvalidAuthenticationTokenTenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := call(t, http.MethodGet, path, tt.token, "")
			if status != http.StatusUnauthorized || e.Code != tt.code {
				t.Errorf("got %d %+v, want 401 %s", status, e, tt.code)
			}
			if strings.Contains(e.Message, armToken) {
				t.Error("the refusal echoes the token")
			}
		})
	}
	// The classic audience, https://management.core.windows.net/, is ARM's too.
	if status, e := call(t, http.MethodGet, path, token(t, reader, "https://management.core.windows.net//.default"), ""); status != http.StatusOK {
		t.Errorf("management.core.windows.net token: %d %+v", status, e)
	}
}

// TestRequests: api-version, paths and methods ARM or this emulator refuses.
func TestRequests(t *testing.T) {
	tok := token(t, admin, "https://management.azure.com/.default")
	assignments := subScope + "/providers/Microsoft.Authorization/roleAssignments"
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"no api-version", "GET", assignments, 400, "MissingApiVersionParameter"},
		{"empty api-version", "GET", assignments + "?api-version=", 400, "MissingApiVersionParameter"},
		{"unknown api-version", "GET", assignments + "?api-version=2099-01-01", 400, "InvalidApiVersionParameter"},
		{"another provider's api-version", "GET", groupScope + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2022-04-01", 400, "InvalidApiVersionParameter"},
		{"SDK's api-version", "GET", assignments + "?api-version=2022-04-01", 200, ""},
		{"az CLI's api-version", "GET", assignments + "?api-version=2020-04-01-preview", 200, ""},
		{"lower-case resourcegroups", "GET", subScope + "/resourcegroups/" + group + "/resources?api-version=2021-04-01", 200, ""},
		{"unsupported filter", "GET", assignments + "?api-version=2022-04-01&$filter=roleDefinitionId+eq+'x'", 400, "UnsupportedQuery"},
		{"atScope and principal", "GET", assignments + "?api-version=2022-04-01&$filter=atScope()+and+assignedTo('" + admin.objectID + "')", 200, ""},
		{"another provider", "GET", subScope + "/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01", 501, "NotImplemented"},
		{"identity write", "PUT", identityScope + "?api-version=2024-11-30", 501, "NotImplemented"},
		{"relative segment", "GET", subScope + "/resourceGroups/../providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", 400, "InvalidRequestUri"},
		{"list by POST", "POST", assignments + "?api-version=2022-04-01", 405, "MethodNotAllowed"},
		{"resource below a subscription", "GET", subScope + "/providers/NS/t/n/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", 400, "InvalidRequestUri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := call(t, tt.method, tt.path, tok, "")
			if status != tt.status || e.Code != tt.code {
				t.Errorf("got %d %+v, want %d %s", status, e, tt.status, tt.code)
			}
		})
	}
}
