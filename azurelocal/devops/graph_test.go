package devops_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/devops"
)

const apiVersion = "?api-version=7.1-preview.1"

// callJSON sends a request with a's token and decodes a 2xx answer into out.
func callJSON(t *testing.T, a app, method, u string, body string, want int, out any) response {
	t.Helper()
	h := bearerHeader(devopsToken(t, a))
	h.Set("Content-Type", "application/json")
	r := do(t, method, u, h, []byte(body))
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, u, r.status, r.body, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r.body), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, r.body)
		}
	}
	return r
}

// groupDescriptor walks from a project's name to the descriptor of one of its groups, as a
// client does: the project's ID, its scope descriptor, then its groups.
func groupDescriptor(t *testing.T, a app, projectName, group string) string {
	t.Helper()
	var p struct{ ID, Name string }
	callJSON(t, a, http.MethodGet, "https://dev.azure.com/"+org+"/_apis/projects/"+url.PathEscape(projectName)+apiVersion, "", 200, &p)
	if p.ID == "" || p.Name != project {
		t.Fatalf("project: %+v", p)
	}
	var d struct{ Value string }
	callJSON(t, a, http.MethodGet, "https://vssps.dev.azure.com/"+org+"/_apis/graph/descriptors/"+p.ID+apiVersion, "", 200, &d)
	var groups struct {
		Count int
		Value []struct{ DisplayName, PrincipalName, Descriptor string }
	}
	callJSON(t, a, http.MethodGet, "https://vssps.dev.azure.com/"+org+"/_apis/graph/groups"+apiVersion+"&scopeDescriptor="+url.QueryEscape(d.Value), "", 200, &groups)
	for _, g := range groups.Value {
		if g.DisplayName == group {
			if g.PrincipalName != "["+project+`]\`+group {
				t.Errorf("principalName %q", g.PrincipalName)
			}
			return g.Descriptor
		}
	}
	t.Fatalf("no group %s among %+v", group, groups.Value)
	return ""
}

func entitle(t *testing.T, caller app, originID string, want int) (response, string) {
	t.Helper()
	var out struct {
		IsSuccess                   bool
		ServicePrincipalEntitlement struct {
			ServicePrincipal struct{ Descriptor, OriginID string }
		}
	}
	body := `{"accessLevel":{"accountLicenseType":"express"},"projectEntitlements":[],"servicePrincipal":{"origin":"aad","originId":"` + originID + `","subjectKind":"servicePrincipal"}}`
	var dst any
	if want == 200 {
		dst = &out
	}
	r := callJSON(t, caller, http.MethodPost, "https://vsaex.dev.azure.com/"+org+"/_apis/serviceprincipalentitlements"+apiVersion, body, want, dst)
	if want == 200 && (!out.IsSuccess || out.ServicePrincipalEntitlement.ServicePrincipal.Descriptor == "") {
		t.Fatalf("entitlement: %s", r.body)
	}
	return r, out.ServicePrincipalEntitlement.ServicePrincipal.Descriptor
}

// TestGraphMembershipThenClone: an administrator adds a service principal to the organization
// and to the project's Readers as azimuth setup plan --apply does; it may clone at once.
func TestGraphMembershipThenClone(t *testing.T) {
	env := bearer(devopsToken(t, newcomer))
	infoRefs := repoURL + "/info/refs?service=git-upload-pack"
	if r := do(t, http.MethodGet, infoRefs, bearerHeader(devopsToken(t, newcomer)), nil); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "TF400813") {
		t.Fatalf("a stranger's info/refs: %d %s", r.status, r.body)
	}
	_, subject := entitle(t, admin, newcomer.objectID, 200)
	if _, again := entitle(t, admin, newcomer.objectID, 200); again != subject {
		t.Errorf("a second entitlement gave descriptor %s, the first %s", again, subject)
	}
	readers := groupDescriptor(t, admin, project, "Readers")
	m := "https://vssps.dev.azure.com/" + org + "/_apis/graph/memberships/" + subject + "/" + readers + apiVersion
	callJSON(t, admin, http.MethodHead, m, "", 404, nil)
	var created struct{ ContainerDescriptor, MemberDescriptor string }
	callJSON(t, admin, http.MethodPut, m, "", 201, &created)
	if created.ContainerDescriptor != readers || created.MemberDescriptor != subject {
		t.Errorf("membership: %+v", created)
	}
	callJSON(t, admin, http.MethodHead, m, "", 200, nil)
	callJSON(t, admin, http.MethodPut, m, "", 201, nil) // idempotent
	// The newcomer, a member now, reads the graph itself.
	callJSON(t, newcomer, http.MethodGet, m, "", 200, nil)
	out := mustGit(t, nil, append(env, "ls-remote", repoURL)...)
	mustContain(t, out, local.seeded+"\trefs/heads/main")
	// Readers do not push.
	if out, err := git(t, nil, append(env, "push", repoURL, local.seeded+":refs/heads/"+unique("newcomer"))...); err == nil || !strings.Contains(out, "TF401027") {
		t.Errorf("a reader pushed: %v\n%s", err, out)
	}
}

// TestGraphRefusals: Azure DevOps' error bodies for a non-administrator, a stranger, and
// unknown projects, scopes, groups and subjects.
func TestGraphRefusals(t *testing.T) {
	errorOf := func(r response) (e struct{ Message, TypeKey string }) {
		if err := json.Unmarshal([]byte(r.body), &e); err != nil {
			t.Fatalf("not Azure DevOps' error wrapper: %s", r.body)
		}
		return e
	}
	// contributor-app belongs to the organization but administers nothing.
	r, _ := entitle(t, contributor, orgOnly.objectID, 403)
	if e := errorOf(r); !strings.HasPrefix(e.Message, "TF50309: The following account does not have sufficient permissions to complete the operation: contributor-app.") {
		t.Errorf("entitlement by a non-administrator: %s", r.body)
	}
	readers := groupDescriptor(t, contributor, project, "Readers")
	_, subject := entitle(t, admin, orgOnly.objectID, 200)
	m := "https://vssps.dev.azure.com/" + org + "/_apis/graph/memberships/" + subject + "/" + readers + apiVersion
	r = callJSON(t, contributor, http.MethodPut, m, "", 403, nil)
	if e := errorOf(r); !strings.Contains(e.Message, "Manage group membership") {
		t.Errorf("membership by a non-administrator: %s", r.body)
	}
	if local.azure.Directory().DevOpsInGroup(org, project, "Readers", orgOnly.objectID) {
		t.Errorf("a refused membership was added")
	}
	for _, tt := range []struct {
		name, method, url string
		status            int
		msg, typeKey      string
	}{
		{"unknown project", http.MethodGet, "https://dev.azure.com/" + org + "/_apis/projects/nosuch" + apiVersion, 404, "TF200016: The following project does not exist: nosuch.", "ProjectDoesNotExistWithNameException"},
		{"unknown storage key", http.MethodGet, "https://vssps.dev.azure.com/" + org + "/_apis/graph/descriptors/" + devops.ProjectID(org, "nosuch") + apiVersion, 404, "VS860018", "StorageKeyNotFoundException"},
		{"unknown scope", http.MethodGet, "https://vssps.dev.azure.com/" + org + "/_apis/graph/groups" + apiVersion + "&scopeDescriptor=scp.bm9zdWNo", 404, "VS860019", "GraphScopeNotFoundException"},
		{"unknown group", http.MethodPut, strings.Replace(m, readers, "vssgp.bm9zdWNo", 1), 404, "VS860017", "GraphSubjectNotFoundException"},
		{"unknown subject", http.MethodPut, strings.Replace(m, subject, "aadsp.bm9zdWNo", 1), 404, "VS860015", "GraphSubjectNotFoundException"},
		{"unknown organization", http.MethodGet, "https://vssps.dev.azure.com/nosuch/_apis/graph/groups" + apiVersion, 404, "TF400898: The organization 'nosuch' does not exist.", "OrganizationNotFoundException"},
		{"no api-version", http.MethodGet, "https://vssps.dev.azure.com/" + org + "/_apis/graph/groups", 400, "No api-version was supplied", "VssVersionNotSpecifiedException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := callJSON(t, admin, tt.method, tt.url, "", tt.status, nil)
			if e := errorOf(r); !strings.HasPrefix(e.Message, tt.msg) || e.TypeKey != tt.typeKey {
				t.Errorf("%s, want %q (%s)", r.body, tt.msg, tt.typeKey)
			}
		})
	}
	// A stranger to the organization is not told anything.
	r = callJSON(t, stranger, http.MethodGet, "https://vssps.dev.azure.com/"+org+"/_apis/graph/groups"+apiVersion, "", 401, nil)
	if e := errorOf(r); !strings.HasPrefix(e.Message, "TF400813") {
		t.Errorf("stranger: %s", r.body)
	}
	checkChallenge(t, r.header)
	// An application of another tenant is not a service principal of the organization's.
	body := `{"accessLevel":{"accountLicenseType":"express"},"servicePrincipal":{"origin":"aad","originId":"` + outsider.objectID + `","subjectKind":"servicePrincipal"}}`
	r = callJSON(t, admin, http.MethodPost, "https://vsaex.dev.azure.com/"+org+"/_apis/serviceprincipalentitlements"+apiVersion, body, 200, nil)
	if !strings.Contains(r.body, `"isSuccess":false`) || !strings.Contains(r.body, "belongs to tenant "+otherTID) {
		t.Errorf("outsider's entitlement: %s", r.body)
	}
}
