package devops

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// entitlementRequest is the body of a service principal entitlement.
type entitlementRequest struct {
	AccessLevel struct {
		AccountLicenseType string `json:"accountLicenseType"`
	} `json:"accessLevel"`
	ServicePrincipal struct {
		Origin      string `json:"origin"`
		OriginID    string `json:"originId"`
		SubjectKind string `json:"subjectKind"`
	} `json:"servicePrincipal"`
}

// addEntitlement adds a service principal (an application's or a managed identity's, by its
// Entra object ID) to the organization. Adding one that is a member already succeeds with the
// entitlement it has, as in Azure DevOps.
func (s *Server) addEntitlement(w http.ResponseWriter, r *http.Request, rc restContext) {
	var in entitlementRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxGraphBody))
	if err := dec.Decode(&in); err != nil {
		rc.rec.Status = writeJSONError(w, http.StatusBadRequest, "The body of the request is not a ServicePrincipalEntitlement: "+err.Error(), "InvalidArgumentValueException")
		return
	}
	sp := in.ServicePrincipal
	failed := func(msg string) {
		rc.rec.Status = writeJSON(w, http.StatusOK, map[string]any{"isSuccess": false,
			"operationResult": map[string]any{"isSuccess": false, "errors": []map[string]any{{"key": 5000, "value": msg}}, "servicePrincipalId": "00000000-0000-0000-0000-000000000000"}})
	}
	if !guidPattern.MatchString(sp.OriginID) || (sp.Origin != "" && !strings.EqualFold(sp.Origin, "aad")) {
		failed(fmt.Sprintf("servicePrincipal.originId must be the Microsoft Entra object ID of a service principal (a GUID) with origin aad, not '%s'.", sp.OriginID))
		return
	}
	m, ok := s.dir.DevOpsSubject(sp.OriginID)
	switch {
	case !ok || !strings.EqualFold(m.ObjectID, sp.OriginID):
		failed(fmt.Sprintf("The service principal %s was not found in the tenant %s connected to the organization.", sp.OriginID, rc.tenant))
		return
	case m.Kind == directory.KindUser:
		failed(fmt.Sprintf("%s is a user: use userentitlements.", sp.OriginID))
		return
	case !strings.EqualFold(m.TenantID, rc.tenant):
		failed(fmt.Sprintf("The service principal %s belongs to tenant %s, but the organization is connected to tenant %s.", sp.OriginID, m.TenantID, rc.tenant))
		return
	}
	if _, err := s.dir.AddDevOpsMember(rc.org, m.ObjectID); err != nil {
		failed(err.Error())
		return
	}
	license := in.AccessLevel.AccountLicenseType
	if license == "" {
		license = "express"
	}
	ent := map[string]any{
		"id":          m.ObjectID,
		"accessLevel": map[string]string{"accountLicenseType": license, "licensingSource": "account", "status": "active"},
		"servicePrincipal": map[string]any{
			"subjectKind": "servicePrincipal", "origin": "aad", "originId": m.ObjectID, "displayName": m.Name,
			"descriptor": subjectDescriptor(m), "domain": m.TenantID,
		},
		"projectEntitlements": []any{},
	}
	rc.rec.Principal = m.ObjectID
	rc.rec.Status = writeJSON(w, http.StatusOK, map[string]any{
		"isSuccess":                   true,
		"operationResult":             map[string]any{"isSuccess": true, "errors": []any{}, "servicePrincipalId": m.ObjectID, "result": ent},
		"servicePrincipalEntitlement": ent,
	})
}
