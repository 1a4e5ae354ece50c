package acr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/azimuth-gitops/azimuth/internal/entra"
)

// plainCredential is an azcore.TokenCredential with nothing more: no identity, no Invalidate.
type plainCredential struct{ token string }

func (c plainCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: c.token}, nil
}

func TestExplain(t *testing.T) {
	kc := NewKeychain(plainCredential{}, nil)
	kc.principals["myreg.azurecr.io"] = principal{key: "t/o", objectID: "0b0b0b0b-0000-4000-8000-00000000000f"}
	repo, _ := name.NewRepository("myreg.azurecr.io/team/app")
	other, _ := name.NewRepository("ghcr.io/team/app")
	unauthorized := &transport.Error{StatusCode: http.StatusUnauthorized, Errors: []transport.Diagnostic{{Code: transport.UnauthorizedErrorCode, Message: "authentication required"}}}
	forbidden := &transport.Error{StatusCode: http.StatusForbidden, Errors: []transport.Diagnostic{{Code: transport.DeniedErrorCode, Message: "client with IP '10.0.0.1' is not allowed access"}}}
	notFound := &transport.Error{StatusCode: http.StatusNotFound, Errors: []transport.Diagnostic{{Code: transport.NameUnknownErrorCode}}}

	t.Run("401 on pull", func(t *testing.T) {
		err := kc.Explain(fmt.Errorf("pulling: %w", unauthorized), repo, Pull)
		var re *entra.RoleError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v", err)
		}
		want := entra.RoleError{
			Identity: "the identity with principal ID 0b0b0b0b-0000-4000-8000-00000000000f", ClientID: "0b0b0b0b-0000-4000-8000-00000000000f",
			Role: "AcrPull", Scope: "$(az acr show --name myreg --query id --output tsv)",
			ScopeName: "the registry myreg", Service: "registry myreg.azurecr.io (pull of repository team/app)",
		}
		if *re != want {
			t.Errorf("role error\n got %+v\nwant %+v", *re, want)
		}
	})
	t.Run("403 on push keeps the registry's words", func(t *testing.T) {
		err := kc.Explain(forbidden, repo, Push)
		var re *entra.RoleError
		if !errors.As(err, &re) || re.Role != "AcrPush" || !strings.Contains(err.Error(), "403 DENIED client with IP '10.0.0.1' is not allowed access") {
			t.Errorf("err = %v", err)
		}
	})
	for name, tt := range map[string]struct {
		err  error
		repo name.Repository
	}{
		"nil":            {nil, repo},
		"404":            {notFound, repo},
		"not a registry": {errors.New("dial tcp: refused"), repo},
		"not ACR":        {unauthorized, other},
	} {
		t.Run(name+" is unchanged", func(t *testing.T) {
			if got := kc.Explain(tt.err, tt.repo, Pull); got != tt.err {
				t.Errorf("Explain = %v, want %v", got, tt.err)
			}
		})
	}
}

// TestRetry: only a 401 from an ACR host is retried, once.
func TestRetry(t *testing.T) {
	kc := NewKeychain(plainCredential{}, nil)
	unauthorized := &transport.Error{StatusCode: http.StatusUnauthorized}
	tests := []struct {
		name      string
		registry  string
		errs      []error
		wantCalls int
		wantErr   error
	}{
		{"success", "myreg.azurecr.io", []error{nil}, 1, nil},
		{"401 then success", "myreg.azurecr.io", []error{unauthorized, nil}, 2, nil},
		{"401 twice", "myreg.azurecr.io:443", []error{unauthorized, unauthorized}, 2, unauthorized},
		{"404", "myreg.azurecr.io", []error{&transport.Error{StatusCode: 404}}, 1, nil},
		{"401 from another registry", "ghcr.io", []error{unauthorized}, 1, unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := kc.Retry(tt.registry, func() error {
				calls++
				return tt.errs[calls-1]
			})
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr != nil && err != tt.wantErr {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
