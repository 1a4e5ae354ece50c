package devops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

func TestParseRepository(t *testing.T) {
	want := Repository{Organization: "contoso", Project: "Fabrikam Fiber", Name: "fleet"}
	for _, in := range []string{
		"https://dev.azure.com/contoso/Fabrikam%20Fiber/_git/fleet",
		"https://contoso@dev.azure.com/contoso/Fabrikam%20Fiber/_git/fleet",
		"https://dev.azure.com/contoso/Fabrikam%20Fiber/_git/fleet.git",
		"https://contoso.visualstudio.com/Fabrikam%20Fiber/_git/fleet",
		"https://contoso.visualstudio.com/DefaultCollection/Fabrikam%20Fiber/_git/fleet",
	} {
		if got, err := ParseRepository(in); err != nil || got != want {
			t.Errorf("ParseRepository(%q) = %+v, %v", in, got, err)
		}
	}
	ssh := Repository{Organization: "contoso", Project: "fabrikam", Name: "fleet", SSH: true}
	for _, in := range []string{"git@ssh.dev.azure.com:v3/contoso/fabrikam/fleet", "ssh://git@ssh.dev.azure.com/v3/contoso/fabrikam/fleet"} {
		if got, err := ParseRepository(in); err != nil || got != ssh {
			t.Errorf("ParseRepository(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{
		"", "https://github.com/contoso/fleet", "https://dev.azure.com/contoso/fleet", "https://dev.azure.com/contoso/p/_git/",
		"https://dev.azure.com/contoso/p/git/r", "git@ssh.dev.azure.com:v3/contoso/r", "ssh://git@ssh.dev.azure.com/contoso/p/r",
		"https://a.b.visualstudio.com/p/_git/r", "https://dev.azure.com/contoso/p/_git/r%2Fx", "https://dev.azure.com/%zz/p/_git/r",
	} {
		if got, err := ParseRepository(in); err == nil || !strings.Contains(err.Error(), "https://dev.azure.com/ORG/PROJECT/_git/REPO") {
			t.Errorf("ParseRepository(%q) = %+v, %v; want a refusal that shows the forms", in, got, err)
		}
	}
}

func FuzzParseRepository(f *testing.F) {
	f.Add("https://dev.azure.com/contoso/p/_git/r")
	f.Add("git@ssh.dev.azure.com:v3/o/p/r")
	f.Add("https://o.visualstudio.com/DefaultCollection/p/_git/r")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRepository(s)
		if err == nil && (r.Organization == "" || r.Project == "" || r.Name == "") {
			t.Fatalf("ParseRepository(%q) = %+v without an error", s, r)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Fatalf("an error of %d bytes", len(err.Error()))
		}
	})
}

// tokenCredential is the seam a service adapter takes; the identity behind it is entra's.
type tokenCredential struct {
	scopes []string
	err    error
}

func (c *tokenCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.scopes = o.Scopes
	return azcore.AccessToken{Token: "entra-token"}, c.err
}

func (*tokenCredential) String() string {
	return "workload identity (client ID c1) from service account ns/source"
}
func (*tokenCredential) ClientID() string { return "c1" }

func TestBearerToken(t *testing.T) {
	cred := &tokenCredential{}
	tok, err := BearerToken(t.Context(), cred, "https://dev.azure.com/contoso/p/_git/r")
	if err != nil || tok != "entra-token" || len(cred.scopes) != 1 || cred.scopes[0] != Scope {
		t.Fatalf("token %q, scopes %v, err %v", tok, cred.scopes, err)
	}
	for url, want := range map[string]error{
		"http://dev.azure.com/contoso/p/_git/r":          ErrBearerOverHTTP,
		"https://git:pat@dev.azure.com/contoso/p/_git/r": ErrBearerAndBasic,
	} {
		if _, err := BearerToken(t.Context(), &tokenCredential{}, url); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", url, err, want)
		}
	}
	if _, err := BearerToken(t.Context(), &tokenCredential{}, "ssh://git@ssh.dev.azure.com/v3/o/p/r"); err == nil || !strings.Contains(err.Error(), "ssh") {
		t.Errorf("ssh: err = %v", err)
	}
	failing := &tokenCredential{err: errors.New("AADSTS700016: no such application")}
	if _, err := BearerToken(t.Context(), failing, "https://dev.azure.com/o/p/_git/r"); err == nil || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("a failing credential: err = %v", err)
	}
}

func TestExplain(t *testing.T) {
	repo := Repository{Organization: "contoso", Project: "fabrikam", Name: "fleet"}
	cred := &tokenCredential{}
	err := Explain(fmt.Errorf("clone: %w", transport.ErrAuthenticationRequired), cred, repo, Readers)
	var access *AccessError
	if !errors.As(err, &access) || access.Forbidden || !errors.Is(err, transport.ErrAuthenticationRequired) {
		t.Fatalf("401: %v", err)
	}
	for _, want := range []string{"service account ns/source", "organization contoso", "project fabrikam", "Readers group", "client ID c1", "az devops security group membership add"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	err = Explain(transport.ErrAuthorizationFailed, cred, repo, Contributors)
	if !errors.As(err, &access) || !access.Forbidden || !strings.Contains(err.Error(), "may read the repository but not push to it (TF401027, Git permission Contribute): pushing needs the project's Contributors group") {
		t.Fatalf("403: %v", err)
	}
	err = Explain(transport.ErrRepositoryNotFound, cred, repo, Readers)
	if !errors.As(err, &access) || !access.NotFound || !strings.Contains(err.Error(), "does not exist or that the identity may not see it") {
		t.Fatalf("404: %v", err)
	}
	other := errors.New("repository not found")
	if Explain(other, cred, repo, Readers) != other {
		t.Error("an unrelated error was explained")
	}
}
