package keyvault

import (
	"net/http"
	"strings"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/rbac"
)

// operation is one call of the keys API: what it needs (a data action under the rbac model, a key
// permission under access policies, a key operation the key must allow) and how it is answered.
type operation struct {
	name       string
	method     string
	dataAction string
	permission string
	keyOp      string
	// vaultScope marks operations on the vault (list) rather than on one key.
	vaultScope bool
	handle     func(s *Server, r *http.Request, v vault, st *store, rt route) (any, *kvError)
}

// Operations, by the name of their last path segment (and Record.Operation).
var (
	opCreate   = operation{name: "create", method: http.MethodPost, dataAction: rbac.DataActionKeyCreate, permission: "create", handle: (*Server).createKey}
	opGet      = operation{name: "get", method: http.MethodGet, dataAction: rbac.DataActionKeyRead, permission: "get", handle: (*Server).getKey}
	opList     = operation{name: "list", method: http.MethodGet, dataAction: rbac.DataActionKeyRead, permission: "list", vaultScope: true, handle: (*Server).listKeys}
	opVersions = operation{name: "versions", method: http.MethodGet, dataAction: rbac.DataActionKeyRead, permission: "list", handle: (*Server).listVersions}

	cryptoOps = map[string]operation{
		"encrypt":   {name: "encrypt", method: http.MethodPost, dataAction: rbac.DataActionKeyEncrypt, permission: "encrypt", keyOp: "encrypt", handle: (*Server).encrypt},
		"decrypt":   {name: "decrypt", method: http.MethodPost, dataAction: rbac.DataActionKeyDecrypt, permission: "decrypt", keyOp: "decrypt", handle: (*Server).decrypt},
		"wrapkey":   {name: "wrapkey", method: http.MethodPost, dataAction: rbac.DataActionKeyWrap, permission: "wrapKey", keyOp: "wrapKey", handle: (*Server).encrypt},
		"unwrapkey": {name: "unwrapkey", method: http.MethodPost, dataAction: rbac.DataActionKeyUnwrap, permission: "unwrapKey", keyOp: "unwrapKey", handle: (*Server).decrypt},
	}
)

// route is what a request path asks for. An empty version means the latest one.
type route struct {
	op           operation
	key, version string
}

// parseRoute reads the path of a keys API request, as azkeys writes them:
//
//	GET  /keys                               list
//	GET  /keys/{name}/versions               versions
//	GET  /keys/{name}[/[{version}]]          get
//	POST /keys/{name}/create                 create
//	POST /keys/{name}[/[{version}]]/{op}     encrypt, decrypt, wrapkey, unwrapkey
//
// Anything else of Key Vault's API (secrets, certificates, deleted keys, import, update, delete,
// rotate, sign, ...) is not emulated.
func parseRoute(method, path string) (route, *kvError) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if !strings.EqualFold(segs[0], "keys") {
		return route{}, errNotEmulated(method, path)
	}
	var rt route
	switch len(segs) {
	case 1:
		rt.op = opList
	case 2:
		rt.op, rt.key = opGet, segs[1]
		if segs[1] == "" {
			rt.op, rt.key = opList, ""
		}
	case 3:
		rt.key = segs[1]
		third := strings.ToLower(segs[2])
		if op, ok := cryptoOps[third]; ok {
			rt.op = op
			break
		}
		switch third {
		case "versions":
			rt.op = opVersions
		case "create":
			rt.op = opCreate
		default:
			rt.op, rt.version = opGet, segs[2]
		}
	case 4:
		op, ok := cryptoOps[strings.ToLower(segs[3])]
		if !ok {
			return route{}, errNotEmulated(method, path)
		}
		rt.op, rt.key, rt.version = op, segs[1], segs[2]
	default:
		return route{}, errNotEmulated(method, path)
	}
	if method != rt.op.method {
		return route{op: operation{}, key: rt.key, version: rt.version}, errNotEmulated(method, path)
	}
	if !rt.op.vaultScope && !directory.ValidKeyName(rt.key) {
		return rt, errInvalidName(rt.key)
	}
	return rt, nil
}
