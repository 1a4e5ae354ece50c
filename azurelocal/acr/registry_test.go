package acr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// as returns remote options that act as a, with a refresh token from the exchange.
func as(t *testing.T, a app) []remote.Option {
	t.Helper()
	auth := authn.FromConfig(authn.AuthConfig{Username: "00000000-0000-0000-0000-000000000000", Password: exchange(t, registryHost, a)})
	return []remote.Option{remote.WithAuth(auth), remote.WithTransport(local.rt), remote.WithContext(t.Context())}
}

func ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pushRandom(t *testing.T, s string, opts []remote.Option) v1.Image {
	t.Helper()
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref(t, s), img, opts...); err != nil {
		t.Fatalf("push %s: %v", s, err)
	}
	return img
}

func wantStatus(t *testing.T, err error, status int, code transport.ErrorCode) {
	t.Helper()
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != status {
		t.Fatalf("err = %v, want a registry answer %d", err, status)
	}
	if len(terr.Errors) == 0 || terr.Errors[0].Code != code {
		t.Errorf("diagnostics %+v, want %s", terr.Errors, code)
	}
}

// TestPushPull: a real client pushes with AcrPush and pulls with AcrPull, by tag and by digest;
// AcrPull cannot push and no role cannot pull.
func TestPushPull(t *testing.T) {
	img := pushRandom(t, registryHost+"/samples/hello:v1", as(t, pusher))
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pull := as(t, puller)
	for _, s := range []string{registryHost + "/samples/hello:v1", registryHost + "/samples/hello@" + digest.String()} {
		got, err := remote.Image(ref(t, s), pull...)
		if err != nil {
			t.Fatalf("pull %s: %v", s, err)
		}
		if d, _ := got.Digest(); d != digest {
			t.Errorf("pull %s: digest %s, want %s", s, d, digest)
		}
		layers, err := got.Layers()
		if err != nil || len(layers) != 2 {
			t.Fatalf("layers: %v", err)
		}
		if _, err := layers[0].Compressed(); err != nil {
			t.Errorf("blob: %v", err)
		}
	}
	t.Run("AcrPull cannot push", func(t *testing.T) {
		img, _ := random.Image(64, 1)
		err := remote.Write(ref(t, registryHost+"/samples/hello:v2"), img, pull...)
		wantStatus(t, err, http.StatusUnauthorized, transport.UnauthorizedErrorCode)
	})
	t.Run("no role cannot pull", func(t *testing.T) {
		_, err := remote.Image(ref(t, registryHost+"/samples/hello:v1"), as(t, nobody)...)
		wantStatus(t, err, http.StatusUnauthorized, transport.UnauthorizedErrorCode)
	})
	t.Run("unknown tag", func(t *testing.T) {
		_, err := remote.Image(ref(t, registryHost+"/samples/hello:absent"), pull...)
		wantStatus(t, err, http.StatusNotFound, transport.ManifestUnknownErrorCode)
	})
	t.Run("delete needs more than AcrPush", func(t *testing.T) {
		d := ref(t, registryHost+"/samples/hello@"+digest.String())
		wantStatus(t, remote.Delete(d, as(t, pusher)...), http.StatusUnauthorized, transport.UnauthorizedErrorCode)
		if err := remote.Delete(d, as(t, owner)...); err != nil {
			t.Errorf("delete as Contributor: %v", err)
		}
	})
}

