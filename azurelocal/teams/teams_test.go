package teams

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAnswers(t *testing.T) {
	s := New()
	adaptive := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[]}}]}`
	for _, tt := range []struct {
		name, url, body string
		status          int
	}{
		{"workflow", "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=xyz", adaptive, 202},
		{"workflow without sig", "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke", adaptive, 401},
		{"workflow with a MessageCard", "https://prod-12.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x", `{"@type":"MessageCard","summary":"s"}`, 400},
		{"connector", "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", `{"@type":"MessageCard","summary":"s"}`, 200},
		{"connector without summary", "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", `{}`, 400},
		{"workflow, 28 KB of UTF-16", "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x", sized(adaptive, 14<<10), 202},
		{"workflow, over 28 KB of UTF-16", "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x", sized(adaptive, 14<<10+1), 413},
		{"connector, over 28 KB of UTF-16", "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", sized(`{"@type":"MessageCard","summary":"s"}`, 15000), 413},
	} {
		req := httptest.NewRequest(http.MethodPost, tt.url, strings.NewReader(tt.body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.status)
		}
	}
	posts := s.Posts()
	if len(posts) != 8 || posts[0].Host != "prod-12.westeurope.logic.azure.com" || posts[0].Status != 202 || !posts[3].Legacy || strings.Contains(posts[0].Path, "sig") {
		t.Errorf("posts: %+v", posts)
	}
}

// sized pads a JSON object with a field to n characters.
func sized(object string, n int) string {
	pad := `,"pad":""}`
	return strings.TrimSuffix(object, "}") + pad[:len(pad)-2] + strings.Repeat("x", n-len(object)-len(pad)+1) + `"}`
}
