package keyvault

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// maxBody bounds request bodies; the largest real one, an import of a 4096-bit key, is a few
// kilobytes.
const maxBody = 1 << 20

// Key Vault's answers, as azkeys reads them.

type jsonWebKey struct {
	KID    string   `json:"kid"`
	Kty    string   `json:"kty"`
	KeyOps []string `json:"key_ops"`
	N      string   `json:"n"`
	E      string   `json:"e"`
}

type keyAttributes struct {
	Enabled         bool   `json:"enabled"`
	NotBefore       *int64 `json:"nbf,omitempty"`
	Expires         *int64 `json:"exp,omitempty"`
	Created         int64  `json:"created"`
	Updated         int64  `json:"updated"`
	RecoveryLevel   string `json:"recoveryLevel"`
	RecoverableDays int    `json:"recoverableDays"`
	Exportable      bool   `json:"exportable"`
}

type keyBundle struct {
	Key        jsonWebKey        `json:"key"`
	Attributes keyAttributes     `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
}

type keyItem struct {
	KID        string            `json:"kid"`
	Attributes keyAttributes     `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
}

type keyList struct {
	Value    []keyItem `json:"value"`
	NextLink *string   `json:"nextLink"`
}

// createRequest is the body of POST /keys/{name}/create.
type createRequest struct {
	Kty            *string  `json:"kty"`
	KeySize        *int     `json:"key_size"`
	PublicExponent *int     `json:"public_exponent"`
	KeyOps         []string `json:"key_ops"`
	Attributes     *struct {
		Enabled   *bool  `json:"enabled"`
		NotBefore *int64 `json:"nbf"`
		Expires   *int64 `json:"exp"`
	} `json:"attributes"`
	Tags map[string]string `json:"tags"`
}

// keyOps are the key operations Key Vault knows, as it spells them.
var keyOps = []string{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"}

func kid(v vault, name, version string) string {
	id := v.baseURL() + "/keys/" + name
	if version != "" {
		id += "/" + version
	}
	return id
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func attributesOf(kv *keyVersion) keyAttributes {
	// Soft-delete is on for every new vault, with 90 days of retention by default.
	return keyAttributes{
		Enabled: kv.Enabled, NotBefore: kv.NotBefore, Expires: kv.Expires, Created: kv.Created, Updated: kv.Updated,
		RecoveryLevel: "Recoverable+Purgeable", RecoverableDays: 90,
	}
}

func bundleOf(v vault, name string, kv *keyVersion) keyBundle {
	pub := kv.key.PublicKey
	return keyBundle{
		Key: jsonWebKey{
			KID: kid(v, name, kv.Version), Kty: "RSA", KeyOps: slices.Clone(kv.Ops),
			N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes()),
		},
		Attributes: attributesOf(kv),
		Tags:       kv.Tags,
	}
}

// readJSON decodes a request body into dst, refusing what Key Vault refuses: a body that is not
// JSON, or a property of the wrong type.
func readJSON(r *http.Request, dst any) *kvError {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return badParameter(fmt.Sprintf("The request body could not be read, or is larger than %d bytes.", maxBody))
	}
	return decodeJSON(data, dst)
}

func decodeJSON(data []byte, dst any) *kvError {
	if err := json.Unmarshal(data, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return badParameter(fmt.Sprintf("Property '%s' has invalid value\r\n", typeErr.Field))
		}
		return badParameter("The request body is not a valid JSON object.")
	}
	return nil
}

func (s *Server) createKey(r *http.Request, v vault, st *store, rt route) (any, *kvError) {
	var req createRequest
	if e := readJSON(r, &req); e != nil {
		return nil, e
	}
	bits, ops, e := checkCreate(req)
	if e != nil {
		return nil, e
	}
	enabled := true
	var nbf, exp *int64
	if a := req.Attributes; a != nil {
		if a.Enabled != nil {
			enabled = *a.Enabled
		}
		nbf, exp = a.NotBefore, a.Expires
	}
	kv, err := newKeyVersion(bits, ops, enabled, nbf, exp, req.Tags, s.now().Unix())
	if err != nil {
		return nil, errInternal(err)
	}
	if err := st.add(rt.key, kv); err != nil {
		s.log.Error("keyvault: write key store", "vault", v.name, "error", err)
		return nil, errInternal(err)
	}
	name, _, _ := st.version(rt.key, kv.Version)
	return bundleOf(v, name, kv), nil
}

