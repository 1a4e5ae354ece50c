package devops_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azimuth-gitops/azimuth/azurelocal/devops"
	clientdevops "github.com/azimuth-gitops/azimuth/internal/azure/devops"
)

// discover does what azure-devops-go-api does before its first call: OPTIONS {org}/_apis, then
// the route of a location ID, filled as its transformRouteTemplate fills it.
func discover(t *testing.T, header http.Header, locationID string, values map[string]string) string {
	t.Helper()
	h := http.Header{"Accept": {"application/json"}, "X-TFS-FedAuthRedirect": {"Suppress"}}
	for k, v := range header {
		h[k] = v
	}
	r := do(t, http.MethodOptions, "https://dev.azure.com/"+org+"/_apis", h, nil)
	if r.status != http.StatusOK {
		t.Fatalf("OPTIONS _apis: %d %s", r.status, r.body)
	}
	var locs struct {
		Value []struct {
			ID, Area, ResourceName, RouteTemplate, MinVersion, MaxVersion string
		}
	}
	if err := json.Unmarshal([]byte(r.body), &locs); err != nil {
		t.Fatal(err)
	}
	for _, l := range locs.Value {
		if l.ID != locationID {
			continue
		}
		if l.MinVersion == "" || l.MaxVersion == "" {
			t.Errorf("location %s has no versions: the client negotiates with them", l.ID)
		}
		values["area"], values["resource"] = l.Area, l.ResourceName
		var segs []string
		for _, seg := range strings.Split(l.RouteTemplate, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				if v, ok := values[strings.Trim(seg, "{}*")]; ok {
					segs = append(segs, url.PathEscape(v))
				}
				continue
			}
			segs = append(segs, seg)
		}
		return "https://dev.azure.com/" + org + "/" + strings.Join(segs, "/")
	}
	t.Fatalf("location %s is not registered: %s", locationID, r.body)
	return ""
}

