package acr

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// Audiences of Entra tokens that /oauth2/exchange accepts.
const containerRegistryAudience = "https://containerregistry.azure.net"

// armAudiences are the Resource Manager audiences of each cloud, by registry suffix. ACR accepts
// them unless authentication-as-arm is disabled.
var armAudiences = map[string][]string{
	".azurecr.io": {"https://management.azure.com", "https://management.core.windows.net"},
	".azurecr.us": {"https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net"},
	".azurecr.cn": {"https://management.chinacloudapi.cn", "https://management.core.chinacloudapi.cn"},
}

const maxFormSize = 64 << 10

// handleExchange trades an Entra access token for a refresh token of the registry.
func (s *Server) handleExchange(w http.ResponseWriter, r *http.Request, reg target) {
	rec := Record{Host: reg.host, Path: r.URL.Path, Method: r.Method, Grant: "access_token"}
	status, e := s.exchange(w, r, reg, &rec)
	rec.Status = status
	if e != nil {
		rec.Code = e.Code
		writeErrors(w, status, *e)
	}
	s.record(rec)
}

func (s *Server) exchange(w http.ResponseWriter, r *http.Request, reg target, rec *Record) (int, *acrError) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, &acrError{Code: "UNSUPPORTED", Message: "use POST for /oauth2/exchange"}
	}
	form, e := readForm(w, r)
	if e != nil {
		return http.StatusBadRequest, e
	}
	if grant := form.Get("grant_type"); grant != "access_token" {
		rec.Grant = grant
		return http.StatusBadRequest, &acrError{Code: "UNSUPPORTED", Message: fmt.Sprintf(
			"grant_type '%s' is not supported by this emulator; send grant_type=access_token with an Entra ID access token", grant)}
	}
	if e := checkService(form.Get("service"), reg); e != nil {
		return http.StatusBadRequest, e
	}
	token := form.Get("access_token")
	if token == "" {
		return http.StatusBadRequest, &acrError{Code: "BAD_REQUEST", Message: "the access_token parameter is missing"}
	}
	c, err := s.verifier.Verify(token, s.audiences(reg)...)
	if err != nil {
		return http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: s.exchangeRefusal(reg, err)}
	}
	rec.PrincipalID, rec.TenantID = c.ObjectID, c.TenantID
	if tenant := form.Get("tenant"); tenant != "" && !strings.EqualFold(tenant, c.TenantID) {
		return http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: fmt.Sprintf(
			"the tenant parameter '%s' is not the tenant '%s' of the access token", tenant, c.TenantID)}
	}
	if want := s.tenantOf(reg.resource); !strings.EqualFold(want, c.TenantID) {
		return http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: fmt.Sprintf(
			"the access token is from tenant '%s', but registry '%s' belongs to tenant '%s'", c.TenantID, reg.host, want)}
	}
	rc := s.newClaims(reg.host, c.ObjectID, s.refreshLifetime)
	rc.GrantType, rc.Tenant, rc.AppID = "refresh_token", c.TenantID, c.AppID
	refresh, err := s.sign(rc)
	if err != nil {
		return http.StatusInternalServerError, &acrError{Code: "UNKNOWN", Message: err.Error()}
	}
	writeJSON(w, http.StatusOK, map[string]string{"refresh_token": refresh})
	return http.StatusOK, nil
}

// audiences are the Entra token audiences reg accepts at /oauth2/exchange.
func (s *Server) audiences(reg target) []string {
	auds := []string{containerRegistryAudience}
	if s.noARM[strings.ToLower(reg.name)] {
		return auds
	}
	for suffix, arm := range armAudiences {
		if strings.HasSuffix(reg.host, suffix) {
			auds = append(auds, arm...)
		}
	}
	return auds
}

func (s *Server) exchangeRefusal(reg target, err error) string {
	msg := "the Microsoft Entra ID access token was refused: " + err.Error()
	if _, ok := err.(*entra.VerifyError); ok && s.noARM[strings.ToLower(reg.name)] {
		msg += fmt.Sprintf("; registry '%s' has authentication-as-arm disabled, so it accepts only tokens for %s (scope %s/.default)",
			reg.host, containerRegistryAudience, containerRegistryAudience)
	}
	return msg
}

// handleToken issues an access token for the requested scopes, to the holder of a refresh token
// or the admin user's credentials.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, reg target) {
	rec := Record{Host: reg.host, Path: r.URL.Path, Method: r.Method}
	status, e := s.token(w, r, reg, &rec)
	rec.Status = status
	if e != nil {
		rec.Code = e.Code
		writeErrors(w, status, *e)
	}
	s.record(rec)
}

