package acr

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// RefreshTokenUser is the user name that goes with a refresh token in Basic credentials, as
// `az acr login --expose-token` prints it.
const RefreshTokenUser = "00000000-0000-0000-0000-000000000000"

// ActionRegistryDelete is the operation that deleting a manifest or tag needs (AcrDelete).
const ActionRegistryDelete = "Microsoft.ContainerRegistry/registries/artifacts/delete"

const tokenIssuer = "Azure Container Registry"

// claims are the claims of ACR's refresh and access tokens. Access is present (possibly empty)
// on access tokens only, which is how the two kinds are told apart.
type claims struct {
	JTI       string         `json:"jti"`
	Sub       string         `json:"sub"`
	Nbf       int64          `json:"nbf"`
	Exp       int64          `json:"exp"`
	Iat       int64          `json:"iat"`
	Iss       string         `json:"iss"`
	Aud       string         `json:"aud"`
	Version   string         `json:"version"`
	GrantType string         `json:"grant_type"`
	Tenant    string         `json:"tenant,omitempty"`
	AppID     string         `json:"appid,omitempty"`
	Access    *[]accessEntry `json:"access,omitempty"`
}

// accessEntry is one element of an access token's access list, as in the Docker token spec.
type accessEntry struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func (e accessEntry) String() string {
	return e.Type + ":" + e.Name + ":" + strings.Join(e.Actions, ",")
}

// newClaims fills the common claims of a token for host, valid for lifetime.
func (s *Server) newClaims(host, subject string, lifetime time.Duration) claims {
	now := s.now().UTC().Truncate(time.Second)
	return claims{
		JTI: newID(), Sub: subject, Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(),
		Iss: tokenIssuer, Aud: host, Version: "1.0",
	}
}

func (s *Server) sign(c claims) (string, error) {
	k := s.key.Load()
	token, err := jose.SignRS256(k.key, map[string]any{"kid": k.kid}, c)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return token, nil
}

// errTokenKind is returned when a refresh token is presented as an access token or the reverse.
var errTokenKind = errors.New("wrong kind of token")

// verify checks a token this server issued for host: key, signature, issuer, audience, lifetime
// and kind. The error says why in words fit for a 401 body; it never contains the token.
func (s *Server) verify(token, host string, wantAccess bool) (*claims, error) {
	t, err := jose.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("the token is malformed: %v", err)
	}
	k := s.key.Load()
	if t.Header.Alg != "RS256" || t.Header.Kid != k.kid {
		return nil, errors.New("the token was not issued by this registry, or its signing key has changed")
	}
	if err := t.Verify(&k.key.PublicKey); err != nil {
		return nil, errors.New("the token's signature is invalid")
	}
	raw, err := json.Marshal(t.Claims)
	if err != nil {
		return nil, errors.New("the token's claims are invalid")
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errors.New("the token's claims are invalid")
	}
	now := s.now()
	switch {
	case c.Iss != tokenIssuer:
		return nil, fmt.Errorf("the token's issuer '%s' is not '%s'", c.Iss, tokenIssuer)
	case !strings.EqualFold(c.Aud, host):
		return nil, fmt.Errorf("the token was issued for '%s', not for this registry '%s'", c.Aud, host)
	case now.Before(time.Unix(c.Nbf, 0)):
		return nil, fmt.Errorf("the token is not valid before %s", time.Unix(c.Nbf, 0).UTC().Format(time.RFC3339))
	case !now.Before(time.Unix(c.Exp, 0)):
		return nil, fmt.Errorf("the token expired at %s", time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	case wantAccess != (c.Access != nil):
		return nil, errTokenKind
	case !wantAccess && c.GrantType != "refresh_token":
		return nil, errTokenKind
	}
	return &c, nil
}

// scope is one requested scope, "repository:samples/hello:pull,push" or "registry:catalog:*".
type scope struct {
	Type, Name string
	Actions    []string
}

func (sc scope) String() string { return sc.Type + ":" + sc.Name + ":" + strings.Join(sc.Actions, ",") }

// parseScopes reads scope parameters: each may hold several scopes separated by spaces, as
// go-containerregistry's OAuth flow sends them. Malformed scopes are ignored, as registries do.
func parseScopes(values []string) []scope {
	var out []scope
	for _, v := range values {
		for _, field := range strings.Fields(v) {
			if sc, ok := parseScope(field); ok {
				out = append(out, sc)
			}
		}
	}
	return out
}

// parseScope splits TYPE[(CLASS)]:NAME:ACTIONS. The name may not be empty; it is everything
// between the first and the last colon.
func parseScope(s string) (scope, bool) {
	i, j := strings.IndexByte(s, ':'), strings.LastIndexByte(s, ':')
	if i <= 0 || j <= i+1 || j == len(s)-1 {
		return scope{}, false
	}
	typ := s[:i]
	if k := strings.IndexByte(typ, '('); k >= 0 {
		typ = typ[:k]
	}
	if typ == "" {
		return scope{}, false
	}
	return scope{Type: typ, Name: s[i+1 : j], Actions: strings.Split(s[j+1:], ",")}, true
}

// permissions are what a principal may do on a registry.
type permissions struct{ pull, push, delete bool }

var allPermissions = permissions{pull: true, push: true, delete: true}

// permissionsOf asks the directory's role assignments what principalID may do on reg.
func (s *Server) permissionsOf(principalID string, reg target) permissions {
	allowed := func(action string) bool {
		return s.dir.Check(rbac.Request{PrincipalID: principalID, Action: action, ResourceID: reg.resourceID}).Allowed
	}
	return permissions{
		pull:   allowed(rbac.ActionRegistryPull),
		push:   allowed(rbac.ActionRegistryPush),
		delete: allowed(ActionRegistryDelete),
	}
}

// grant returns the access list for the requested scopes that p allows. It is never nil, so an
// access token always carries an access claim.
func grant(requested []scope, p permissions) []accessEntry {
	out := []accessEntry{}
	add := func(typ, name, action string) {
		for i := range out {
			if out[i].Type == typ && out[i].Name == name {
				if !slices.Contains(out[i].Actions, action) {
					out[i].Actions = append(out[i].Actions, action)
				}
				return
			}
		}
		out = append(out, accessEntry{Type: typ, Name: name, Actions: []string{action}})
	}
	for _, sc := range requested {
		switch sc.Type {
		case "repository":
			for _, a := range sc.Actions {
				switch {
				case (a == "pull" || a == "metadata_read") && p.pull,
					(a == "push" || a == "metadata_write") && p.push,
					a == "delete" && p.delete:
					add(sc.Type, sc.Name, a)
				case a == "*":
					for _, each := range []struct {
						name string
						ok   bool
					}{{"pull", p.pull}, {"push", p.push}, {"delete", p.delete}} {
						if each.ok {
							add(sc.Type, sc.Name, each.name)
						}
					}
				}
			}
		case "registry":
			if sc.Name == "catalog" && slices.Contains(sc.Actions, "*") && p.pull {
				add(sc.Type, sc.Name, "*")
			}
		}
	}
	return out
}

// allows reports whether an access list grants action on the resource typ:name.
func allows(access []accessEntry, typ, name, action string) bool {
	for _, e := range access {
		if e.Type == typ && e.Name == name && (slices.Contains(e.Actions, action) || slices.Contains(e.Actions, "*")) {
			return true
		}
	}
	return false
}

func entryStrings(access []accessEntry) []string {
	out := make([]string, len(access))
	for i, e := range access {
		out[i] = e.String()
	}
	return out
}

func scopeStrings(scopes []scope) []string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		out[i] = sc.String()
	}
	return out
}
