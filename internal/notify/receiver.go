package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// maxEventBody bounds an event posted over HTTP: Flux's 39,000-character message and metadata.
const maxEventBody = 3 << 20

// Handler serves Flux's event API, as notification-controller does on --events-addr: POST of an
// event in JSON, on any path. It answers 202 Accepted once the event is queued (matched or not),
// 429 Too Many Requests for a duplicate within the window (Flux's answer), 400 for a malformed
// event and 503 when the intake is full.
func (d *Dispatcher) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST an event", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBody))
		if err != nil {
			http.Error(w, "reading the request body failed", http.StatusBadRequest)
			return
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "decoding the request body failed: "+err.Error(), http.StatusBadRequest)
			return
		}
		if msg := invalid(&e); msg != "" {
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
		switch err := d.Submit(e); {
		case errors.Is(err, ErrDuplicate):
			w.WriteHeader(http.StatusTooManyRequests)
		case errors.Is(err, ErrBusy):
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
}

// invalid says what a posted event lacks, or "".
func invalid(e *Event) string {
	switch {
	case e.InvolvedObject.Kind == "" || e.InvolvedObject.Name == "":
		return "involvedObject.kind and involvedObject.name are required"
	case e.Severity != SeverityInfo && e.Severity != SeverityError && e.Severity != SeverityTrace:
		return "severity must be info, error or trace"
	case e.Reason == "":
		return "reason is required"
	}
	return ""
}

// Serve serves the event API on addr until ctx ends, as a manager runnable.
func (d *Dispatcher) Serve(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return d.ServeListener(ctx, l)
}

// ServeListener serves the event API on l until ctx ends.
func (d *Dispatcher) ServeListener(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, MaxHeaderBytes: 1 << 20}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
