package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Operations of Microsoft.ManagedIdentity this emulator checks.
const (
	actionIdentityRead = "Microsoft.ManagedIdentity/userAssignedIdentities/read"
	actionFICRead      = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
	actionFICWrite     = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
	actionFICDelete    = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete"
	typeFIC            = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
)

// Azure's bounds of a federated identity credential.
const (
	maxClaimLen = 600
)

var ficName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$`)

// managedIdentity serves Microsoft.ManagedIdentity: user-assigned identities (read only) and
// their federated identity credentials.
func (s *Server) managedIdentity(req *request) *armError {
	sc, rest := req.target.Scope, req.target.Rest
	lvl := sc.Level()
	if len(rest) == 0 || !eq(rest[0], "userAssignedIdentities") || (lvl != LevelSubscription && lvl != LevelResourceGroup) {
		return errNotEmulated(req.r.Method, req.r.URL.Path)
	}
	if len(rest) == 1 {
		if req.r.Method != http.MethodGet {
			return errMethod(req.r.Method)
		}
		return s.listIdentities(req)
	}
	if lvl != LevelResourceGroup || len(rest) > 4 || (len(rest) >= 3 && !eq(rest[2], "federatedIdentityCredentials")) {
		return errNotEmulated(req.r.Method, req.r.URL.Path)
	}
	id := Scope{Subscription: sc.Subscription, ResourceGroup: sc.ResourceGroup, Namespace: "Microsoft.ManagedIdentity",
		Types: []string{"userAssignedIdentities"}, Names: []string{rest[1]}}
	switch {
	case len(rest) == 2 && req.r.Method == http.MethodGet:
		return s.getIdentity(req, id)
	case len(rest) == 2:
		return errNotEmulated(req.r.Method, req.r.URL.Path+" (identities come from the directory file)")
	case len(rest) == 3 && req.r.Method == http.MethodGet:
		return s.listFICs(req, id)
	case len(rest) == 3:
		return errMethod(req.r.Method)
	}
	switch req.r.Method {
	case http.MethodGet:
		return s.getFIC(req, id, rest[3])
	case http.MethodPut:
		return s.putFIC(req, id, rest[3])
	case http.MethodDelete:
		return s.deleteFIC(req, id, rest[3])
	}
	return errMethod(req.r.Method)
}

// identityBody is a user-assigned identity on the wire (api-version 2023-01-31 and later).
type identityBody struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Location   string             `json:"location"`
	Tags       map[string]string  `json:"tags"`
	Properties identityProperties `json:"properties"`
}

type identityProperties struct {
	TenantID       string `json:"tenantId"`
	PrincipalID    string `json:"principalId"`
	ClientID       string `json:"clientId"`
	IsolationScope string `json:"isolationScope"`
}

func (s *Server) renderIdentity(mi directory.ManagedIdentity) identityBody {
	tenant, _ := s.dir.SubscriptionTenant(mi.Subscription)
	return identityBody{
		ID: mi.ResourceID(), Name: mi.Name, Type: typeIdentity, Location: defaultLocation, Tags: map[string]string{},
		Properties: identityProperties{TenantID: tenant, PrincipalID: mi.PrincipalID, ClientID: mi.ClientID, IsolationScope: "None"},
	}
}

// identity finds the managed identity at id: the checks ARM makes, in its order (the right to
// act first, then the resource group, then the identity).
func (s *Server) identity(req *request, id Scope, action string) (directory.ManagedIdentity, *armError) {
	if aerr := s.authorize(req.caller, action, id, req.target.Path()); aerr != nil {
		return directory.ManagedIdentity{}, aerr
	}
	if aerr := s.exists(id); aerr != nil {
		return directory.ManagedIdentity{}, aerr
	}
	for _, mi := range s.dir.ManagedIdentities() {
		if eq(mi.ResourceID(), id.String()) {
			return mi, nil
		}
	}
	return directory.ManagedIdentity{}, errResourceNotFound(typeIdentity, id.Names[0], id.ResourceGroup)
}

func (s *Server) getIdentity(req *request, id Scope) *armError {
	mi, aerr := s.identity(req, id, actionIdentityRead)
	if aerr != nil {
		return aerr
	}
	writeJSON(req.w, req.r, http.StatusOK, s.renderIdentity(mi))
	return nil
}

// listIdentities answers the identities of a subscription or resource group that the caller
// may read; a caller who may read none and not the scope is refused.
func (s *Server) listIdentities(req *request) *armError {
	sc := req.target.Scope
	out := []identityBody{}
	for _, mi := range s.dir.ManagedIdentities() {
		if !eq(mi.Subscription, sc.Subscription) || (sc.ResourceGroup != "" && !eq(mi.ResourceGroup, sc.ResourceGroup)) {
			continue
		}
		if s.dir.Authorize(req.caller.objectID, actionIdentityRead, mi.ResourceID()) {
			out = append(out, s.renderIdentity(mi))
		}
	}
	if len(out) == 0 {
		if aerr := s.authorize(req.caller, actionIdentityRead, sc, req.target.Path()); aerr != nil {
			return aerr
		}
	}
	if aerr := s.exists(sc); aerr != nil {
		return aerr
	}
	writeJSON(req.w, req.r, http.StatusOK, map[string]any{"value": out})
	return nil
}

// ficBody is a federated identity credential on the wire.
type ficBody struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	Type       string        `json:"type"`
	Properties ficProperties `json:"properties"`
}

type ficProperties struct {
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

func renderFIC(mi directory.ManagedIdentity, fc directory.FederatedCredential) ficBody {
	return ficBody{
		ID: mi.ResourceID() + "/federatedIdentityCredentials/" + fc.Name, Name: fc.Name, Type: typeFIC,
		Properties: ficProperties{Issuer: fc.Issuer, Subject: fc.Subject, Audiences: nonNil(fc.Audiences)},
	}
}

func findFIC(mi directory.ManagedIdentity, name string) (directory.FederatedCredential, bool) {
	for _, fc := range mi.FederatedCredentials {
		if eq(fc.Name, name) {
			return fc, true
		}
	}
	return directory.FederatedCredential{}, false
}

func errFICNotFound(mi directory.ManagedIdentity, name string) *armError {
	return errResourceNotFound(typeFIC, mi.Name+"/"+name, mi.ResourceGroup)
}

func (s *Server) listFICs(req *request, id Scope) *armError {
	mi, aerr := s.identity(req, id, actionFICRead)
	if aerr != nil {
		return aerr
	}
	out := []ficBody{}
	for _, fc := range mi.FederatedCredentials {
		out = append(out, renderFIC(mi, fc))
	}
	writeJSON(req.w, req.r, http.StatusOK, map[string]any{"value": out})
	return nil
}

func (s *Server) getFIC(req *request, id Scope, name string) *armError {
	mi, aerr := s.identity(req, id, actionFICRead)
	if aerr != nil {
		return aerr
	}
	fc, ok := findFIC(mi, name)
	if !ok {
		return errFICNotFound(mi, name)
	}
	writeJSON(req.w, req.r, http.StatusOK, renderFIC(mi, fc))
	return nil
}

func (s *Server) deleteFIC(req *request, id Scope, name string) *armError {
	mi, aerr := s.identity(req, id, actionFICDelete)
	if aerr != nil {
		return aerr
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	ok, err := s.dir.DeleteFederatedCredential(mi.PrincipalID, name)
	if err != nil {
		return errInternal(err)
	}
	if !ok {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(req.w, req.r, http.StatusOK, struct{}{})
	return nil
}

type putFICBody struct {
	Properties *struct {
		Issuer    string   `json:"issuer"`
		Subject   string   `json:"subject"`
		Audiences []string `json:"audiences"`
	} `json:"properties"`
}

// putFIC creates or updates a federated identity credential with Azure's rules: a name of 3 to
// 120 letters, digits, '-' and '_' that starts with a letter or digit; an https issuer; one
// audience; issuer, subject and audience of at most 600 characters; at most 20 credentials per
// identity, no two with the same issuer and subject. Entra honours it at once.
func (s *Server) putFIC(req *request, id Scope, name string) *armError {
	mi, aerr := s.identity(req, id, actionFICWrite)
	if aerr != nil {
		return aerr
	}
	if !ficName.MatchString(name) {
		return errBadRequest("The federated identity credential name '%s' is invalid. It must be 3 to 120 characters long, start with a letter or a number, and contain only letters, numbers, hyphens (-) and underscores (_).", name)
	}
	fc, aerr := readFIC(req.r.Body)
	if aerr != nil {
		return aerr
	}
	fc.Name = name
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	created, err := s.dir.PutFederatedCredential(mi.PrincipalID, fc)
	switch {
	case errors.Is(err, directory.ErrIssuerSubjectInUse):
		return errBadRequest("Issuer and subject combination already exists for this Managed Identity.")
	case errors.Is(err, directory.ErrTooManyFederatedCredentials):
		return errBadRequest("Too many Federated Identity Credentials are associated with the Managed Identity. The maximum is %d.", directory.MaxFederatedCredentials)
	case err != nil:
		return errBadRequest("The federated identity credential is invalid: %v", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	for _, now := range s.dir.ManagedIdentities() {
		if eq(now.PrincipalID, mi.PrincipalID) {
			if stored, ok := findFIC(now, name); ok {
				writeJSON(req.w, req.r, status, renderFIC(now, stored))
				return nil
			}
		}
	}
	return errInternal(fmt.Errorf("federated identity credential '%s' vanished after it was written", name))
}

// readFIC reads and checks a PUT's body.
func readFIC(body io.Reader) (directory.FederatedCredential, *armError) {
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return directory.FederatedCredential{}, errInvalidContent("the body could not be read")
	}
	if len(data) > maxBody {
		return directory.FederatedCredential{}, errInvalidContent(fmt.Sprintf("the body is larger than %d bytes", maxBody))
	}
	var b putFICBody
	if err := json.Unmarshal(data, &b); err != nil {
		return directory.FederatedCredential{}, errInvalidContent(jsonProblem(err))
	}
	p := b.Properties
	if p == nil || p.Issuer == "" || p.Subject == "" || len(p.Audiences) == 0 {
		return directory.FederatedCredential{}, errBadRequest("The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.")
	}
	if len(p.Audiences) > 1 {
		return directory.FederatedCredential{}, errBadRequest("Federated Identity Credential can only have one audience; %d were given.", len(p.Audiences))
	}
	for _, f := range []struct{ what, v string }{{"issuer", p.Issuer}, {"subject", p.Subject}, {"audience", p.Audiences[0]}} {
		if len(f.v) > maxClaimLen || f.v == "" {
			return directory.FederatedCredential{}, errBadRequest("The %s of a Federated Identity Credential must be 1 to %d characters long.", f.what, maxClaimLen)
		}
	}
	if u, err := url.Parse(p.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
		return directory.FederatedCredential{}, errBadRequest("The issuer '%s' of a Federated Identity Credential must be an https URL.", p.Issuer)
	}
	return directory.FederatedCredential{Issuer: p.Issuer, Subject: p.Subject, Audiences: []string{p.Audiences[0]}}, nil
}
