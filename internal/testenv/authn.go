package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// JWTAuthenticator makes the API server accept the bearer tokens of one OIDC issuer, as an AKS
// cluster with Microsoft Entra ID integration accepts Entra's: the kube-apiserver's structured
// authentication configuration (apiserver.config.k8s.io/v1beta1, jwt[]).
type JWTAuthenticator struct {
	// IssuerURL is the tokens' iss claim, such as https://sts.windows.net/TENANT/.
	IssuerURL string
	// DiscoveryURL is where the OpenID configuration is read, when it is not
	// IssuerURL/.well-known/openid-configuration.
	DiscoveryURL string
	// Audiences are the aud claims accepted.
	Audiences []string
	// CAPEM verifies the discovery and keys endpoints' certificates. Default: the system roots.
	CAPEM []byte
	// UsernameClaim names the user (Entra: oid, the principal's object ID); GroupsClaim their
	// groups, when present. Neither is prefixed.
	UsernameClaim, GroupsClaim string
}

// authenticationConfig is the file's shape. JSON is YAML, so the API server reads it as is.
type authenticationConfig struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	JWT        []jwtSpec `json:"jwt"`
}

type jwtSpec struct {
	Issuer struct {
		URL                  string   `json:"url"`
		DiscoveryURL         string   `json:"discoveryURL,omitempty"`
		Audiences            []string `json:"audiences"`
		CertificateAuthority string   `json:"certificateAuthority,omitempty"`
	} `json:"issuer"`
	ClaimMappings struct {
		Username claimMapping  `json:"username"`
		Groups   *claimMapping `json:"groups,omitempty"`
	} `json:"claimMappings"`
}

type claimMapping struct {
	Claim  string `json:"claim"`
	Prefix string `json:"prefix"`
}

// writeAuthenticationConfig writes the file atomically, so that the API server, which watches
// it, never reads half of it.
func writeAuthenticationConfig(path string, authenticators []JWTAuthenticator) error {
	cfg := authenticationConfig{
		APIVersion: "apiserver.config.k8s.io/v1beta1",
		Kind:       "AuthenticationConfiguration",
		JWT:        []jwtSpec{},
	}
	for _, a := range authenticators {
		var j jwtSpec
		j.Issuer.URL = a.IssuerURL
		j.Issuer.DiscoveryURL = a.DiscoveryURL
		j.Issuer.Audiences = a.Audiences
		j.Issuer.CertificateAuthority = string(a.CAPEM)
		j.ClaimMappings.Username = claimMapping{Claim: a.UsernameClaim}
		if a.GroupsClaim != "" {
			j.ClaimMappings.Groups = &claimMapping{Claim: a.GroupsClaim}
		}
		cfg.JWT = append(cfg.JWT, j)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".authentication-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SetJWTAuthenticators replaces the API server's JWT authenticators. The API server reloads its
// authentication configuration when the file changes, once the new authenticators have read their
// issuers' keys, which it checks every 10 seconds: wait for a token to be accepted with
// Authenticate (about 10 seconds).
func (e *Env) SetJWTAuthenticators(authenticators []JWTAuthenticator) error {
	return writeAuthenticationConfig(e.authnConfig, authenticators)
}

// Authenticate returns who the API server takes the bearer token for, retrying for up to
// timeout while it is refused (an authenticator that is still reading its issuer's keys).
func (e *Env) Authenticate(ctx context.Context, token string, timeout time.Duration) (authenticationv1.UserInfo, error) {
	cfg := rest.AnonymousClientConfig(e.Config)
	cfg.BearerToken = token
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err == nil {
			return review.Status.UserInfo, nil
		}
		select {
		case <-ctx.Done():
			return authenticationv1.UserInfo{}, fmt.Errorf("the API server did not accept the token within %s: %w; its last output:\n%s", timeout, err, e.apiserver.log.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