// tokenRequest is what a token request asks for, whichever way it arrived.
type tokenRequest struct {
	grant              string
	refreshToken       string
	username, password string
	service            string
	scopes             []scope
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, reg target, rec *Record) (int, *acrError) {
	req, status, e := readTokenRequest(w, r)
	if e != nil {
		return status, e
	}
	rec.Grant, rec.Scopes = req.grant, scopeStrings(req.scopes)
	if e := checkService(req.service, reg); e != nil {
		return http.StatusBadRequest, e
	}
	var subject, tenant, appID string
	var perms permissions
	switch req.grant {
	case "refresh_token", "basic_refresh_token":
		c, err := s.verify(req.refreshToken, reg.host, false)
		if err != nil {
			return http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: "the refresh token was refused: " + refusal(err)}
		}
		subject, tenant, appID = c.Sub, c.Tenant, c.AppID
		perms = s.permissionsOf(c.Sub, reg)
	case "password", "basic_password":
		admin, isAdmin := s.admins[strings.ToLower(reg.name)]
		isAdmin = isAdmin && admin.username == req.username
		switch {
		case isAdmin && subtle.ConstantTimeCompare([]byte(admin.password), []byte(req.password)) == 1:
			subject, perms = admin.username, allPermissions
		case !isAdmin && isGUID(req.username) && s.entra != nil:
			// A service principal: application ID and client secret, checked by Entra ID.
			c, err := s.servicePrincipalLogin(r.Context(), reg, req.username, req.password)
			if err != nil {
				s.log.Debug("azurelocal/acr: service principal login refused", "registry", reg.host, "clientID", req.username, "reason", err.Error())
				return http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: invalidClientMessage}
			}
			subject, tenant, appID = c.ObjectID, c.TenantID, c.AppID
			perms = s.permissionsOf(c.ObjectID, reg)
		default:
			return http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: unauthorizedMessage}
		}
	}
	rec.PrincipalID, rec.TenantID = subject, tenant
	access := grant(req.scopes, perms)
	rec.Granted = entryStrings(access)
	ac := s.newClaims(reg.host, subject, s.accessLifetime)
	ac.GrantType, ac.Tenant, ac.AppID, ac.Access = strings.TrimPrefix(req.grant, "basic_"), tenant, appID, &access
	token, err := s.sign(ac)
	if err != nil {
		return http.StatusInternalServerError, &acrError{Code: "UNKNOWN", Message: err.Error()}
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": token})
	return http.StatusOK, nil
}

func refusal(err error) string {
	if err == errTokenKind {
		return "it is not a refresh token of this registry"
	}
	return err.Error()
}

// readTokenRequest reads GET with Basic credentials and query parameters, or a POST form with
// grant_type refresh_token or password.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, int, *acrError) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		req := tokenRequest{service: q.Get("service"), scopes: parseScopes(q["scope"])}
		user, password, ok := r.BasicAuth()
		if !ok {
			return req, http.StatusUnauthorized, &acrError{Code: "UNAUTHORIZED", Message: unauthorizedMessage}
		}
		if user == RefreshTokenUser {
			req.grant, req.refreshToken = "basic_refresh_token", password
		} else {
			req.grant, req.username, req.password = "basic_password", user, password
		}
		return req, 0, nil
	case http.MethodPost:
		form, e := readForm(w, r)
		if e != nil {
			return tokenRequest{}, http.StatusBadRequest, e
		}
		req := tokenRequest{grant: form.Get("grant_type"), service: form.Get("service"), scopes: parseScopes(form["scope"])}
		switch req.grant {
		case "refresh_token":
			req.refreshToken = form.Get("refresh_token")
			if req.refreshToken == "" {
				return req, http.StatusBadRequest, &acrError{Code: "BAD_REQUEST", Message: "the refresh_token parameter is missing"}
			}
		case "password":
			req.username, req.password = form.Get("username"), form.Get("password")
			if req.username == RefreshTokenUser {
				req.grant, req.refreshToken = "refresh_token", req.password
			}
		default:
			return req, http.StatusBadRequest, &acrError{Code: "UNSUPPORTED", Message: fmt.Sprintf(
				"grant_type '%s' is not supported; use refresh_token or password", req.grant)}
		}
		return req, 0, nil
	}
	return tokenRequest{}, http.StatusMethodNotAllowed, &acrError{Code: "UNSUPPORTED", Message: "use GET or POST for /oauth2/token"}
}

func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *acrError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		return nil, &acrError{Code: "BAD_REQUEST", Message: "the request body is not a valid application/x-www-form-urlencoded form"}
	}
	return r.PostForm, nil
}

func checkService(service string, reg target) *acrError {
	if service == "" {
		return &acrError{Code: "BAD_REQUEST", Message: fmt.Sprintf("the service parameter is missing; it must be '%s'", reg.host)}
	}
	if !strings.EqualFold(service, reg.host) {
		return &acrError{Code: "BAD_REQUEST", Message: fmt.Sprintf("the service parameter '%s' is not this registry '%s'", service, reg.host)}
	}
	return nil
}
