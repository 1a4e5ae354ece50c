// Package teams is the local Microsoft Teams incoming webhook: it answers the webhook URLs of
// Teams Workflows (https://prod-NN.REGION.logic.azure.com:443/workflows/ID/triggers/manual/
// paths/invoke?...&sig=..., and for newer flows https://ENV.NN.environment.api.powerplatform.com:443/
// powerautomate/automations/direct/workflows/ID/triggers/manual/paths/invoke?...&sig=...) and of
// the retired Office 365 connectors
// (https://TENANT.webhook.office.com/webhookb2/...), checks that a post is the card Teams would
// render, and records it, so that tests and the demo can read what a channel would show.
//
// In docs/architecture.md's flow it stands where Teams stands, at the far end of the arrow from
// the msteams notification provider (internal/notify); the gateway routes its hosts here.
//
// Answers, as the real endpoints give them:
//   - Workflows: 202 Accepted for a message with an Adaptive Card attachment; 400 with a JSON error
//     for a body that is not one; 401 when the URL has no sig parameter.
//   - Office 365 connectors: 200 with body "1" for a MessageCard (or a body with text); 400
//     "Summary or Text is required." otherwise.
//   - both: 413 for a message over Teams' 28 KB limit, counted as Teams has been seen to count a
//     body sent as UTF-8, in UTF-16 (two bytes for most characters): a message of more than
//     14,336 ASCII characters is refused. Microsoft documents the limit, not how it is counted;
//     this is the stricter reading.
//
// Not emulated:
//   - the signature of Workflows URLs (any non-empty sig is accepted) and the connectors' IDs;
//   - running the workflow (posting to a channel as the flow's owner), throttling, and the card's
//     rendering beyond its shape;
//   - regions other than those of Hosts (Teams gives URLs in the tenant's region);
//   - the hosts of Power Platform environments, two labels under environment.api.powerplatform.com,
//     which the gateway's one-label wildcards cannot name: the handler answers their paths when a
//     test routes a host to it.
package teams

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Hosts are the host patterns the handler answers on; register each with the gateway.
func Hosts() []string {
	return []string{"*.webhook.office.com", "*.westeurope.logic.azure.com", "*.westus.logic.azure.com"}
}

// Post is a recorded post to a webhook. Query strings (which hold the webhook's signature) are
// not recorded.
type Post struct {
	Time time.Time
	Host string
	Path string
	// Legacy is true for an Office 365 connector (MessageCard) URL.
	Legacy bool
	// Status is the answer given.
	Status int
	Body   json.RawMessage
}

// Server records the posts to Teams webhooks. It is safe for concurrent use.
type Server struct {
	mu    sync.Mutex
	posts []Post
	now   func() time.Time
}

// New returns a webhook recorder.
func New() *Server { return &Server{now: time.Now} }

// Posts returns the posts recorded so far, oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// maxBody bounds what is read of a post; maxMessage is Teams' limit on a message, in bytes of
// UTF-16.
const (
	maxBody    = 1 << 20
	maxMessage = 28 << 10
)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(strings.Split(r.Host, ":")[0])
	legacy := strings.HasSuffix(host, ".webhook.office.com")
	if r.Method != http.MethodPost {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	status := s.answer(w, r, legacy, body)
	s.mu.Lock()
	s.posts = append(s.posts, Post{Time: s.now(), Host: host, Path: r.URL.Path, Legacy: legacy, Status: status, Body: append(json.RawMessage(nil), body...)})
	s.mu.Unlock()
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, legacy bool, body []byte) int {
	if n := 2 * len(utf16.Encode([]rune(string(body)))); n > maxMessage {
		if legacy {
			http.Error(w, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0,server=azimuth-local,cv=", http.StatusRequestEntityTooLarge)
			return http.StatusRequestEntityTooLarge
		}
		return jsonError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The payload is too large. Please make sure the size is less than 28KB.")
	}
	if legacy {
		var card struct {
			Type    string `json:"@type"`
			Summary string `json:"summary"`
			Text    string `json:"text"`
		}
		if !strings.HasPrefix(r.URL.Path, "/webhookb2/") {
			http.Error(w, "Not Found", http.StatusNotFound)
			return http.StatusNotFound
		}
		if json.Unmarshal(body, &card) != nil || card.Summary == "" && card.Text == "" {
			http.Error(w, "Summary or Text is required.", http.StatusBadRequest)
			return http.StatusBadRequest
		}
		io.WriteString(w, "1")
		return http.StatusOK
	}
	path, _ := strings.CutPrefix(r.URL.Path, "/powerautomate/automations/direct")
	if !strings.HasPrefix(path, "/workflows/") || !strings.HasSuffix(path, "/triggers/manual/paths/invoke") {
		return jsonError(w, http.StatusNotFound, "WorkflowNotFound", "The workflow could not be found.")
	}
	if r.URL.Query().Get("sig") == "" {
		return jsonError(w, http.StatusUnauthorized, "DirectApiAuthorizationRequired", "The request must be authenticated only by Shared Access scheme.")
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type string            `json:"type"`
				Body []json.RawMessage `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Type != "message" || len(msg.Attachments) == 0 ||
		msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" || msg.Attachments[0].Content.Type != "AdaptiveCard" {
		return jsonError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content is not a message with an Adaptive Card attachment.")
	}
	w.WriteHeader(http.StatusAccepted)
	return http.StatusAccepted
}

func jsonError(w http.ResponseWriter, status int, code, message string) int {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return status
}