// TestTagsPagination: n and last page through the sorted tags, with a Link header to the next
// page; go-containerregistry's List follows it.
func TestTagsPagination(t *testing.T) {
	opts := as(t, pusher)
	img := pushRandom(t, registryHost+"/paged/app:a", opts)
	want := []string{"a"}
	for _, tag := range []string{"b", "c", "d", "e"} {
		if err := remote.Tag(ref(t, registryHost+"/paged/app:a").Context().Tag(tag), img, opts...); err != nil {
			t.Fatal(err)
		}
		want = append(want, tag)
	}
	access := accessToken(t, registryHost, exchange(t, registryHost, puller), "repository:paged/app:pull")
	tests := []struct {
		query    string
		want     []string
		wantLink string
	}{
		{"", want, ""},
		{"?n=2", []string{"a", "b"}, `</v2/paged/app/tags/list?last=b&n=2>; rel="next"`},
		{"?n=2&last=b", []string{"c", "d"}, `</v2/paged/app/tags/list?last=d&n=2>; rel="next"`},
		{"?n=2&last=d", []string{"e"}, ""},
		{"?last=e", []string{}, ""},
		{"?last=bb", []string{"c", "d", "e"}, ""},
		{"?n=0", []string{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := get(t, "https://"+registryHost+"/v2/paged/app/tags/list"+tt.query, access)
			var list struct {
				Name string   `json:"name"`
				Tags []string `json:"tags"`
			}
			if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d, body %s", resp.StatusCode, body)
			}
			if list.Name != "paged/app" || !slices.Equal(list.Tags, tt.want) {
				t.Errorf("list %+v, want %v", list, tt.want)
			}
			if got := resp.Header.Get("Link"); got != tt.wantLink {
				t.Errorf("Link %q, want %q", got, tt.wantLink)
			}
		})
	}
	t.Run("invalid n", func(t *testing.T) {
		resp, body := get(t, "https://"+registryHost+"/v2/paged/app/tags/list?n=-1", access)
		if resp.StatusCode != http.StatusBadRequest || decodeErrors(t, body).Errors[0].Code != "PAGINATION_NUMBER_INVALID" {
			t.Errorf("status %d, body %s", resp.StatusCode, body)
		}
	})
	t.Run("remote.List follows the links", func(t *testing.T) {
		tags, err := remote.List(ref(t, registryHost+"/paged/app:a").Context(), append(as(t, puller), remote.WithPageSize(2))...)
		if err != nil || !slices.Equal(tags, want) {
			t.Errorf("tags %v, %v", tags, err)
		}
	})
}

// TestCatalog: the catalog needs registry:catalog:*, which AcrPull grants, and pages like tags.
func TestCatalog(t *testing.T) {
	opts := as(t, pusher)
	for i := range 3 {
		pushRandom(t, fmt.Sprintf("%s/catalog/repo%d:v1", registryHost, i), opts)
	}
	reg, err := name.NewRegistry(registryHost)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := remote.Catalog(t.Context(), reg, as(t, puller)...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if !slices.Contains(repos, fmt.Sprintf("catalog/repo%d", i)) {
			t.Errorf("catalog %v lacks catalog/repo%d", repos, i)
		}
	}
	if !slices.IsSorted(repos) {
		t.Errorf("catalog %v is not sorted", repos)
	}
	access := accessToken(t, registryHost, exchange(t, registryHost, puller), "registry:catalog:*")
	resp, body := get(t, "https://"+registryHost+"/v2/_catalog?n=1&last=catalog/repo0", access)
	if resp.StatusCode != 200 || string(body) != `{"repositories":["catalog/repo1"]}` ||
		resp.Header.Get("Link") != `</v2/_catalog?last=catalog%2Frepo1&n=1>; rel="next"` {
		t.Errorf("status %d, Link %q, body %s", resp.StatusCode, resp.Header.Get("Link"), body)
	}
	if _, err := remote.Catalog(t.Context(), reg, as(t, nobody)...); err == nil {
		t.Error("a principal without a role listed the catalog")
	}
}

// TestConcurrentUploads: a client uploading several layers at once over one HTTP/2 connection,
// as crane push does, finishes. The content store handles one upload at a time; a waiting upload
// whose body was left unread held the connection's flow-control window, so the upload being
// stored could not receive the rest of its body.
func TestConcurrentUploads(t *testing.T) {
	img, err := random.Image(4<<20, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts := append(as(t, pusher), remote.WithJobs(4), remote.WithContext(ctx))
	if err := remote.Write(ref(t, registryHost+"/samples/layers:v1"), img, opts...); err != nil {
		t.Fatalf("push of 4 layers of 4 MiB, 4 at a time: %v", err)
	}
}
