package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func faultGateway(t *testing.T) (*Gateway, *http.Client, string) {
	t.Helper()
	g := New()
	if err := g.Register("*.azurecr.io", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "registry") })); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv.Client(), srv.URL
}

func get(t *testing.T, c *http.Client, url, host string, timeout time.Duration) (*http.Response, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

func TestFaults(t *testing.T) {
	g, c, url := faultGateway(t)
	if err := g.Inject("myreg.azurecr.io", Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: 2}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, body, err := get(t, c, url, "myreg.azurecr.io", 5*time.Second)
		if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || !strings.Contains(body, `"code":"TooManyRequests"`) {
			t.Fatalf("throttled: %v %v %q", resp, err, body)
		}
	}
	// Times ran out; other hosts were never affected.
	for _, host := range []string{"myreg.azurecr.io", "other.azurecr.io"} {
		if resp, body, err := get(t, c, url, host, 5*time.Second); err != nil || resp.StatusCode != 200 || body != "registry" {
			t.Fatalf("%s after the fault: %v %v %q", host, resp, err, body)
		}
	}

	// A reset answers nothing.
	if err := g.Inject("*.azurecr.io", Fault{Reset: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(t, c, url, "myreg.azurecr.io", 5*time.Second); err == nil {
		t.Fatal("a reset connection answered")
	}

	// A hang holds the request until its client gives up, and Clear lets the next one through.
	if err := g.Inject("*.azurecr.io", Fault{Hang: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(t, c, url, "myreg.azurecr.io", 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hung request: err = %v, want the client's deadline", err)
	}
	g.Clear("*.azurecr.io")
	if resp, _, err := get(t, c, url, "myreg.azurecr.io", 5*time.Second); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after Clear: %v %v", resp, err)
	}

	if err := g.Inject("*.azurecr.io", Fault{}); err == nil {
		t.Fatal("a fault that does nothing was accepted")
	}
}
