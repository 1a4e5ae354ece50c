package acr_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	localacr "github.com/azimuth-gitops/azimuth/azurelocal/acr"
	localentra "github.com/azimuth-gitops/azimuth/azurelocal/entra"
	"github.com/azimuth-gitops/azimuth/internal/azure/acr"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
)

// push writes a random image to s as the pusher (AcrPush) and returns its digest.
func push(t *testing.T, s string) v1.Hash {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	kc := keychain(t, secretIdentity(pusher), nil)
	if err := remote.Write(mustRef(t, s), img, remoteOptions(t, kc)...); err != nil {
		t.Fatalf("push %s: %v", s, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestIdentityKinds: the keychain gets working credentials for every identity kind that needs no
// Kubernetes, and a pull through it returns the pushed image.
func TestIdentityKinds(t *testing.T) {
	digest := push(t, registry+"/kinds/app:v1")
	tests := []struct {
		name string
		id   func(t *testing.T) identity.Identity
		who  principal
	}{
		{"client secret", func(*testing.T) identity.Identity { return secretIdentity(pusher) }, pusher},
		{"client certificate", func(*testing.T) identity.Identity { return certificateIdentity() }, certPuller},
		{"node managed identity", func(*testing.T) identity.Identity { return nodeIdentity() }, kubelet},
		{"controller workload identity (token file)", controllerWorkloadIdentity, workload},
		{"object workload identity (assertion)", func(*testing.T) identity.Identity { return objectWorkloadIdentity() }, workload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := local.acrLog.Len()
			kc := keychain(t, tt.id(t), nil)
			reg, _ := name.NewRegistry(registry)
			auth, err := kc.Resolve(reg)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := auth.Authorization()
			if err != nil || cfg.Username != acr.Username || cfg.Password == "" {
				t.Fatalf("authorization %q/%d bytes, %v", cfg.Username, len(cfg.Password), err)
			}
			img, err := remote.Image(mustRef(t, registry+"/kinds/app:v1"), remoteOptions(t, kc)...)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := img.Digest(); d != digest {
				t.Errorf("digest %s, want %s", d, digest)
			}
			if n := exchangesBy(start, tt.who); n != 1 {
				t.Errorf("%d exchanges by %s, want 1", n, tt.who.name)
			}
		})
	}
}

// TestMissingAcrPull: an identity without a role gets an *entra.RoleError that names it, AcrPull
// and the command that grants it.
func TestMissingAcrPull(t *testing.T) {
	push(t, registry+"/denied/app:v1")
	id := secretIdentity(nobody)
	kc := keychain(t, id, nil)
	ref := mustRef(t, registry+"/denied/app:v1")
	start := local.acrLog.Len()
	pullErr := kc.Retry(registry, func() error {
		_, err := remote.Image(ref, remoteOptions(t, kc)...)
		return err
	})
	if pullErr == nil {
		t.Fatal("an identity without a role pulled")
	}
	if n := exchangesBy(start, nobody); n != 2 {
		t.Errorf("%d exchanges, want 2: Retry exchanges again after a 401", n)
	}
	err := kc.Explain(pullErr, ref.Context(), acr.Pull)
	var re *entra.RoleError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *entra.RoleError", err)
	}
	if re.Role != "AcrPull" || re.Identity != id.String() || re.ClientID != nobody.clientID || !strings.Contains(re.Service, registry) {
		t.Errorf("role error %+v", re)
	}
	want := `az role assignment create --assignee ` + nobody.clientID + ` --role "AcrPull" --scope $(az acr show --name azimuthtest --query id --output tsv)`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q\nlacks %q", err.Error(), want)
	}
	// The reconcilers' seam knows the credential and the registry, not the keychain.
	cred, cerr := local.provider.Credential(id, nil)
	if cerr != nil {
		t.Fatal(cerr)
	}
	var seam *entra.RoleError
	if !errors.As(acr.Explain(pullErr, cred, registry, acr.Pull), &seam) {
		t.Fatal("acr.Explain gave no RoleError")
	}
	if seam.Identity != re.Identity || seam.Scope != re.Scope || seam.ClientID != re.ClientID || seam.Service != "registry "+registry+" (pull)" {
		t.Errorf("acr.Explain: %+v, keychain: %+v", seam, re)
	}
}

// TestPullButNotPush: AcrPull pulls; a push is refused with a RoleError for AcrPush.
func TestPullButNotPush(t *testing.T) {
	push(t, registry+"/pullonly/app:v1")
	kc := keychain(t, certificateIdentity(), nil)
	ref := mustRef(t, registry+"/pullonly/app:v1")
	if _, err := remote.Image(ref, remoteOptions(t, kc)...); err != nil {
		t.Fatalf("pull: %v", err)
	}
	img, _ := random.Image(64, 1)
	target := mustRef(t, registry+"/pullonly/app:v2")
	err := kc.Retry(registry, func() error { return remote.Write(target, img, remoteOptions(t, kc)...) })
	err = kc.Explain(err, target.Context(), acr.Push)
	var re *entra.RoleError
	if !errors.As(err, &re) || re.Role != "AcrPush" || re.ClientID != certPuller.clientID {
		t.Fatalf("err = %v, want a RoleError for AcrPush", err)
	}
}

