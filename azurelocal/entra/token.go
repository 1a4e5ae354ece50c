package entra

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxFormSize bounds a token request body; assertions with a certificate chain stay far below.
const maxFormSize = 256 << 10

// tokenRequest is a parsed client credentials request.
type tokenRequest struct {
	host     string
	segment  string // the {tenant} path segment as sent
	tenant   directory.Tenant
	form     url.Values
	resource string
	client   directory.Principal
}

// handleToken serves POST /{tenant}/oauth2/v2.0/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	rec := Record{Host: requestHost(r), Path: r.URL.Path, Start: s.now()}
	corr := correlationID(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
	var form url.Values
	if err := r.ParseForm(); err == nil {
		form = r.PostForm
	}
	rec.ClientID = form.Get("client_id")
	if s.gate != nil {
		s.gate(r.Context(), rec)
	}
	tok, aerr := s.token(r.Context(), &tokenRequest{host: rec.Host, segment: r.PathValue("tenant"), form: form}, &rec)
	if aerr != nil {
		rec.Status, rec.ErrorCode = aerr.Status, aerr.Code
		writeError(w, rec.Host, s.now(), corr, aerr)
	} else {
		rec.Status = http.StatusOK
		w.Header().Set("client-request-id", corr)
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type":     "Bearer",
			"expires_in":     int(tok.Lifetime.Seconds()),
			"ext_expires_in": int(tok.Lifetime.Seconds()),
			"access_token":   tok.Token,
		})
	}
	rec.End = s.now()
	if s.observe != nil {
		s.observe(rec)
	}
}

// token runs the client credentials grant: tenant, parameters, client, credential, token. Each
// check fails with the error Entra gives for it.
func (s *Server) token(ctx context.Context, req *tokenRequest, rec *Record) (AccessToken, *aadError) {
	if isCommonTenant(req.segment) {
		return AccessToken{}, errNoTenant()
	}
	t, aerr := s.tenantFor(req.host, req.segment)
	if aerr != nil {
		return AccessToken{}, aerr
	}
	req.tenant, rec.TenantID = t, t.ID
	for _, p := range []string{"grant_type", "client_id"} {
		if req.form.Get(p) == "" {
			return AccessToken{}, errMissingParameter(p)
		}
	}
	if g := req.form.Get("grant_type"); g != "client_credentials" {
		return AccessToken{}, errUnsupportedGrant(g)
	}
	resource, aerr := resourceFromScopes(req.form.Get("scope"))
	if aerr != nil {
		return AccessToken{}, aerr
	}
	req.resource, rec.Resource = resource, resource
	client, ok := s.dir.Client(t.ID, req.form.Get("client_id"))
	if !ok {
		return AccessToken{}, errApplicationNotFound(req.form.Get("client_id"), tenantName(t))
	}
	req.client = client
	grant, aerr := s.authenticate(ctx, req)
	rec.Grant = grant
	if aerr != nil {
		return AccessToken{}, aerr
	}
	if !knownResource(resource) {
		return AccessToken{}, errResourceNotFound(resource, t.ID)
	}
	acr := "2"
	if grant == GrantClientSecret {
		acr = "1"
	}
	tok, err := s.issue(client, resource, t.Cloud, acr)
	if err != nil {
		return AccessToken{}, newError(500, "server_error", 90100, "The local Entra ID failed to sign a token: %v", err)
	}
	return tok, nil
}

// authenticate checks the client's credential and reports which kind it was.
func (s *Server) authenticate(ctx context.Context, req *tokenRequest) (string, *aadError) {
	if secret := req.form.Get("client_secret"); secret != "" {
		return GrantClientSecret, checkSecret(req.client, secret)
	}
	assertion := req.form.Get("client_assertion")
	if assertion == "" {
		return "", errNoCredential()
	}
	if typ := req.form.Get("client_assertion_type"); typ != jwtBearer {
		if typ == "" {
			return "", errMissingParameter("client_assertion_type")
		}
		return "", errAssertionType(typ)
	}
	tok, err := jose.Parse(assertion)
	if err != nil {
		return "", errMalformedJWT("")
	}
	// A self-issued assertion (iss = client ID) is a certificate credential; anything else comes
	// from an external identity provider and must match a federated credential.
	if tok.String("iss") == req.client.ClientID {
		return GrantCertificate, s.checkCertificateAssertion(req, tok)
	}
	return GrantFederated, s.checkFederatedAssertion(ctx, req.client, tok)
}

func checkSecret(p directory.Principal, secret string) *aadError {
	if p.Application != nil {
		for _, cs := range p.Application.ClientSecrets {
			if subtle.ConstantTimeCompare([]byte(cs.Value), []byte(secret)) == 1 {
				return nil
			}
		}
	}
	return errInvalidSecret(p.ClientID)
}

func tenantName(t directory.Tenant) string {
	if t.Name != "" {
		return t.Name
	}
	return t.ID
}
