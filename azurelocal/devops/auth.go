package devops

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// Azure DevOps' messages, as its Git endpoints send them.
const (
	codeNotAuthorized = "TF400813"
	codeNotFound      = "TF401019"
	codeNoPermission  = "TF401027"
	codeProtocol      = "TF401041"

	msgAnonymous  = "TF400813: Resource not available for anonymous access. Client authentication required."
	msgMultiAck   = "TF401041: The Git protocol sent is not as expected (Clients must support multi-ack.)."
	msgPATExpired = "Access Denied: The Personal Access Token used has expired."
)

func msgNotAuthorized(user string) string {
	return fmt.Sprintf("TF400813: The user '%s' is not authorized to access this resource.", user)
}

func msgNotFound(repo string) string {
	return fmt.Sprintf("TF401019: The Git repository with name or identifier %s does not exist or you do not have permissions for the operation you are attempting.", repo)
}

func msgNeedContribute(identity string) string {
	return fmt.Sprintf("TF401027: You need the Git 'GenericContribute' permission to perform this action. Details: identity '%s', scope 'repository'.", identity)
}

// refusal is an answer other than the repository: its HTTP status, TF code and message.
type refusal struct {
	status  int
	code    string
	message string
	// serviceError goes to X-TFS-ServiceError when set, where Azure DevOps says more than the
	// body does (why a token was refused).
	serviceError string
}

// caller is who sent a request, once their credential checked out.
type caller struct {
	auth     string // bearer, pat or ssh
	objectID string // lower case: the oid of a token, the owner of a PAT or key
	tenantID string
	// name is what a refusal names before membership is known: the object ID of a token's
	// principal (Azure DevOps knows nothing more of a stranger), the user of a PAT or key.
	name string
	pat  *directory.DevOpsPAT
}

// authenticate checks the credential of an HTTP request for org: an Entra token as a Bearer
// header, or Basic credentials whose password (or, with no password, user name) is a PAT or an
// Entra token. The user name of Basic credentials is ignored, as Azure DevOps ignores it.
func (s *Server) authenticate(r *http.Request, org string) (caller, *refusal) {
	scheme, value, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	value = strings.TrimSpace(value)
	switch {
	case strings.EqualFold(scheme, "Bearer") && value != "":
		return s.checkToken(value)
	case strings.EqualFold(scheme, "Basic") && value != "":
		raw, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return caller{}, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgNotAuthorized("")}
		}
		user, secret, _ := strings.Cut(string(raw), ":")
		if secret == "" {
			secret = user
		}
		if isJWT(secret) {
			return s.checkToken(secret)
		}
		return s.checkPAT(secret, org)
	}
	return caller{}, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgAnonymous}
}

// isJWT tells an Entra token from a PAT: three base64url parts, the first a JSON object.
func isJWT(s string) bool {
	return strings.Count(s, ".") == 2 && strings.HasPrefix(s, "eyJ")
}

// checkToken verifies an Entra access token: signature (the tenant's key), issuer, audience
// (Azure DevOps' application ID) and lifetime.
func (s *Server) checkToken(token string) (caller, *refusal) {
	claims, err := s.verifier.Verify(token, Resource)
	if err != nil {
		return caller{}, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgNotAuthorized(""), serviceError: err.Error()}
	}
	oid := strings.ToLower(claims.ObjectID)
	return caller{auth: "bearer", objectID: oid, tenantID: claims.TenantID, name: oid}, nil
}

// checkPAT finds a PAT of org and checks its expiry.
func (s *Server) checkPAT(token, org string) (caller, *refusal) {
	pat, ok := s.dir.DevOpsPAT(token)
	if !ok || !strings.EqualFold(pat.Organization, org) {
		return caller{}, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgNotAuthorized("")}
	}
	if !s.now().Before(pat.ExpiresAt) {
		return caller{}, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgNotAuthorized(""), serviceError: msgPATExpired}
	}
	return caller{auth: "pat", objectID: pat.Owner.ObjectID, tenantID: pat.Owner.TenantID, name: pat.Owner.Name, pat: &pat}, nil
}

// authorize decides whether c may use the service on the repository: a member of the
// organization (in its tenant), in a project group that reads it, and a Contributor (with a PAT
// that writes) to push. It returns the repository as declared and the member.
func (s *Server) authorize(ref repoRef, service string, c caller) (directory.DevOpsRepository, directory.DevOpsMember, *refusal) {
	tenant, ok := s.dir.DevOpsTenant(ref.Org)
	if !ok {
		return directory.DevOpsRepository{}, directory.DevOpsMember{}, &refusal{status: http.StatusNotFound, code: codeNotFound, message: msgNotFound(ref.Repo)}
	}
	member, ok := s.dir.DevOpsMember(ref.Org, c.objectID)
	if !ok || !strings.EqualFold(c.tenantID, tenant) {
		return directory.DevOpsRepository{}, member, &refusal{status: http.StatusUnauthorized, code: codeNotAuthorized, message: msgNotAuthorized(c.name)}
	}
	repo, ok := s.dir.DevOpsRepository(ref.Org, ref.Project, ref.Repo)
	group := s.dir.DevOpsGroup(ref.Org, ref.Project, c.objectID)
	if !ok || group == directory.DevOpsNoGroup {
		// Without read permission a repository does not exist, as far as the caller can tell.
		return directory.DevOpsRepository{}, member, &refusal{status: http.StatusNotFound, code: codeNotFound, message: msgNotFound(ref.Repo)}
	}
	if service == ReceivePack && (group != directory.DevOpsContributors || c.pat != nil && c.pat.Token.Access() < directory.PATWrite) {
		return directory.DevOpsRepository{}, member, &refusal{status: http.StatusForbidden, code: codeNoPermission, message: msgNeedContribute(member.Name)}
	}
	return repo, member, nil
}
