package blob

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// level is where an operation acts: the account's Blob service, a container, or a blob. Role
// assignments reach down to containers, so a blob's operations are checked at its container.
type level int

const (
	levelAccount level = iota
	levelContainer
	levelBlob
)

// operation is a Blob REST operation and the permission Azure requires for it from a caller with
// an Entra token: an action (containers and the service, which roles grant under actions) or a
// data action (blobs).
type operation struct {
	Name   string
	Action string
	Data   bool
}

// request is what a request addresses, as the Blob service reads its URL.
type request struct {
	Container, Blob string
	Level           level
	Op              operation
}

type opKey struct {
	level           level
	method          string // HEAD is looked up as GET
	restype, comp   string
	versionSelected bool // DELETE of a version (versionid=)
}

func control(name, action string) operation { return operation{name, action, false} }
func data(name, action string) operation    { return operation{name, action, true} }

// operations are the permissions of the Blob REST API, as each operation's documentation lists
// them ("Authorization" → "Permissions").
var operations = map[opKey]operation{
	{levelAccount, "GET", "", "list", false}:                      control("ListContainers", rbac.ActionBlobContainerRead),
	{levelAccount, "GET", "service", "properties", false}:         control("GetBlobServiceProperties", rbac.ActionBlobServiceRead),
	{levelAccount, "PUT", "service", "properties", false}:         control("SetBlobServiceProperties", rbac.ActionBlobServiceWrite),
	{levelAccount, "GET", "service", "stats", false}:              control("GetBlobServiceStats", rbac.ActionBlobServiceRead),
	{levelAccount, "POST", "service", "userdelegationkey", false}: control("GetUserDelegationKey", rbac.ActionBlobDelegationKey),
	{levelAccount, "GET", "account", "properties", false}:         data("GetAccountInformation", rbac.DataActionBlobRead),
	{levelAccount, "GET", "", "blobs", false}:                     data("FindBlobsByTags", rbac.DataActionBlobFilter),
	{levelAccount, "POST", "", "batch", false}:                    data("BlobBatch", rbac.DataActionBlobDelete),

	{levelContainer, "PUT", "container", "", false}:         control("CreateContainer", rbac.ActionBlobContainerWrite),
	{levelContainer, "GET", "container", "", false}:         control("GetContainerProperties", rbac.ActionBlobContainerRead),
	{levelContainer, "DELETE", "container", "", false}:      control("DeleteContainer", rbac.ActionBlobContainerDelete),
	{levelContainer, "GET", "container", "metadata", false}: control("GetContainerMetadata", rbac.ActionBlobContainerRead),
	{levelContainer, "PUT", "container", "metadata", false}: control("SetContainerMetadata", rbac.ActionBlobContainerWrite),
	{levelContainer, "GET", "container", "acl", false}:      control("GetContainerACL", rbac.ActionBlobContainerRead),
	{levelContainer, "PUT", "container", "acl", false}:      control("SetContainerACL", rbac.ActionBlobContainerWrite),
	{levelContainer, "PUT", "container", "lease", false}:    control("LeaseContainer", rbac.ActionBlobContainerWrite),
	{levelContainer, "PUT", "container", "undelete", false}: control("RestoreContainer", rbac.ActionBlobContainerWrite),
	{levelContainer, "PUT", "container", "rename", false}:   control("RenameContainer", rbac.ActionBlobContainerWrite),
	{levelContainer, "GET", "container", "list", false}:     data("ListBlobs", rbac.DataActionBlobRead),
	{levelContainer, "GET", "container", "blobs", false}:    data("FindBlobsByTags", rbac.DataActionBlobFilter),
	{levelContainer, "POST", "container", "batch", false}:   data("BlobBatch", rbac.DataActionBlobDelete),
	{levelContainer, "GET", "account", "properties", false}: data("GetAccountInformation", rbac.DataActionBlobRead),

	{levelBlob, "GET", "", "", false}:                  data("GetBlob", rbac.DataActionBlobRead),
	{levelBlob, "GET", "", "metadata", false}:          data("GetBlobMetadata", rbac.DataActionBlobRead),
	{levelBlob, "GET", "", "blocklist", false}:         data("GetBlockList", rbac.DataActionBlobRead),
	{levelBlob, "GET", "", "pagelist", false}:          data("GetPageRanges", rbac.DataActionBlobRead),
	{levelBlob, "POST", "", "query", false}:            data("QueryBlobContents", rbac.DataActionBlobRead),
	{levelBlob, "GET", "", "tags", false}:              data("GetBlobTags", rbac.DataActionBlobTagsRead),
	{levelBlob, "PUT", "", "tags", false}:              data("SetBlobTags", rbac.DataActionBlobTagsWrite),
	{levelBlob, "PUT", "", "", false}:                  data("PutBlob", rbac.DataActionBlobWrite), // and Copy Blob
	{levelBlob, "PUT", "", "block", false}:             data("PutBlock", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "blocklist", false}:         data("PutBlockList", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "page", false}:              data("PutPage", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "appendblock", false}:       data("AppendBlock", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "metadata", false}:          data("SetBlobMetadata", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "properties", false}:        data("SetBlobProperties", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "lease", false}:             data("LeaseBlob", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "snapshot", false}:          data("SnapshotBlob", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "tier", false}:              data("SetBlobTier", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "copy", false}:              data("AbortCopyBlob", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "incrementalcopy", false}:   data("IncrementalCopyBlob", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "expiry", false}:            data("SetBlobExpiry", rbac.DataActionBlobWrite),
	{levelBlob, "PUT", "", "undelete", false}:          data("UndeleteBlob", rbac.DataActionBlobWrite),
	{levelBlob, "DELETE", "", "", false}:               data("DeleteBlob", rbac.DataActionBlobDelete),
	{levelBlob, "DELETE", "", "", true}:                data("DeleteBlobVersion", rbac.DataActionBlobDeleteVersion),
	{levelBlob, "GET", "account", "properties", false}: data("GetAccountInformation", rbac.DataActionBlobRead),
}

