package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// DevOpsScope is the scope of Entra tokens for Azure DevOps' REST API.
const DevOpsScope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// grantDevOps adds the identity to the organization (a service principal entitlement, which
// gives its subject descriptor), then to the project group: project → scope descriptor → group
// descriptor → membership, as az devops and the Terraform provider do.
func (a *applier) grantDevOps(ctx context.Context, g PlanGrant) bool {
	what := fmt.Sprintf("Azure DevOps group %s of %s/%s for %s", g.Group, g.Organization, g.Project, g.principalName())
	if g.PrincipalID == "" {
		a.report(what, fmt.Sprintf("failed: the identity with client ID %s is not a managed identity of subscription %s, so its object ID is unknown; grant it with: azimuth setup grant --integration devops --client-id %s --organization %s --project %s --group %s --format az",
			g.ClientID, a.sub, g.ClientID, g.Organization, g.Project, g.Group))
		return false
	}
	fail := func(step string, err error) bool {
		a.report(what, "failed: "+step+": "+explainDevOps(err, g.Organization))
		return false
	}
	c, org := a.devops, url.PathEscape(g.Organization)
	subject, err := c.entitle(ctx, org, g.PrincipalID)
	if err != nil {
		return fail("adding it to the organization", err)
	}
	var project struct{ ID string }
	if _, err := c.call(ctx, http.MethodGet, "https://dev.azure.com/"+org+"/_apis/projects/"+url.PathEscape(g.Project)+"?api-version=7.1", nil, &project); err != nil {
		return fail("finding the project", err)
	}
	var scope struct{ Value string }
	if _, err := c.call(ctx, http.MethodGet, "https://vssps.dev.azure.com/"+org+"/_apis/graph/descriptors/"+url.PathEscape(project.ID)+"?api-version=7.1-preview.1", nil, &scope); err != nil {
		return fail("finding the project's scope", err)
	}
	var groups struct {
		Value []struct{ DisplayName, Descriptor string }
	}
	if _, err := c.call(ctx, http.MethodGet, "https://vssps.dev.azure.com/"+org+"/_apis/graph/groups?api-version=7.1-preview.1&scopeDescriptor="+url.QueryEscape(scope.Value), nil, &groups); err != nil {
		return fail("listing the project's groups", err)
	}
	container := ""
	for _, grp := range groups.Value {
		if strings.EqualFold(grp.DisplayName, g.Group) {
			container = grp.Descriptor
		}
	}
	if container == "" {
		a.report(what, fmt.Sprintf("failed: project %s has no group %s", g.Project, g.Group))
		return false
	}
	membership := "https://vssps.dev.azure.com/" + org + "/_apis/graph/memberships/" + url.PathEscape(subject) + "/" + url.PathEscape(container) + "?api-version=7.1-preview.1"
	if status, err := c.call(ctx, http.MethodHead, membership, nil, nil); err == nil {
		a.report(what, "present")
		return true
	} else if status != http.StatusNotFound {
		return fail("checking the membership", err)
	}
	if _, err := c.call(ctx, http.MethodPut, membership, nil, nil); err != nil {
		return fail("adding the membership", err)
	}
	a.report(what, "created")
	return true
}

// devopsClient calls Azure DevOps' REST API with Entra tokens of the applier's credential.
type devopsClient struct {
	http *http.Client
	cred azcore.TokenCredential
}

// DevOpsError is a refusal of Azure DevOps' REST API: its status and message.
type DevOpsError struct {
	Method, URL string
	StatusCode  int
	Message     string
}

func (e *DevOpsError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.StatusCode, e.Message)
}

// maxDevOpsAnswer bounds what is read of an answer.
const maxDevOpsAnswer = 1 << 20

// call sends a request and decodes a 2xx answer into out (when not nil). It returns the status.
func (c *devopsClient) call(ctx context.Context, method, u string, body any, out any) (int, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{DevOpsScope}})
	if err != nil {
		return 0, err
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDevOpsAnswer))
	if err != nil {
		return resp.StatusCode, err
	}
	redacted := strings.SplitN(u, "?", 2)[0]
	if resp.StatusCode/100 != 2 {
		var e struct{ Message string }
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return resp.StatusCode, &DevOpsError{Method: method, URL: redacted, StatusCode: resp.StatusCode, Message: e.Message}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, redacted, err)
		}
	}
	return resp.StatusCode, nil
}

// entitle adds the service principal with the object ID to the organization (what an
// existing member gets back is its entitlement) and returns its subject descriptor.
func (c *devopsClient) entitle(ctx context.Context, org, objectID string) (string, error) {
	in := map[string]any{
		"accessLevel":         map[string]string{"accountLicenseType": "express"},
		"projectEntitlements": []any{},
		"servicePrincipal":    map[string]string{"origin": "aad", "originId": objectID, "subjectKind": "servicePrincipal"},
	}
	var out struct {
		IsSuccess       bool
		OperationResult struct {
			Errors []struct{ Value any }
		}
		ServicePrincipalEntitlement struct {
			ServicePrincipal struct{ Descriptor string }
		}
	}
	u := "https://vsaex.dev.azure.com/" + org + "/_apis/serviceprincipalentitlements?api-version=7.1-preview.1"
	if _, err := c.call(ctx, http.MethodPost, u, in, &out); err != nil {
		return "", err
	}
	if d := out.ServicePrincipalEntitlement.ServicePrincipal.Descriptor; out.IsSuccess && d != "" {
		return d, nil
	}
	var msgs []string
	for _, e := range out.OperationResult.Errors {
		msgs = append(msgs, fmt.Sprint(e.Value))
	}
	return "", fmt.Errorf("the entitlement was refused: %s", strings.Join(msgs, "; "))
}

// explainDevOps says what Azure DevOps refused and what the caller needs.
func explainDevOps(err error, org string) string {
	var de *DevOpsError
	if !errors.As(err, &de) {
		return err.Error()
	}
	switch de.StatusCode {
	case http.StatusForbidden:
		return fmt.Sprintf("%s (HTTP 403): the credential of AZURE_CLIENT_ID needs Project Collection Administrator of %s", de.Message, org)
	case http.StatusUnauthorized:
		return fmt.Sprintf("%s (HTTP 401): the credential of AZURE_CLIENT_ID must be a member of organization %s, in the tenant it is connected to, and a Project Collection Administrator", de.Message, org)
	}
	return fmt.Sprintf("%s (HTTP %d)", de.Message, de.StatusCode)
}
