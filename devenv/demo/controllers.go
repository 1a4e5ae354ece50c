package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/devenv"
)

// TokenFile is where, under the state directory, the first manager's AZURE_FEDERATED_TOKEN_FILE
// is kept: a token of ControllerNamespace/ControllerServiceAccount, as the AKS workload identity
// webhook projects it into the controller's pod.
const TokenFile = "controller/azure-identity-token"

// shard is one manager: the namespaces it reconciles and its environment.
type shard struct {
	what       string
	namespaces []string
	env        map[string]string
	storage    string
}

// shards splits the tenants between two managers: the first runs with controller-level workload
// identity in its environment, the second with an empty one, so that its objects fall back to
// the node's managed identity.
func (s *System) shards() []shard {
	first := shard{what: "manager with controller WI", storage: "artifacts/controller-wi", env: map[string]string{
		"AZURE_CLIENT_ID":            s.names.controller.ClientID,
		"AZURE_TENANT_ID":            s.names.tenantID,
		"AZURE_FEDERATED_TOKEN_FILE": filepath.Join(s.StateDir, TokenFile),
		"AZURE_AUTHORITY_HOST":       "https://login.microsoftonline.com/",
	}}
	second := shard{what: "manager with node MI", storage: "artifacts/node-mi", env: map[string]string{}}
	for _, t := range tenants() {
		if t.via == nodeMI {
			second.namespaces = append(second.namespaces, t.namespace)
		} else {
			first.namespaces = append(first.namespaces, t.namespace)
		}
	}
	if s.names.hasSecretsTenant() {
		first.namespaces = append(first.namespaces, SecretsTenant)
	}
	return []shard{first, second}
}

// startControllers writes the controller's token file, keeps it fresh, and starts one manager
// per shard. They stop when Stop cancels them.
func (s *System) startControllers(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	if err := s.writeToken(ctx); err != nil {
		return err
	}
	go s.refreshToken(ctx)
	for _, sh := range s.shards() {
		done := s.progress.step(sh.what + " for " + strings.Join(sh.namespaces, ", "))
		_, stopped, err := s.Env.RunControllers(ctx, devenv.Controllers{
			ObjectLevelWorkloadIdentity: true,
			Env:                         sh.env,
			Namespaces:                  sh.namespaces,
			StoragePath:                 filepath.Join(s.StateDir, sh.storage),
		})
		done("", err)
		if err != nil {
			return fmt.Errorf("starting the %s: %w", sh.what, err)
		}
		s.managers = append(s.managers, stopped)
	}
	return nil
}

// writeToken asks the TokenRequest API for a token of the controller's service account and
// replaces the token file with it in one step, so that a reader never sees half a token.
func (s *System) writeToken(ctx context.Context) error {
	token, err := s.Env.Kube.ServiceAccountToken(ctx, ControllerNamespace, ControllerServiceAccount, TokenAudience)
	if err != nil {
		return fmt.Errorf("a token for %s/%s: %w", ControllerNamespace, ControllerServiceAccount, err)
	}
	path := filepath.Join(s.StateDir, TokenFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return pki.WriteFileAtomic(path, []byte(token), 0o600)
}

// refreshToken rewrites the token file every refresh, well within the token's hour, as kubelet
// rotates a projected token.
func (s *System) refreshToken(ctx context.Context) {
	tick := time.NewTicker(s.opts.TokenRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.writeToken(ctx); err != nil && ctx.Err() == nil {
				fmt.Fprintf(s.progress.w, "azimuth dev up: refreshing the controller's token file: %v\n", err)
			}
		}
	}
}
