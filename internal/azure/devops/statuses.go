package devops

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// StatusesAPIVersion is the api-version of the commit statuses REST API that Azimuth speaks, the
// one azure-devops-go-api v6 (Flux's client) negotiates.
const StatusesAPIVersion = "6.0"

// States of a commit status, as Azure DevOps spells them.
const (
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateError     = "error"
	StatePending   = "pending"
)

// Status is a commit status, as the REST API reads and writes it.
type Status struct {
	State       string        `json:"state"`
	Description string        `json:"description,omitempty"`
	Context     StatusContext `json:"context"`
	TargetURL   string        `json:"targetUrl,omitempty"`
	// ID and CreationDate are set by Azure DevOps.
	ID           int    `json:"id,omitempty"`
	CreationDate string `json:"creationDate,omitempty"`
}

// StatusContext names a status: statuses of one context replace each other in Azure DevOps'
// pull request and commit views.
type StatusContext struct {
	Name  string `json:"name"`
	Genre string `json:"genre,omitempty"`
}

// StatusAuth is how a Statuses client authenticates: a PAT or an Entra credential, both sent as
// azure-devops-go-api sends them (Basic, with an empty user name).
type StatusAuth struct {
	// PAT is a personal access token; it wins over Credential.
	PAT string
	// Credential gets tokens for Azure DevOps' scope.
	Credential azcore.TokenCredential
}

// Statuses reads and creates the commit statuses of one repository. It is safe for concurrent
// use.
type Statuses struct {
	repo   Repository
	base   string // https://dev.azure.com/{org}
	client *http.Client
	auth   StatusAuth
}

// maxErrorBody bounds what is read of a refusal.
const maxErrorBody = 64 << 10

// NewStatuses returns a client for the commit statuses of the repository at address
// (https://dev.azure.com/ORG/PROJECT/_git/REPO), sending its requests through rt. An SSH address
// has no REST API: its error says to use the HTTPS URL.
func NewStatuses(address string, rt http.RoundTripper, auth StatusAuth) (*Statuses, error) {
	repo, err := ParseRepository(address)
	if err != nil {
		return nil, err
	}
	if repo.SSH {
		return nil, fmt.Errorf("'%s' is an SSH address; commit statuses are set through the REST API: use https://dev.azure.com/%s/%s/_git/%s", clip.String(address, 200), repo.Organization, url.PathEscape(repo.Project), repo.Name)
	}
	if auth.PAT == "" && auth.Credential == nil {
		return nil, errors.New("no credential for Azure DevOps: set 'token' (a PAT) in the secret of spec.secretRef, or use an Entra identity")
	}
	if u, _ := url.Parse(address); auth.PAT == "" && u != nil && u.Scheme == "http" {
		return nil, ErrBearerOverHTTP
	}
	return &Statuses{repo: repo, base: "https://" + Host + "/" + url.PathEscape(repo.Organization), client: &http.Client{Transport: rt}, auth: auth}, nil
}

// Host serves Azure DevOps' REST API and Git.
const Host = "dev.azure.com"

// Repository is the repository the client writes to.
func (s *Statuses) Repository() Repository { return s.repo }

func (s *Statuses) url(commit string) string {
	return s.base + "/" + url.PathEscape(s.repo.Project) + "/_apis/git/repositories/" + url.PathEscape(s.repo.Name) +
		"/commits/" + url.PathEscape(commit) + "/statuses?api-version=" + StatusesAPIVersion
}

// List returns the statuses of commit, the newest first.
func (s *Statuses) List(ctx context.Context, commit string) ([]Status, error) {
	var out struct {
		Value []Status `json:"value"`
	}
	// Reading needs Readers, but a refusal names Contributors: statuses are listed to be set.
	if err := s.do(ctx, http.MethodGet, commit, nil, &out, Contributors); err != nil {
		return nil, fmt.Errorf("could not list commit statuses: %w", err)
	}
	return out.Value, nil
}

// Create adds st to commit.
func (s *Statuses) Create(ctx context.Context, commit string, st Status) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.do(ctx, http.MethodPost, commit, body, nil, Contributors); err != nil {
		return fmt.Errorf("could not create commit status: %w", err)
	}
	return nil
}

func (s *Statuses) do(ctx context.Context, method, commit string, body []byte, out any, group Group) error {
	authz, err := s.authorization(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url(commit), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Accept", "application/json;api-version="+StatusesAPIVersion)
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return s.refusal(resp, group)
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		return fmt.Errorf("reading Azure DevOps' answer: %w", err)
	}
	return nil
}

// authorization is the header azure-devops-go-api's NewPatConnection sends: Basic with an empty
// user name and the PAT or Entra token as the password.
func (s *Statuses) authorization(ctx context.Context) (string, error) {
	secret := s.auth.PAT
	if secret == "" {
		tok, err := s.auth.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
		if err != nil {
			return "", fmt.Errorf("failed to acquire azure devops token: %w", err)
		}
		secret = tok.Token
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+secret)), nil
}

// StatusError is Azure DevOps' answer to a statuses request other than success. It holds its
// message, never a credential.
type StatusError struct {
	StatusCode int
	// Message is Azure DevOps' message, such as TF401027: You need the Git 'GenericContribute'
	// permission...
	Message string
	// RetryAfter is the wait Azure DevOps asked for (429, 503), zero when it named none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("Azure DevOps answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("Azure DevOps answered %d: %s", e.StatusCode, e.Message)
}

// Temporary is true for answers that may change on a retry: throttling, timeouts and server
// errors.
func (e *StatusError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

// refusal reads Azure DevOps' error and explains a refusal of the credential: who, and which
// group of which project it needs.
func (s *Statuses) refusal(resp *http.Response, group Group) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &StatusError{StatusCode: resp.StatusCode, Message: errorMessage(resp.Header.Get("Content-Type"), data)}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
	default:
		return e
	}
	if s.auth.PAT != "" {
		return &PATError{Repository: s.repo, Group: group, err: e}
	}
	a := &AccessError{Repository: s.repo, Group: group, Forbidden: resp.StatusCode == http.StatusForbidden, NotFound: resp.StatusCode == http.StatusNotFound, err: e}
	if d, ok := s.auth.Credential.(described); ok {
		a.Identity, a.ClientID = d.String(), d.ClientID()
	}
	return a
}

// errorMessage is the message of an Azure DevOps error: the JSON wrapper's message, or the text.
func errorMessage(contentType string, data []byte) string {
	var wrapped struct {
		Message string `json:"message"`
	}
	if strings.Contains(contentType, "json") && json.Unmarshal(data, &wrapped) == nil && wrapped.Message != "" {
		return clip.String(wrapped.Message, 200)
	}
	return clip.String(strings.TrimSpace(string(data)), 200)
}

// PATError is Azure DevOps refusing a PAT: unknown, expired, of a user without the group, or
// without the scope. It never holds the token.
type PATError struct {
	Repository Repository
	Group      Group
	err        *StatusError
}

func (e *PATError) Error() string {
	return fmt.Sprintf("%s; the PAT in 'token' was refused for repository %s: it must be valid (not expired), belong to a member of "+
		"project %s's %s group in organization %s, and have the scope Code (status) or Code (read & write)", e.err, e.Repository.Name, e.Repository.Project, e.Group, e.Repository.Organization)
}

// Unwrap returns Azure DevOps' answer.
func (e *PATError) Unwrap() error { return e.err }
