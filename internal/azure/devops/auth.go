package devops

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azimuth-gitops/azimuth/internal/clip"
)

// ErrBearerOverHTTP: an Entra token would travel in clear text.
var ErrBearerOverHTTP = errors.New("a Microsoft Entra ID token is sent to Azure DevOps over HTTPS only: use an https:// URL, or ssh with a key in spec.secretRef")

// ErrBearerAndBasic: a URL or secret with a user name and password beside an Entra identity.
var ErrBearerAndBasic = errors.New("basic auth and a Microsoft Entra ID token cannot be used together: remove the username and password (from spec.secretRef or the URL), or use provider generic with them")

// BearerToken returns the Entra token cred gets for Azure DevOps, to send as
// `Authorization: Bearer` when cloning or pushing repoURL. It refuses an http:// URL and a URL
// that carries a password: an Entra token goes over HTTPS only, and never beside basic auth.
func BearerToken(ctx context.Context, cred azcore.TokenCredential, repoURL string) (string, error) {
	u, err := url.Parse(repoURL)
	if err != nil {
		return "", fmt.Errorf("spec.url: %w", err)
	}
	switch {
	case u.Scheme == "http":
		return "", ErrBearerOverHTTP
	case u.Scheme != "https":
		return "", fmt.Errorf("an Entra ID token authenticates HTTPS URLs; '%s' is %s: use an https:// URL for provider azure, or ssh with a key in spec.secretRef and provider generic", clip.String(repoURL, 200), u.Scheme)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return "", ErrBearerAndBasic
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return "", fmt.Errorf("get a Microsoft Entra ID token for Azure DevOps: %w", err)
	}
	return tok.Token, nil
}
