package acr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// WithEntra lets service principals log in with their application (client) ID as user name and a
// client secret as password, as `docker login REG.azurecr.io -u APP_ID -p SECRET` does on Azure:
// the registry asks Entra ID, the handler h (azurelocal/entra's Server), for a token with those
// credentials, and grants what the principal's roles allow. Default: none; such credentials are
// refused as unknown users.
func WithEntra(h http.Handler) Option { return func(s *Server) { s.entra = h } }

// invalidClientMessage is ACR's message when Entra ID refuses the service principal's client ID
// or secret; Docker prints it as "unauthorized: Invalid clientid or client secret.".
const invalidClientMessage = "Invalid clientid or client secret."

// loginHosts are Entra ID's login hosts, by the cloud of the registry's tenant.
var loginHosts = map[string]string{
	directory.CloudPublic:       "login.microsoftonline.com",
	directory.CloudUSGovernment: "login.microsoftonline.us",
	directory.CloudChina:        "login.chinacloudapi.cn",
}

// isGUID reports whether s has the 8-4-4-4-12 form of an application ID.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// servicePrincipalLogin trades a client ID and secret for the principal's token claims, by a
// client credentials request to Entra ID in the registry's tenant, as ACR does. The error says
// why, for the log; the client only ever sees invalidClientMessage.
func (s *Server) servicePrincipalLogin(ctx context.Context, reg target, clientID, secret string) (*entra.Claims, error) {
	if s.entra == nil {
		return nil, errors.New("no Entra ID is configured for service principal logins (acr.WithEntra)")
	}
	tenantID := s.tenantOf(reg.resource)
	t, ok := s.dir.Tenant(tenantID)
	if !ok {
		return nil, fmt.Errorf("the registry's tenant '%s' is not in the directory", tenantID)
	}
	cloud := t.Cloud
	if cloud == "" {
		cloud = directory.CloudPublic
	}
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {containerRegistryAudience + "/.default"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"https://"+loginHosts[cloud]+"/"+t.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	answer := &bufferedResponse{header: http.Header{}}
	s.entra.ServeHTTP(answer, req)
	var body struct {
		AccessToken string `json:"access_token"`
		ErrorCodes  []int  `json:"error_codes"`
	}
	if err := json.Unmarshal(answer.body.Bytes(), &body); err != nil {
		return nil, fmt.Errorf("the answer of Entra ID (status %d) is not JSON", answer.status)
	}
	if body.AccessToken == "" {
		return nil, fmt.Errorf("the credentials were refused by Entra ID (status %d, AADSTS%v)", answer.status, body.ErrorCodes)
	}
	return s.verifier.Verify(body.AccessToken, containerRegistryAudience)
}
