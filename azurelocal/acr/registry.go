package acr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// defaultCatalogPage is how many repositories /v2/_catalog lists when n is absent, as the
// distribution registry does.
const defaultCatalogPage = 100

// serveRegistry checks the access token of a /v2/ request and hands the request to the
// registry's store.
func (s *Server) serveRegistry(w http.ResponseWriter, r *http.Request, reg target) {
	n := requiredAccess(r)
	token, ok := bearerToken(r)
	if !ok {
		challenge(w, reg, n, challengeNone, unauthorizedMessage)
		return
	}
	c, err := s.verify(token, reg.host, true)
	if err != nil {
		s.log.Debug("azurelocal/acr: access token refused", "registry", reg.host, "path", r.URL.Path, "reason", refusal(err))
		challenge(w, reg, n, challengeInvalidToken, unauthorizedMessage)
		return
	}
	if n.Type != "" && !allows(*c.Access, n.Type, n.Name, n.Action) {
		s.log.Debug("azurelocal/acr: access token lacks the access", "registry", reg.host, "need", n.scope(), "principal", c.Sub)
		challenge(w, reg, n, challengeInsufficientScope, unauthorizedMessage)
		return
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	store := s.store(reg.name)
	switch {
	case r.Method == http.MethodGet && n.Type == "registry":
		serveCatalog(w, r, store)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/tags/list"):
		serveTags(w, r, store, n.Name)
	default:
		if !readBody(w, r) {
			return
		}
		store.ServeHTTP(w, r)
	}
}

// maxUpload bounds the body of one upload request (a layer pushed whole, or a chunk). The
// content store keeps blobs in memory, so a larger one would not fit anyway.
const maxUpload = 1 << 30

// readBody reads an upload's body before the content store sees it, and reports whether the
// request goes on. The store handles one upload at a time and reads the body while it holds its
// lock; over HTTP/2 the body of an upload waiting for the lock, left unread, fills the
// connection's flow-control window, and the upload holding the lock never receives the rest of
// its own body (crane push sends several layers at once on one connection). A body larger than
// maxUpload is refused as the distribution API does.
func readBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody || (r.Method != http.MethodPatch && r.Method != http.MethodPut && r.Method != http.MethodPost) {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUpload+1))
	r.Body.Close()
	switch {
	case err != nil:
		writeErrors(w, http.StatusBadRequest, acrError{Code: "BLOB_UPLOAD_INVALID", Message: "the upload's body could not be read: " + err.Error()})
		return false
	case len(body) > maxUpload:
		writeErrors(w, http.StatusRequestEntityTooLarge, acrError{Code: "SIZE_INVALID", Message: fmt.Sprintf("an upload request of the local registry holds at most %d bytes; push the layer in chunks", maxUpload)})
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// requiredAccess maps a /v2/ request to the access it needs: pull to read, push to write, delete
// to delete, registry:catalog:* to list repositories. /v2/ itself needs only a valid token.
func requiredAccess(r *http.Request) need {
	path := r.URL.Path
	if path == "/v2/_catalog" {
		return need{Type: "registry", Name: "catalog", Action: "*"}
	}
	name, ok := repositoryOf(path)
	if !ok {
		return need{}
	}
	action := "pull"
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		action = "push"
	case http.MethodDelete:
		action = "delete"
	}
	return need{Type: "repository", Name: name, Action: action}
}

// repositoryOf finds the repository name in a registry API path:
// /v2/NAME/manifests/REF, /v2/NAME/blobs/DIGEST, /v2/NAME/blobs/uploads/[ID], /v2/NAME/tags/list
// and /v2/NAME/referrers/DIGEST. A name may itself contain "blobs" or "manifests" components, so
// the shape of the path's end decides.
func repositoryOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", false
	}
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok && name != "" {
		return name, true
	}
	if i := strings.LastIndex(rest, "/blobs/uploads"); i > 0 {
		tail := rest[i+len("/blobs/uploads"):]
		if tail == "" || tail == "/" || strings.Count(tail, "/") == 1 {
			return rest[:i], true
		}
	}
	for _, marker := range []string{"/manifests/", "/blobs/", "/referrers/"} {
		if i := strings.LastIndex(rest, marker); i > 0 {
			if ref := rest[i+len(marker):]; ref != "" && !strings.Contains(ref, "/") {
				return rest[:i], true
			}
		}
	}
	return "", false
}

