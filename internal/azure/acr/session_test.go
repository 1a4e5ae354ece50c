package acr_test

import (
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	localacr "github.com/azimuth-gitops/azimuth/azurelocal/acr"
)

// TestSessionKeepsItsToken is what internal/oci's sessions rely on, against the ACR emulator:
// go-containerregistry's handshake, made once and passed to later requests as their transport,
// sends them with the repository token it got, so that reconciles after the first ask ACR for
// no token. (A token the registry refuses later is renewed by the handshake's transport on the
// 401, and a refusal of the renewal drops the session: internal/oci.)
func TestSessionKeepsItsToken(t *testing.T) {
	ref := mustRef(t, registry+"/session/app:1.0.0")
	want := push(t, ref.String())
	kc := keychain(t, nodeIdentity(), nil)
	auth, err := kc.Resolve(ref.Context())
	if err != nil {
		t.Fatal(err)
	}
	tokens := func(start int) int {
		return local.acrLog.Count(start, func(r localacr.Record) bool {
			return r.Path == "/oauth2/token" && r.PrincipalID == kubelet.objectID && r.Status == http.StatusOK
		})
	}

	start := local.acrLog.Len()
	session, err := transport.NewWithContext(t.Context(), ref.Context().Registry, auth, local.rt, []string{ref.Context().Scope(transport.PullScope)})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // three reconciles' HEADs
		desc, err := remote.Head(ref, remote.WithContext(t.Context()), remote.WithTransport(session))
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != want {
			t.Fatalf("HEAD gave %s, want %s", desc.Digest, want)
		}
	}
	if n := tokens(start); n != 1 {
		t.Errorf("the handshake and three HEADs asked for %d repository tokens, want 1", n)
	}
}
