package azuretest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/acr"
	"github.com/azimuth-gitops/azimuth/azurelocal/blob"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/azurelocal/keyvault"
)

// Azure is a local Azure that StartAzure started. Its ConnectTo, CAPool and CAPEM are what a
// client needs to reach it.
type Azure struct {
	*azurelocal.Azure
	tempDir string // the state directory StartAzure made, which Stop removes
}

// StartAzure starts a local Azure for a test package's shared fixture, as TestMain or a Lazy
// starts it. It serves opts.Directory or, when directoryYAML is set, the directory it describes
// (the default directory when neither is); its state lives in opts.StateDir or, when that is
// empty, in a new temporary directory that Stop removes. The other options are azurelocal's.
func StartAzure(directoryYAML string, opts *azurelocal.Options) (*Azure, error) {
	var o azurelocal.Options
	if opts != nil {
		o = *opts
	}
	if directoryYAML != "" {
		if o.Directory != nil {
			return nil, fmt.Errorf("azuretest: a directory in YAML and in Options; give one")
		}
		dir, err := directory.Parse([]byte(directoryYAML))
		if err != nil {
			return nil, err
		}
		o.Directory = dir
	}
	a := &Azure{}
	if o.StateDir == "" {
		dir, err := os.MkdirTemp("", "azuretest-")
		if err != nil {
			return nil, err
		}
		o.StateDir, a.tempDir = dir, dir
	}
	var err error
	if a.Azure, err = azurelocal.Start(context.Background(), &o); err != nil {
		a.removeTemp()
		return nil, err
	}
	return a, nil
}

// Stop stops the local Azure and removes the state directory StartAzure made for it.
func (a *Azure) Stop() error {
	err := a.Azure.Stop()
	a.removeTemp()
	return err
}

func (a *Azure) removeTemp() {
	if a.tempDir != "" {
		os.RemoveAll(a.tempDir)
	}
}

// Start starts a local Azure for one test, as StartAzure does but with its state in a directory
// of the test when opts names none, and stops it when the test ends. It fails t when the local
// Azure cannot start.
func Start(t testing.TB, directoryYAML string, opts *azurelocal.Options) *azurelocal.Azure {
	t.Helper()
	var o azurelocal.Options
	if opts != nil {
		o = *opts
	}
	if o.StateDir == "" {
		o.StateDir = t.TempDir()
	}
	a, err := StartAzure(directoryYAML, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	return a.Azure
}

// ServeACR serves the container registries of a's directory with an ACR emulator made with opts
// (an observer, registries without the ARM audience, admin users), in place of the one the local
// Azure starts with, on every registry host. Tokens are checked by a's Entra ID.
func ServeACR(a *azurelocal.Azure, opts ...acr.Option) (*acr.Server, error) {
	srv, err := acr.New(a.Directory(), a.Entra().Verifier(), opts...)
	if err != nil {
		return nil, err
	}
	for _, h := range acr.Hosts() {
		if err := a.Register(h, srv); err != nil {
			return nil, err
		}
	}
	return srv, nil
}

// ServeKeyVault serves the key vaults of a's directory with a Key Vault emulator made with opts
// (an observer, a small page size), in place of the one the local Azure starts with, on every
// vault host. It keeps keys in a's state directory and checks tokens with a's Entra ID; give it
// a's clock with keyvault.WithClock when the test moves time.
func ServeKeyVault(a *azurelocal.Azure, opts ...keyvault.Option) (*keyvault.Server, error) {
	srv, err := keyvault.New(a.Directory(), a.Entra().Verifier(), a.StateDir(), opts...)
	if err != nil {
		return nil, err
	}
	for _, h := range keyvault.Hosts() {
		if err := a.Register(h, srv); err != nil {
			return nil, err
		}
	}
	return srv, nil
}

// ServeBlob serves the storage accounts of a's directory with a Blob service made with opts (an
// observer, a's clock), in place of the one the local Azure starts with, on every blob host. It
// forwards to the local Azure's own Azurite, so a must have been started with Options.Blob: a
// test package that starts its local Azure once (TestMain, Lazy) starts one Azurite, whatever
// the number of its tests.
func ServeBlob(a *azurelocal.Azure, opts ...blob.Option) (*blob.Server, error) {
	if a.Blob() == nil {
		return nil, fmt.Errorf("azuretest: the local Azure runs no Azurite; start it with azurelocal.Options{Blob: &azurelocal.BlobOptions{}}")
	}
	srv, err := blob.New(a.Directory(), a.Entra().Verifier(), a.Blob().Azurite(), opts...)
	if err != nil {
		return nil, err
	}
	for _, h := range blob.Hosts() {
		if err := a.Register(h, srv); err != nil {
			return nil, err
		}
	}
	return srv, nil
}

// Token gets a token for scope from cred and verifies it as a service of the local Azure a would
// for audience (signature, issuer, audience, expiry), returning its claims. It fails t when cred
// gets no token or a refuses it.
func Token(t testing.TB, a *azurelocal.Azure, cred azcore.TokenCredential, scope, audience string) *entra.Claims {
	t.Helper()
	tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := a.Entra().Verifier().Verify(tok.Token, audience)
	if err != nil {
		t.Fatal(err)
	}
	return claims
}
