package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a bad day of an Azure service: the gateway answers it in place of the emulator, so
// that tests can show how clients meet throttling, outages, hangs and dropped connections, and
// that they recover once the fault is gone.
type Fault struct {
	// Status answers with this HTTP status, such as 429 or 503, and Body.
	Status int
	// RetryAfter, with Status, sets the Retry-After header, in whole seconds.
	RetryAfter time.Duration
	// Body is the answer's JSON body. Default: Azure's error form, {"error":{"code":..., "message":...}}.
	Body string
	// Hang holds each request until its client gives up or the fault is cleared.
	Hang bool
	// Reset drops the connection (the stream, over HTTP/2) without an answer.
	Reset bool
	// Times is how many requests the fault answers before it clears itself. Default (0): every
	// request, until Clear.
	Times int
}

// faults holds the injected faults, by host pattern.
type faults struct {
	mu sync.Mutex
	m  map[string]*activeFault
}

type activeFault struct {
	Fault
	left int
	// cleared is closed by Clear (or a new Inject for the pattern): held requests go on.
	cleared chan struct{}
}

// Inject makes the gateway answer f for hosts matching pattern (an exact host or a wildcard, as
// Register takes), in place of the emulator; it replaces an earlier fault for the pattern.
func (g *Gateway) Inject(pattern string, f Fault) error {
	p := strings.ToLower(pattern)
	if err := ValidPattern(p); err != nil {
		return err
	}
	if f.Status == 0 && !f.Hang && !f.Reset {
		return fmt.Errorf("gateway: fault for %s sets none of Status, Hang and Reset", pattern)
	}
	g.faults.mu.Lock()
	defer g.faults.mu.Unlock()
	if g.faults.m == nil {
		g.faults.m = map[string]*activeFault{}
	}
	if old, ok := g.faults.m[p]; ok {
		close(old.cleared)
	}
	g.faults.m[p] = &activeFault{Fault: f, left: f.Times, cleared: make(chan struct{})}
	return nil
}

// Clear removes the fault for pattern, and releases the requests it holds.
func (g *Gateway) Clear(pattern string) {
	p := strings.ToLower(pattern)
	g.faults.mu.Lock()
	defer g.faults.mu.Unlock()
	if f, ok := g.faults.m[p]; ok {
		close(f.cleared)
		delete(g.faults.m, p)
	}
}

// take returns the fault that answers a request for host, counting it, or nil.
func (fs *faults) take(host string) *activeFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for p, f := range fs.m {
		if !MatchHost(p, host) {
			continue
		}
		if f.Times > 0 {
			if f.left--; f.left <= 0 {
				delete(fs.m, p) // the requests it holds stay held until their clients give up
			}
		}
		return f
	}
	return nil
}

// serveFault answers r with the fault injected for host, and reports whether there was one.
func (g *Gateway) serveFault(w http.ResponseWriter, r *http.Request, host string) bool {
	f := g.faults.take(host)
	if f == nil {
		return false
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
			return true
		case <-f.cleared:
			if f.Status == 0 && !f.Reset {
				return false // released: the emulator answers after all
			}
		}
	}
	if f.Reset {
		// The standard way to abort a response: net/http closes the connection (HTTP/1) or
		// resets the stream (HTTP/2), and logs nothing.
		panic(http.ErrAbortHandler)
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Round(time.Second)/time.Second)))
	}
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"error":{"code":%q,"message":"azurelocal: injected fault for %s"}}`, strings.ReplaceAll(http.StatusText(f.Status), " ", ""), host)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	fmt.Fprintln(w, body)
	return true
}
