package bucket

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/azimuth-gitops/azimuth/internal/azure/blob"
)

// fakeService is an in-memory blob service at the transport seam: one container's blobs, listed
// flat with a prefix in one page and downloaded whole. It emulates nothing else (no auth, no
// markers, no ranges); the integration tests run against azurelocal/blob.
type fakeService struct {
	mu        sync.Mutex
	blobs     map[string]fakeBlob
	downloads []string
	// gone are blobs listed but deleted before their download.
	gone map[string]bool
}

type fakeBlob struct {
	content string
	etag    string
}

func newFakeService(files map[string]string) *fakeService {
	s := &fakeService{blobs: map[string]fakeBlob{}, gone: map[string]bool{}}
	for name, content := range files {
		s.put(name, content)
	}
	return s
}

func (s *fakeService) put(name, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.blobs[name]
	etag := fmt.Sprintf("0x8DC%012X", len(s.blobs)*1000+len(content)+len(old.etag))
	if old.etag == etag {
		etag += "1"
	}
	s.blobs[name] = fakeBlob{content, etag}
}

func (s *fakeService) takeDownloads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.downloads
	s.downloads = nil
	slices.Sort(d)
	return d
}

func (s *fakeService) Do(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := req.URL.Query()
	respond := func(status int, header http.Header, body string) (*http.Response, error) {
		if header == nil {
			header = http.Header{}
		}
		return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: header, Request: req,
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, nil
	}
	if q.Get("comp") == "list" {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>`)
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range s.blobs {
				if strings.HasPrefix(n, q.Get("prefix")) && !yield(n) {
					return
				}
			}
		})
		for _, n := range names {
			fmt.Fprintf(&b, "<Blob><Name>%s</Name><Properties><Etag>%s</Etag><Content-Length>%d</Content-Length></Properties></Blob>",
				html.EscapeString(n), s.blobs[n].etag, len(s.blobs[n].content))
		}
		b.WriteString(`</Blobs><NextMarker /></EnumerationResults>`)
		return respond(200, http.Header{"Content-Type": {"application/xml"}}, b.String())
	}
	name, _ := url.PathUnescape(strings.TrimPrefix(req.URL.EscapedPath(), "/podinfo/"))
	bl, ok := s.blobs[name]
	if !ok || s.gone[name] {
		return respond(404, http.Header{"x-ms-error-code": {"BlobNotFound"}},
			`<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>`)
	}
	s.downloads = append(s.downloads, name)
	return respond(200, http.Header{"Etag": {`"` + bl.etag + `"`}, "Content-Length": {fmt.Sprint(len(bl.content))}}, bl.content)
}

// open returns a Bucket on the fake service, as a shared key.
func (s *fakeService) open(t *testing.T) *Bucket {
	t.Helper()
	c, err := blob.NewContainer("https://acct.blob.core.windows.net", "podinfo", blob.Auth{AccountKey: "a2V5"}, &blob.ContainerOptions{Transport: s})
	if err != nil {
		t.Fatal(err)
	}
	return &Bucket{container: c}
}