// TestStatusesAsTheClientCallsThem: the route discovery, then a status created and read back,
// with the api-version in the Accept header as azure-devops-go-api sends it.
func TestStatusesAsTheClientCallsThem(t *testing.T) {
	auth := basic("", alicePAT)
	u := discover(t, auth, devops.StatusesLocationID, map[string]string{"project": project, "repositoryId": repo, "commitId": local.seeded})
	if want := "https://dev.azure.com/contoso/My%20Project/_apis/git/repositories/infra/commits/" + local.seeded + "/statuses"; u != want {
		t.Fatalf("route %s, want %s", u, want)
	}
	h := http.Header{"Accept": {"application/json;api-version=6.0-preview.1"}, "Content-Type": {"application/json;charset=utf-8"}}
	for k, v := range auth {
		h[k] = v
	}
	name := unique("kustomization/apps")
	body := `{"state":"succeeded","description":"reconciliation succeeded","context":{"genre":"fluxcd","name":"` + name + `"}}`
	r := do(t, http.MethodPost, u, h, []byte(body))
	var created devops.CommitStatus
	if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &created) != nil || created.ID == 0 || created.CreatedBy.UniqueName != alice || created.State != "succeeded" {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	r = do(t, http.MethodGet, u, h, nil)
	var list struct {
		Count int
		Value []devops.CommitStatus
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &list) != nil || list.Count == 0 || list.Value[0].Context.Name != name {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	if got := local.azure.DevOps().Statuses(org, project, repo, local.seeded); len(got) == 0 || got[0].Context.Name != name {
		t.Errorf("Statuses: %+v", got)
	}
	// The resource area lookup is anonymous.
	r = do(t, http.MethodGet, "https://dev.azure.com/"+org+"/_apis/ResourceAreas/"+devops.GitAreaID, nil, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"locationUrl":"https://dev.azure.com/contoso/"`) {
		t.Errorf("ResourceAreas: %d %s", r.status, r.body)
	}
}

// TestStatusesRefusals: Azure DevOps' answers to each credential it refuses, in its JSON error
// wrapper.
func TestStatusesRefusals(t *testing.T) {
	u := "https://dev.azure.com/contoso/My%20Project/_apis/git/repositories/infra/commits/" + local.seeded + "/statuses?api-version=6.0"
	body := []byte(`{"state":"succeeded","context":{"name":"x","genre":"fluxcd"}}`)
	for _, tt := range []struct {
		name   string
		method string
		header http.Header
		url    string
		status int
		msg    string
	}{
		{"reader token posts", http.MethodPost, bearerHeader(devopsToken(t, reader)), u, 403,
			"TF401027: You need the Git 'GenericContribute' permission to perform this action. Details: identity 'reader-app', scope 'repository'."},
		{"read-only PAT posts", http.MethodPost, basic("", aliceROPAT), u, 403, "TF401027: You need the Git 'GenericContribute' permission"},
		{"no group", http.MethodGet, bearerHeader(devopsToken(t, orgOnly)), u, 404, "TF401019: The Git repository with name or identifier infra does not exist"},
		{"anonymous", http.MethodGet, nil, u, 401, "TF400813: Resource not available for anonymous access."},
		{"unknown commit", http.MethodGet, basic("", alicePAT), strings.Replace(u, local.seeded, strings.Repeat("ab", 20), 1), 404, "TF401175"},
		{"no api-version", http.MethodGet, basic("", alicePAT), strings.TrimSuffix(u, "?api-version=6.0"), 400, "No api-version was supplied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, tt.url, tt.header, body)
			var e struct{ Message, TypeKey string }
			if r.status != tt.status || json.Unmarshal([]byte(r.body), &e) != nil || !strings.HasPrefix(e.Message, tt.msg) {
				t.Errorf("%d %s, want %d %q", r.status, r.body, tt.status, tt.msg)
			}
			if tt.status == 401 && !strings.Contains(strings.Join(r.header.Values("WWW-Authenticate"), ","), "Bearer authorization_uri=https://login.microsoftonline.com/"+tenantID) {
				t.Errorf("401 without the Bearer challenge: %v", r.header)
			}
		})
	}
	// A reader reads.
	if r := do(t, http.MethodGet, u, bearerHeader(devopsToken(t, reader)), nil); r.status != http.StatusOK {
		t.Errorf("reader GET: %d %s", r.status, r.body)
	}
}

// TestStatusesClient: internal/azure/devops's client against the emulator, with a PAT and with an
// Entra credential; a Reader's refusal names the group it needs.
func TestStatusesClient(t *testing.T) {
	cred := func(a app) azcore.TokenCredential {
		c, err := azidentity.NewClientSecretCredential(a.tenant, a.clientID, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: local.client}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, auth := range []clientdevops.StatusAuth{{PAT: alicePAT}, {Credential: cred(contributor)}} {
		c, err := clientdevops.NewStatuses(repoURL, local.rt, auth)
		if err != nil {
			t.Fatal(err)
		}
		name := unique("client")
		if err := c.Create(t.Context(), local.seeded, clientdevops.Status{State: clientdevops.StateError, Description: "health check failed", Context: clientdevops.StatusContext{Name: name, Genre: "fluxcd"}}); err != nil {
			t.Fatal(err)
		}
		list, err := c.List(t.Context(), local.seeded)
		if err != nil || len(list) == 0 || list[0].Context.Name != name || list[0].State != "error" || list[0].Description != "health check failed" {
			t.Fatalf("List: %+v, %v", list, err)
		}
	}
	c, err := clientdevops.NewStatuses(repoURL, local.rt, clientdevops.StatusAuth{Credential: cred(reader)})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Create(t.Context(), local.seeded, clientdevops.Status{State: "succeeded", Context: clientdevops.StatusContext{Name: "x"}})
	var access *clientdevops.AccessError
	if !errors.As(err, &access) || !access.Forbidden || access.Group != clientdevops.Contributors || !strings.Contains(err.Error(), "Contributors group") {
		t.Errorf("a reader's status: %v", err)
	}
	c, _ = clientdevops.NewStatuses(repoURL, local.rt, clientdevops.StatusAuth{PAT: aliceROPAT})
	err = c.Create(t.Context(), local.seeded, clientdevops.Status{State: "succeeded", Context: clientdevops.StatusContext{Name: "x"}})
	var pat *clientdevops.PATError
	if !errors.As(err, &pat) || !strings.Contains(err.Error(), "TF401027") || strings.Contains(err.Error(), aliceROPAT) {
		t.Errorf("a read-only PAT: %v", err)
	}
}
