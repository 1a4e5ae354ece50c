package acr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// Username is the user name that goes with an ACR refresh token in Basic credentials.
const Username = "00000000-0000-0000-0000-000000000000"

// exchangeAPIVersion is the api-version the azcontainerregistry SDK (and Flux) send.
const exchangeAPIVersion = "2021-07-01"

// maxResponse bounds what is read of an exchange answer; real ones are a few kilobytes.
const maxResponse = 1 << 20

// RefreshToken is an ACR refresh token and the expiry read from its exp claim.
type RefreshToken struct {
	Token     string
	ExpiresOn time.Time
}

// ExchangeError is a registry's refusal to exchange an Entra token for a refresh token. It never
// holds a token.
type ExchangeError struct {
	// Registry is the registry's host.
	Registry string
	// Identity names who asked, as identity.Identity prints it, when the caller knows.
	Identity string
	// StatusCode is the HTTP status; Code and Message are ACR's error, or the body's first line.
	StatusCode int
	Code       string
	Message    string
	// Scope is the Entra scope of the token that was refused, when the caller knows.
	Scope string
}

func (e *ExchangeError) Error() string {
	who := "the Microsoft Entra ID token"
	if e.Identity != "" {
		who += " of " + e.Identity
	}
	verb := "refused to exchange"
	if e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests {
		verb = "could not exchange" // busy or down, not a refusal: retried with back-off
	}
	msg := fmt.Sprintf("registry %s %s %s for a refresh token (HTTP %d", e.Registry, verb, who, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	msg += ")"
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.StatusCode == http.StatusUnauthorized {
		msg += ". " + e.hint()
	}
	return msg
}

func (e *ExchangeError) hint() string {
	h := fmt.Sprintf("Check that the identity belongs to the tenant of registry %s", e.Registry)
	if e.Scope != "" && !strings.HasPrefix(e.Scope, "https://containerregistry.azure.net") {
		return h + fmt.Sprintf(", and that the registry accepts Resource Manager tokens (scope %s): "+
			"az acr config authentication-as-arm update --registry %s --status enabled", e.Scope, registryName(e.Registry))
	}
	return h
}

// Exchange trades an Entra access token for a refresh token of registry (a host such as
// myreg.azurecr.io) with POST https://REGISTRY/oauth2/exchange?api-version=2021-07-01 and the form
// grant_type=access_token, service=REGISTRY, access_token=TOKEN, as the azcontainerregistry SDK
// and Flux send it. The refresh token's expiry is read from its exp claim, unverified. A refusal
// is an *ExchangeError.
func Exchange(ctx context.Context, client *http.Client, registry, entraToken string) (RefreshToken, error) {
	form := url.Values{"grant_type": {"access_token"}, "service": {registry}, "access_token": {entraToken}}
	u := (&url.URL{Scheme: "https", Host: registry, Path: "/oauth2/exchange", RawQuery: "api-version=" + exchangeAPIVersion}).String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return RefreshToken{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return RefreshToken{}, fmt.Errorf("exchange a Microsoft Entra ID token at registry %s: %w", registry, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return RefreshToken{}, fmt.Errorf("exchange a Microsoft Entra ID token at registry %s: %w", registry, err)
	}
	if resp.StatusCode != http.StatusOK {
		return RefreshToken{}, newExchangeError(registry, resp.StatusCode, body)
	}
	var answer struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.RefreshToken == "" {
		return RefreshToken{}, fmt.Errorf("registry %s answered /oauth2/exchange without a refresh_token", registry)
	}
	exp, err := ParseExpiry(answer.RefreshToken)
	if err != nil {
		return RefreshToken{}, fmt.Errorf("registry %s: %w", registry, err)
	}
	return RefreshToken{Token: answer.RefreshToken, ExpiresOn: exp}, nil
}

func newExchangeError(registry string, status int, body []byte) *ExchangeError {
	e := &ExchangeError{Registry: registry, StatusCode: status}
	var acr struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &acr) == nil && len(acr.Errors) > 0 {
		e.Code, e.Message = acr.Errors[0].Code, acr.Errors[0].Message
		return e
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(line) > 300 {
		line = line[:300] + "..."
	}
	e.Message = line
	return e
}

// ParseExpiry reads the exp claim of a refresh token without verifying the token: only the
// registry can verify it, and the client needs only to know when to exchange again.
func ParseExpiry(refreshToken string) (time.Time, error) {
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if err := entra.ReadClaims(refreshToken, &c); err != nil {
		return time.Time{}, errors.New("cannot read the refresh token as a JWT: " + err.Error())
	}
	if c.Exp == nil {
		return time.Time{}, errors.New("the refresh token has no exp claim")
	}
	// Whole seconds, as JWT libraries read a NumericDate.
	return time.Unix(int64(*c.Exp), 0), nil
}

// principalOf reads who an Entra token names (tenant and object ID), without verifying it, to key
// the refresh-token cache. A token that is not a JWT is keyed by its hash.
func principalOf(entraToken string) (key, objectID string) {
	var c struct {
		TID string `json:"tid"`
		OID string `json:"oid"`
	}
	if err := entra.ReadClaims(entraToken, &c); err == nil && c.OID != "" {
		return strings.ToLower(c.TID + "/" + c.OID), c.OID
	}
	sum := sha256.Sum256([]byte(entraToken))
	return "token:" + hex.EncodeToString(sum[:]), ""
}
