package acr

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestRequiredAccess(t *testing.T) {
	tests := []struct {
		method, path string
		want         need
	}{
		{"GET", "/v2/", need{}},
		{"GET", "/v2", need{}},
		{"GET", "/v2/_catalog", need{"registry", "catalog", "*"}},
		{"GET", "/v2/hello/manifests/latest", need{"repository", "hello", "pull"}},
		{"HEAD", "/v2/a/b/c/manifests/sha256:abc", need{"repository", "a/b/c", "pull"}},
		{"PUT", "/v2/a/manifests/v1", need{"repository", "a", "push"}},
		{"DELETE", "/v2/a/manifests/sha256:abc", need{"repository", "a", "delete"}},
		{"GET", "/v2/a/blobs/sha256:abc", need{"repository", "a", "pull"}},
		{"POST", "/v2/a/blobs/uploads/", need{"repository", "a", "push"}},
		{"PATCH", "/v2/a/blobs/uploads/1234", need{"repository", "a", "push"}},
		{"PUT", "/v2/x/blobs/uploads/1234", need{"repository", "x", "push"}},
		{"GET", "/v2/team/blobs/app/tags/list", need{"repository", "team/blobs/app", "pull"}},
		{"GET", "/v2/team/manifests/app/manifests/v1", need{"repository", "team/manifests/app", "pull"}},
		{"GET", "/v2/a/referrers/sha256:abc", need{"repository", "a", "pull"}},
		{"GET", "/v2/tags/list", need{}},
		{"GET", "/v2/a/unknown", need{}},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "https://r.azurecr.io"+tt.path, nil)
		if got := requiredAccess(r); got != tt.want {
			t.Errorf("%s %s: %+v, want %+v", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	got := scopeStrings(parseScopes([]string{
		"repository:samples/hello:pull,push registry:catalog:*",
		"repository(plugin):a:pull", "repository:host:5000/x:pull", "bogus", "repository::pull", "repository:a:", ":a:pull",
	}))
	want := []string{"repository:samples/hello:pull,push", "registry:catalog:*", "repository:a:pull", "repository:host:5000/x:pull"}
	if !slices.Equal(got, want) {
		t.Errorf("scopes %v, want %v", got, want)
	}
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer ": "", "": ""} {
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		if got, _ := bearerToken(r); got != want {
			t.Errorf("%q: %q, want %q", header, got, want)
		}
	}
}

// FuzzRequestParsing: scopes and paths come from clients; parsing them never panics, and what
// is parsed renders back to a scope the parser reads the same way.
func FuzzRequestParsing(f *testing.F) {
	for _, s := range []string{"repository:a/b:pull,push", "registry:catalog:*", "/v2/a/blobs/uploads/x", "/v2/a/manifests/v1", "::::", "repository(x):a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, sc := range parseScopes([]string{s}) {
			again, ok := parseScope(sc.String())
			if !ok || again.String() != sc.String() {
				t.Fatalf("scope %q renders as %q, which parses as %q", s, sc.String(), again.String())
			}
		}
		if name, ok := repositoryOf(s); ok && name == "" {
			t.Fatalf("repositoryOf(%q) gave an empty name", s)
		}
	})
}