// classify reads what a request addresses and which operation it is. The path is the decoded
// URL path: /CONTAINER/BLOB, where the blob's name may hold slashes. An operation this table
// does not know is judged by its method, as the nearest data action: GET and HEAD read blobs,
// DELETE deletes them, anything else writes them.
func classify(method, path string, query url.Values) request {
	var r request
	rest := strings.TrimPrefix(path, "/")
	r.Container, r.Blob, _ = strings.Cut(rest, "/")
	switch {
	case r.Container == "":
		r.Level = levelAccount
	case r.Blob == "":
		r.Level = levelContainer
	default:
		r.Level = levelBlob
	}
	key := opKey{
		level: r.Level, method: method,
		restype: strings.ToLower(query.Get("restype")), comp: strings.ToLower(query.Get("comp")),
		versionSelected: method == http.MethodDelete && query.Get("versionid") != "",
	}
	if method == http.MethodHead {
		key.method = http.MethodGet
	}
	op, ok := operations[key]
	switch {
	case ok && method == http.MethodHead && op.Name == "GetBlob":
		op.Name = "GetBlobProperties"
	case !ok:
		op = fallback(method)
	}
	r.Op = op
	return r
}

func fallback(method string) operation {
	switch method {
	case http.MethodGet, http.MethodHead:
		return data("", rbac.DataActionBlobRead)
	case http.MethodDelete:
		return data("", rbac.DataActionBlobDelete)
	}
	return data("", rbac.DataActionBlobWrite)
}

// resourceID is the ARM ID the request's permission is checked at: the account for its service
// operations, else the container (role assignments reach no lower).
func (r request) resourceID(accountID string) string {
	if r.Level == levelAccount {
		return accountID
	}
	return accountID + "/blobServices/default/containers/" + r.Container
}
