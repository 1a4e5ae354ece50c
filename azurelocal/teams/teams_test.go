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
		{"Power Platform workflow", "https://default2e8111261a.26.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=xyz", adaptive, 202},
		{"Power Platform, another path", "https://default2e8111261a.26.environment.api.powerplatform.com/powerautomate/flows/abc?sig=xyz", adaptive, 404},
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
	if len(posts) != 10 {
		t.Fatalf("%d posts recorded, want 10", len(posts))
	}
	for i, p := range posts {
		if legacy := strings.HasSuffix(p.Host, ".webhook.office.com"); p.Legacy != legacy || strings.Contains(p.Path, "sig") || i == 0 && (p.Host != "prod-12.westeurope.logic.azure.com" || p.Status != 202) {
			t.Errorf("post %d: %s %s %d legacy %t", i, p.Host, p.Path, p.Status, p.Legacy)
		}
	}
}

// sized pads a JSON object with a field "pad" to n characters.
func sized(object string, n int) string {
	const open, end = `,"pad":"`, `"}`
	return strings.TrimSuffix(object, "}") + open + strings.Repeat("x", n-(len(object)-1)-len(open)-len(end)) + end
}