// checkCreate checks a create request: an RSA key of a size Key Vault makes, with known key
// operations. It returns the size and the operations (nil for the default ones).
func checkCreate(req createRequest) (int, []string, *kvError) {
	switch {
	case req.Kty == nil || *req.Kty == "":
		return 0, nil, badParameter("Property 'kty' is required.\r\n")
	case *req.Kty != "RSA":
		return 0, nil, &kvError{status: http.StatusBadRequest, code: "BadParameter", inner: "KeyTypeNotSupported",
			message: fmt.Sprintf("Invalid kty value: %s (the local Key Vault emulates RSA keys only)", *req.Kty)}
	}
	bits := 2048
	if req.KeySize != nil {
		bits = *req.KeySize
	}
	if !slices.Contains(directory.VaultKeySizes, bits) {
		return 0, nil, badParameter(fmt.Sprintf("Invalid key_size value: %d. RSA keys are 2048, 3072 or 4096 bits.", bits))
	}
	if req.PublicExponent != nil && *req.PublicExponent != 65537 {
		return 0, nil, badParameter(fmt.Sprintf("Invalid public_exponent value: %d. The local Key Vault makes RSA keys with the exponent 65537.", *req.PublicExponent))
	}
	var ops []string
	for _, op := range req.KeyOps {
		i := slices.IndexFunc(keyOps, func(k string) bool { return strings.EqualFold(k, op) })
		if i < 0 {
			return 0, nil, badParameter("Property 'key_ops' has invalid value\r\n")
		}
		ops = append(ops, keyOps[i])
	}
	if req.KeyOps != nil && ops == nil {
		ops = []string{}
	}
	return bits, ops, nil
}

func (s *Server) getKey(_ *http.Request, v vault, st *store, rt route) (any, *kvError) {
	name, kv, ok := st.version(rt.key, rt.version)
	if !ok {
		return nil, errKeyNotFound(strings.TrimSuffix(rt.key+"/"+rt.version, "/"))
	}
	return bundleOf(v, name, kv), nil
}

func (s *Server) listKeys(r *http.Request, v vault, st *store, _ route) (any, *kvError) {
	keys := st.latest()
	start, e := skipTo(r, func(marker string) int {
		// The first key after the marker, so that keys made between pages do not shift them.
		return sortIndex(keys, marker)
	})
	if e != nil {
		return nil, e
	}
	n, e := s.pageSizeOf(r)
	if e != nil {
		return nil, e
	}
	out := keyList{Value: []keyItem{}}
	end := min(start+n, len(keys))
	for _, k := range keys[start:end] {
		out.Value = append(out.Value, keyItem{KID: kid(v, k.name, ""), Attributes: attributesOf(k.kv), Tags: k.kv.Tags})
	}
	if end < len(keys) {
		out.NextLink = nextLink(r, v, "/keys", strings.ToLower(keys[end-1].name), n)
	}
	return out, nil
}

func (s *Server) listVersions(r *http.Request, v vault, st *store, rt route) (any, *kvError) {
	versions, ok := st.versions(rt.key)
	if !ok {
		// Key Vault lists no versions of a key it does not have: an empty page.
		return keyList{Value: []keyItem{}}, nil
	}
	start, e := skipTo(r, func(marker string) int {
		i, err := strconv.Atoi(marker)
		if err != nil || i < 0 || i > len(versions) {
			return -1
		}
		return i
	})
	if e != nil {
		return nil, e
	}
	n, e := s.pageSizeOf(r)
	if e != nil {
		return nil, e
	}
	out := keyList{Value: []keyItem{}}
	end := min(start+n, len(versions))
	for _, k := range versions[start:end] {
		out.Value = append(out.Value, keyItem{KID: kid(v, k.name, k.kv.Version), Attributes: attributesOf(k.kv), Tags: k.kv.Tags})
	}
	if end < len(versions) {
		out.NextLink = nextLink(r, v, "/keys/"+versions[0].name+"/versions", strconv.Itoa(end), n)
	}
	return out, nil
}

func sortIndex(keys []namedVersion, marker string) int {
	i, _ := slices.BinarySearchFunc(keys, marker, func(k namedVersion, m string) int {
		return strings.Compare(strings.ToLower(k.name), m)
	})
	if i < len(keys) && strings.ToLower(keys[i].name) == marker {
		i++
	}
	return i
}

// skipTo returns where a page starts: 0, or the index at reads from the $skiptoken of a
// nextLink. A token that is not one of ours is refused.
func skipTo(r *http.Request, at func(marker string) int) (int, *kvError) {
	tok := r.URL.Query().Get("$skiptoken")
	if tok == "" {
		return 0, nil
	}
	marker, err := base64.RawURLEncoding.DecodeString(tok)
	i := -1
	if err == nil {
		i = at(string(marker))
	}
	if i < 0 {
		return 0, badParameter("The $skiptoken query parameter is not one this vault issued; follow the nextLink of the previous page.")
	}
	return i, nil
}

// pageSizeOf returns the page size: maxresults when the client sets it (1 to 25, as Key Vault
// allows), the server's otherwise.
func (s *Server) pageSizeOf(r *http.Request) (int, *kvError) {
	m := r.URL.Query().Get("maxresults")
	if m == "" {
		return s.pageSize, nil
	}
	n, err := strconv.Atoi(m)
	if err != nil || n < 1 || n > DefaultPageSize {
		return 0, badParameter(fmt.Sprintf("Invalid maxresults value: %s. It must be between 1 and %d.", m, DefaultPageSize))
	}
	return min(n, s.pageSize), nil
}

// nextLink is the URL of the next page, in Key Vault's form:
// https://VAULT.vault.azure.net:443/keys?api-version=V&$skiptoken=T&maxresults=N.
func nextLink(r *http.Request, v vault, path, marker string, n int) *string {
	link := fmt.Sprintf("%s:443%s?api-version=%s&$skiptoken=%s&maxresults=%d",
		v.baseURL(), path, r.URL.Query().Get("api-version"), b64([]byte(marker)), n)
	return &link
}