// bufferedResponse captures what the store answers, so a listing can be paged.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// fetchAll asks the store for path with query and returns the whole answer.
func fetchAll(store http.Handler, r *http.Request, path, query string) *bufferedResponse {
	inner := r.Clone(r.Context())
	inner.URL = &url.URL{Path: path, RawQuery: query}
	inner.RequestURI = inner.URL.RequestURI()
	b := &bufferedResponse{header: http.Header{}}
	store.ServeHTTP(b, inner)
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b
}

func copyResponse(w http.ResponseWriter, b *bufferedResponse) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// page reads n and last and cuts the sorted list after last to at most n entries. more reports
// whether entries remain after the page.
func page(all []string, q url.Values, defaultN int) (items []string, n int, more bool, err error) {
	n = defaultN
	if ns := q.Get("n"); ns != "" {
		if n, err = strconv.Atoi(ns); err != nil || n < 0 {
			return nil, 0, false, fmt.Errorf("invalid number of results requested: %q", ns)
		}
	}
	slices.Sort(all)
	if last := q.Get("last"); last != "" {
		i, _ := slices.BinarySearch(all, last)
		for i < len(all) && all[i] <= last {
			i++
		}
		all = all[i:]
	}
	if n >= 0 && n < len(all) {
		return all[:n], n, n > 0, nil
	}
	return all, n, false, nil
}

// nextLink is the Link header of the next page, as the distribution spec writes it.
func nextLink(path string, items []string, n int) string {
	q := url.Values{"last": {items[len(items)-1]}, "n": {strconv.Itoa(n)}}
	return fmt.Sprintf(`<%s?%s>; rel="next"`, path, q.Encode())
}

// serveTags lists a repository's tags with n/last pagination and a Link header, which the
// go-containerregistry store does not do.
func serveTags(w http.ResponseWriter, r *http.Request, store http.Handler, name string) {
	b := fetchAll(store, r, r.URL.Path, "")
	if b.status != http.StatusOK {
		copyResponse(w, b)
		return
	}
	var list struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(b.body.Bytes(), &list); err != nil {
		writeErrors(w, http.StatusInternalServerError, acrError{Code: "UNKNOWN", Message: "reading the tag list: " + err.Error()})
		return
	}
	tags, n, more, err := page(list.Tags, r.URL.Query(), -1)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, acrError{Code: "PAGINATION_NUMBER_INVALID", Message: err.Error()})
		return
	}
	if more {
		w.Header().Set("Link", nextLink(r.URL.Path, tags, n))
	}
	if tags == nil {
		tags = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "tags": tags})
}

// serveCatalog lists repositories, sorted, with n/last pagination and a Link header.
func serveCatalog(w http.ResponseWriter, r *http.Request, store http.Handler) {
	b := fetchAll(store, r, "/v2/_catalog", "n="+strconv.Itoa(1<<30))
	if b.status != http.StatusOK {
		copyResponse(w, b)
		return
	}
	var list struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(b.body.Bytes(), &list); err != nil {
		writeErrors(w, http.StatusInternalServerError, acrError{Code: "UNKNOWN", Message: "reading the catalog: " + err.Error()})
		return
	}
	repos, n, more, err := page(list.Repositories, r.URL.Query(), defaultCatalogPage)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, acrError{Code: "PAGINATION_NUMBER_INVALID", Message: err.Error()})
		return
	}
	if more {
		w.Header().Set("Link", nextLink(r.URL.Path, repos, n))
	}
	if repos == nil {
		repos = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"repositories": repos})
}
