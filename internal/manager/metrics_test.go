package manager_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/internal/manager"
)

// The metrics address serves Prometheus metrics and Go's profiles, where Flux's debugging guide
// collects them (/debug/pprof/ on the metrics port).
func TestMetricsAndProfiles(t *testing.T) {
	env, _ := setup(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start(t, env, manager.Options{MetricsAddr: addr, Controllers: []string{"gitrepository"}})

	for path, want := range map[string]string{
		"/metrics":                       "controller_runtime_",
		"/debug/pprof/goroutine?debug=1": "goroutine profile:",
		"/debug/pprof/":                  "Types of profiles available",
	} {
		body := getWithin(t, "http://"+addr+path, 30*time.Second)
		if !strings.Contains(body, want) {
			t.Errorf("GET %s: no %q in\n%.300s", path, want, body)
		}
	}
}

// getWithin GETs url until it answers 200, and returns the body.
func getWithin(t *testing.T, url string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(body)
			}
			if err = rerr; err == nil {
				err = fmt.Errorf("%s", resp.Status)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
