package devops_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	gotransport "github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestGoGit: go-git, through a transport that applies the connect-to map, clones with an Entra
// token (http.TokenAuth) once multi_ack is no longer among its unsupported capabilities, as
// against Azure Repos; with its defaults, the emulator refuses it as Azure Repos does.
func TestGoGit(t *testing.T) {
	client.InstallProtocol("https", githttp.NewClient(&http.Client{Transport: local.rt}))
	defer client.InstallProtocol("https", githttp.DefaultClient)
	saved := slices.Clone(gotransport.UnsupportedCapabilities)
	defer func() { gotransport.UnsupportedCapabilities = saved }()

	auth := &githttp.TokenAuth{Token: devopsToken(t, contributor)}
	_, err := gogit.Clone(memory.NewStorage(), nil, &gogit.CloneOptions{URL: repoURL, Auth: auth})
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("go-git's default capabilities: err = %v, want the 400 of a request without multi_ack", err)
	}

	gotransport.UnsupportedCapabilities = []capability.Capability{capability.ThinPack}
	r, err := gogit.Clone(memory.NewStorage(), nil, &gogit.CloneOptions{URL: repoURL, Auth: auth, ReferenceName: "refs/heads/main", SingleBranch: true})
	if err != nil {
		t.Fatal(err)
	}
	head, err := r.Head()
	if err != nil || head.Hash().String() != local.seeded {
		t.Fatalf("HEAD = %v, %v; want %s", head, err, local.seeded)
	}
	// Listing the remote needs no pack, and works with a PAT in Basic credentials too.
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{repoURL}})
	refs, err := remote.List(&gogit.ListOptions{Auth: &githttp.BasicAuth{Username: org, Password: alicePAT}})
	if err != nil {
		t.Fatal(err)
	}
	var tags int
	for _, ref := range refs {
		if ref.Name() == "refs/tags/v1" {
			tags++
		}
	}
	if tags != 1 {
		t.Errorf("refs = %v", refs)
	}
	// A refused token is an authentication error for go-git.
	_, err = gogit.Clone(memory.NewStorage(), nil, &gogit.CloneOptions{URL: repoURL, Auth: &githttp.TokenAuth{Token: devopsToken(t, stranger)}})
	if err == nil || !strings.Contains(err.Error(), "authentication required") {
		t.Errorf("a non-member's token: err = %v", err)
	}
}