// TestInvalidateAndRetry: when the registry stops accepting the refresh token (its signing key
// rotated), Retry drops the refresh token and the Entra token, exchanges a fresh one and succeeds.
func TestInvalidateAndRetry(t *testing.T) {
	push(t, registry+"/rotate/app:v1")
	kc := keychain(t, secretIdentity(rotator), nil)
	ref := mustRef(t, registry+"/rotate/app:v1")
	pull := func() error {
		_, err := remote.Image(ref, remoteOptions(t, kc)...)
		return err
	}
	acrStart := local.acrLog.Len()
	if err := pull(); err != nil {
		t.Fatal(err)
	}
	if err := local.acr.RotateKey(); err != nil {
		t.Fatal(err)
	}
	var terr *transport.Error
	if err := pull(); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("pull with a refresh token of the old key: %v, want a 401", err)
	}
	entraStart := local.entraLog.Len()
	if err := kc.Retry(registry, pull); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if n := exchangesBy(acrStart, rotator); n != 2 {
		t.Errorf("%d exchanges, want 2", n)
	}
	fetched := local.entraLog.Count(entraStart, func(r localentra.Record) bool { return r.ClientID == rotator.clientID && r.Status == 200 })
	if fetched != 1 {
		t.Errorf("%d Entra token requests during Retry, want 1 (Invalidate drops the Entra token too)", fetched)
	}
	if err := pull(); err != nil {
		t.Errorf("pull after the retry: %v", err)
	}
	if n := exchangesBy(acrStart, rotator); n != 2 {
		t.Errorf("%d exchanges after another pull, want still 2", n)
	}
}

// TestOneExchange: many resolutions, at once and one after another, make one exchange.
func TestOneExchange(t *testing.T) {
	start := local.acrLog.Len()
	kc := keychain(t, certificateIdentity(), &acr.KeychainOptions{Cache: acr.NewCache(nil)})
	reg, _ := name.NewRegistry(registry)
	var wg sync.WaitGroup
	passwords := make([]string, 16)
	for i := range passwords {
		wg.Go(func() {
			auth, err := kc.ResolveContext(t.Context(), reg)
			if err != nil {
				t.Error(err)
				return
			}
			cfg, _ := auth.Authorization()
			passwords[i] = cfg.Password
		})
	}
	wg.Wait()
	for range 16 {
		if _, err := kc.Resolve(reg); err != nil {
			t.Fatal(err)
		}
	}
	if n := exchangesBy(start, certPuller); n != 1 {
		t.Errorf("%d exchanges for 32 resolutions, want 1", n)
	}
	for _, p := range passwords {
		if p != passwords[0] {
			t.Fatal("concurrent resolutions got different refresh tokens")
		}
	}
	// A second keychain for the same identity that shares the cache does not exchange again.
	shared := acr.NewCache(nil)
	a := keychain(t, certificateIdentity(), &acr.KeychainOptions{Cache: shared})
	b := keychain(t, certificateIdentity(), &acr.KeychainOptions{Cache: shared})
	start = local.acrLog.Len()
	a.Resolve(reg)
	b.Resolve(reg)
	if n := exchangesBy(start, certPuller); n != 1 {
		t.Errorf("%d exchanges for two keychains sharing a cache, want 1", n)
	}
}

func TestOtherHostsAreAnonymous(t *testing.T) {
	start := local.entraLog.Len()
	kc := keychain(t, secretIdentity(pusher), nil)
	for _, host := range []string{"ghcr.io", "index.docker.io", "myreg.azurecr.com"} {
		reg, _ := name.NewRegistry(host)
		auth, err := kc.Resolve(reg)
		if err != nil || auth != authn.Anonymous {
			t.Errorf("%s: %v, %v; want anonymous", host, auth, err)
		}
	}
	if n := local.entraLog.Count(start, func(localentra.Record) bool { return true }); n != 0 {
		t.Errorf("%d Entra requests for hosts that are not ACR", n)
	}
}

// TestExchangeRefused: a registry that refuses the token's audience gets an error that names the
// identity and says what to change.
func TestExchangeRefused(t *testing.T) {
	// A cloud read from an environment file: its registries take Resource Manager tokens.
	armCloud := entra.AzurePublic
	armCloud.EnvironmentFile = "azurestackcloud.json"
	id := secretIdentity(pusher)
	kc := keychain(t, id, &acr.KeychainOptions{Cloud: &armCloud})
	reg, _ := name.NewRegistry(armless)
	_, err := kc.Resolve(reg)
	var xe *acr.ExchangeError
	if !errors.As(err, &xe) || xe.StatusCode != http.StatusUnauthorized || xe.Identity != id.String() {
		t.Fatalf("err = %v, want an ExchangeError for %s", err, id)
	}
	for _, want := range []string{id.String(), "armless.azurecr.io", "authentication-as-arm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err.Error(), want)
		}
	}
	// The same identity with the registry scope gets in.
	if _, err := keychain(t, id, nil).Resolve(reg); err != nil {
		t.Errorf("with the registry scope: %v", err)
	}
}

// TestEntraFailure: an identity that cannot get an Entra token fails Resolve with Entra's
// explained error, and nothing is exchanged.
func TestEntraFailure(t *testing.T) {
	id := secretIdentity(pusher)
	id.Secret.ClientSecret = "wrong"
	start := local.acrLog.Len()
	reg, _ := name.NewRegistry(registry)
	_, err := keychain(t, id, nil).Resolve(reg)
	var ae *entra.AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), registry) {
		t.Fatalf("err = %v, want an *entra.AuthError mentioning the registry", err)
	}
	if n := local.acrLog.Count(start, func(localacr.Record) bool { return true }); n != 0 {
		t.Errorf("%d registry requests", n)
	}
}
