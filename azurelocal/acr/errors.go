package acr

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// unauthorizedMessage is ACR's message for every 401 of the registry API.
const unauthorizedMessage = "authentication required, visit https://aka.ms/acr/authorization for more information."

// acrError is one element of ACR's {"errors":[...]} body.
type acrError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// accessDetail is the detail ACR gives with a 401: the access the request needed. The field
// names are capitalised, as ACR writes them.
type accessDetail struct {
	Type   string `json:"Type"`
	Name   string `json:"Name"`
	Action string `json:"Action"`
}

func writeErrors(w http.ResponseWriter, status int, errs ...acrError) {
	writeJSON(w, status, map[string][]acrError{"errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// Values of the error parameter of a Bearer challenge (RFC 6750, section 3.1).
const (
	challengeNone              = ""
	challengeInvalidToken      = "invalid_token"
	challengeInsufficientScope = "insufficient_scope"
)

// need is the access a registry request needs; the zero value needs only a valid token.
type need struct {
	Type, Name, Action string
}

func (n need) scope() string {
	if n.Type == "" {
		return ""
	}
	return n.Type + ":" + n.Name + ":" + n.Action
}

// challenge answers 401 with a Bearer challenge for n, as ACR does.
func challenge(w http.ResponseWriter, reg target, n need, errParam, message string) {
	h := fmt.Sprintf(`Bearer realm="https://%s/oauth2/token",service="%s"`, reg.host, reg.host)
	if sc := n.scope(); sc != "" {
		h += fmt.Sprintf(`,scope="%s"`, sc)
	}
	if errParam != challengeNone {
		h += fmt.Sprintf(`,error="%s"`, errParam)
	}
	w.Header().Set("WWW-Authenticate", h)
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	e := acrError{Code: "UNAUTHORIZED", Message: message}
	if n.Type != "" {
		e.Detail = []accessDetail{{Type: n.Type, Name: n.Name, Action: n.Action}}
	}
	writeErrors(w, http.StatusUnauthorized, e)
}

// newID returns a random UUID, for token IDs.
func newID() string { return uuid.NewString() }
