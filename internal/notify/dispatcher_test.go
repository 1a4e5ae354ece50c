package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/internal/access"
	"github.com/azimuth-gitops/azimuth/internal/clip"
	"github.com/azimuth-gitops/azimuth/internal/entra"
	"github.com/azimuth-gitops/azimuth/internal/identity"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// recorded collects the events recorded on Alerts, and those the API server would refuse: a
// note over 1,024 bytes or not UTF-8.
type recorded struct {
	mu      sync.Mutex
	list    []string
	refused []string
}

func (r *recorded) Eventf(regarding, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := ""
	if o, ok := regarding.(client.Object); ok {
		name = o.GetName()
	}
	text := fmt.Sprintf(note, args...)
	if len(text) > clip.EventNote || !utf8.ValidString(text) {
		r.refused = append(r.refused, fmt.Sprintf("%s %s: a note of %d bytes (valid UTF-8: %t)", name, reason, len(text), utf8.ValidString(text)))
		return
	}
	r.list = append(r.list, fmt.Sprintf("%s %s %s: %s", name, eventtype, reason, text))
}

func (r *recorded) find(substr string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.list {
		if strings.Contains(e, substr) {
			return e
		}
	}
	return ""
}

// harness is a Dispatcher over a fake API server, started for the test.
type harness struct {
	d      *Dispatcher
	events *recorded
	reg    *prometheus.Registry
}

func testScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, notificationv1.AddToScheme, kustomizev1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func start(t *testing.T, opts Options, base transport.Options, objs ...client.Object) *harness {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(objs...).Build()
	ids, err := identity.NewResolver(c, &identity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{events: &recorded{}, reg: prometheus.NewRegistry()}
	t.Cleanup(func() {
		for _, e := range h.events.refused {
			t.Errorf("the API server would refuse the event of %s", e)
		}
	})
	opts.Recorder, opts.Registerer = h.events, h.reg
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 10 * time.Millisecond
	}
	h.d = New(c, access.NewResolver(c, ids, entra.NewProvider(nil), base), &opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.d.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func provider(name, typ, address string, mutate ...func(*notificationv1.Provider)) *notificationv1.Provider {
	p := &notificationv1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name, UID: types.UID("0c9c2e41-d2f9-4f9b-9c41-" + name)},
		Spec:       notificationv1.ProviderSpec{Type: typ, Address: address},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func alert(name, providerName string, mutate ...func(*notificationv1.Alert)) *notificationv1.Alert {
	a := &notificationv1.Alert{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name},
		Spec: notificationv1.AlertSpec{
			ProviderRef:   meta.LocalObjectReference{Name: providerName},
			EventSeverity: "info",
			EventSources:  []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}},
		},
	}
	for _, m := range mutate {
		m(a)
	}
	return a
}

// endpoint is a webhook that records what it receives and answers with its handler.
type endpoint struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
	answer  func(n int) int // the status of the nth request (from 1); 200 by default
	hang    chan struct{}   // when set, requests wait for it to close
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, string(body))
		e.headers = append(e.headers, r.Header.Clone())
		n, answer, hang := len(e.bodies), e.answer, e.hang
		e.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		status := http.StatusOK
		if answer != nil {
			status = answer(n)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(func() {
		e.mu.Lock()
		if e.hang != nil {
			close(e.hang)
			e.hang = nil
		}
		e.mu.Unlock()
		e.Close()
	})
	return e
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.bodies)
}

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func counter(t *testing.T, c *prometheus.CounterVec, labels ...string) float64 {
	t.Helper()
	return testutil.ToFloat64(c.WithLabelValues(labels...))
}

// TestDelivery: a matching Alert's generic Provider receives the event once, as Flux posts it;
// suspended Alerts and Providers, and Alerts that do not select the event, receive nothing.
func TestDelivery(t *testing.T) {
	hook, other := newEndpoint(t), newEndpoint(t)
	h := start(t, Options{}, transport.Options{},
		provider("hook", "generic", hook.URL),
		provider("other", "generic", other.URL),
		provider("suspended", "generic", other.URL, func(p *notificationv1.Provider) { p.Spec.Suspend = true }),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "headers"}, Data: map[string][]byte{"headers": []byte("X-Team: platform\n")}},
		alert("web", "hook", func(a *notificationv1.Alert) {
			a.Spec.EventSources[0].Name = "web"
			a.Spec.EventMetadata = map[string]string{"cluster": "west"}
		}),
		alert("suspended-alert", "other", func(a *notificationv1.Alert) { a.Spec.Suspend = true }),
		alert("errors-only", "other", func(a *notificationv1.Alert) { a.Spec.EventSeverity = "error" }),
		alert("other-name", "other", func(a *notificationv1.Alert) { a.Spec.EventSources[0].Name = "api" }),
		alert("suspended-provider", "suspended"),
	)
	e := *kustomizationEvent("apps", "web", SeverityInfo, "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567")
	e.ReportingController = "kustomize-controller"
	if err := h.d.Submit(e); err != nil {
		t.Fatal(err)
	}
	if err := h.d.Submit(e); err != ErrDuplicate {
		t.Errorf("a duplicate: %v", err)
	}
	eventually(t, "the delivery", func() bool { return counter(t, h.d.metrics.sent, "generic") == 1 })
	time.Sleep(50 * time.Millisecond)
	if hook.count() != 1 || other.count() != 0 {
		t.Fatalf("hook got %d posts, other %d", hook.count(), other.count())
	}
	var got Event
	if err := json.Unmarshal([]byte(hook.bodies[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.InvolvedObject.Name != "web" || got.Severity != "info" || got.Metadata["revision"] != "main@sha1:0123456789abcdef0123456789abcdef01234567" ||
		got.Metadata["cluster"] != "west" || hook.headers[0].Get("Gotk-Component") != "kustomize-controller" {
		t.Errorf("posted %s with %v", hook.bodies[0], hook.headers[0])
	}
	if counter(t, h.d.metrics.dropped, "", DropDuplicate) != 1 {
		t.Error("the duplicate was not counted")
	}
}

// TestGenericHMAC: the X-Signature header is sha256= and the HMAC of the body, keyed with the
// secret's token, as Flux's documentation verifies it; the secret's headers are sent.
func TestGenericHMAC(t *testing.T) {
	hook := newEndpoint(t)
	h := start(t, Options{}, transport.Options{},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "hmac"}, Data: map[string][]byte{"token": []byte("s3cret"), "headers": []byte("X-Team: platform\n")}},
		provider("hmac", "generic-hmac", hook.URL, func(p *notificationv1.Provider) { p.Spec.SecretRef = &meta.LocalObjectReference{Name: "hmac"} }),
		provider("nokey", "generic-hmac", hook.URL),
		alert("signed", "hmac"),
		alert("unsigned", "nokey"),
	)
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityError, "Health check failed")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery", func() bool { return hook.count() == 1 && h.events.find("unsigned") != "" })
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(hook.bodies[0]))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); hook.headers[0].Get("X-Signature") != want || hook.headers[0].Get("X-Team") != "platform" {
		t.Errorf("headers %v, want X-Signature %s", hook.headers[0], want)
	}
	if e := h.events.find("unsigned"); !strings.Contains(e, "NotificationDispatchFailed") || !strings.Contains(e, "needs the HMAC key in the key 'token'") {
		t.Errorf("a provider without key: %q", e)
	}
}

// TestFaults: an endpoint that hangs times out and is reported once its attempts are used; one
// that answers 500 then 200 gets the event once; one that refuses (403) is reported at once and
// not retried; and the healthy endpoint receives every event meanwhile.
func TestFaults(t *testing.T) {
	hang, flaky, refuses, healthy := newEndpoint(t), newEndpoint(t), newEndpoint(t), newEndpoint(t)
	hang.hang = make(chan struct{})
	flaky.answer = func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	refuses.answer = func(int) int { return http.StatusForbidden }
	timeout := func(p *notificationv1.Provider) { p.Spec.Timeout = &metav1.Duration{Duration: 200 * time.Millisecond} }
	h := start(t, Options{MaxAttempts: 3}, transport.Options{},
		provider("hang", "generic", hang.URL, timeout),
		provider("flaky", "generic", flaky.URL),
		provider("refuses", "generic", refuses.URL),
		provider("healthy", "generic", healthy.URL),
		alert("a-hang", "hang"), alert("b-flaky", "flaky"), alert("c-refuses", "refuses"), alert("d-healthy", "healthy"),
	)
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, "first")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the healthy delivery", func() bool { return healthy.count() == 1 })
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, "second")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second healthy delivery", func() bool { return healthy.count() == 2 })

	eventually(t, "the refusal", func() bool { return h.events.find("c-refuses") != "" })
	if e := h.events.find("c-refuses"); !strings.Contains(e, "Warning NotificationDispatchFailed: failed to send notification for Kustomization/apps/web: the endpoint answered 403 Forbidden") ||
		strings.Contains(e, refuses.URL) {
		t.Errorf("refusal event %q", e)
	}
	eventually(t, "the flaky delivery", func() bool { return counter(t, h.d.metrics.retries, "generic") >= 1 && flaky.count() == 3 })
	eventually(t, "the timeouts", func() bool { return h.events.find("a-hang") != "" })
	if e := h.events.find("a-hang"); !strings.Contains(e, "no answer within the provider's timeout of 200ms (spec.timeout)") || !strings.Contains(e, "gave up after 3 attempts") ||
		strings.Contains(e, strings.TrimPrefix(hang.URL, "http://")+"/") {
		t.Errorf("timeout event %q", e)
	}
	if refuses.count() != 2 {
		t.Errorf("the refusing endpoint was asked %d times for 2 events; a refusal is not retried", refuses.count())
	}
	if got := counter(t, h.d.metrics.sent, "generic"); got != 4 { // healthy 2, flaky 2
		t.Errorf("sent %v, want 4", got)
	}
	if got := counter(t, h.d.metrics.failed, "generic"); got < 3 { // refuses 2, hang at least 1
		t.Errorf("failed %v", got)
	}
	var okFlaky int
	for i := range flaky.bodies {
		if i != 0 { // the first answer was 500
			okFlaky++
		}
	}
	if okFlaky != 2 { // "first" retried once, then "second": 3 requests, 2 answered 200
		t.Errorf("flaky answered 200 to %d requests", okFlaky)
	}
}

// TestHangingEndpointHoldsNoOther: while one Provider's endpoint holds its request for as long
// as the test lasts, the other Provider's events are delivered, one after the other: each
// Provider has a queue of its own. Waiting for the hanging one would take its ten minutes.
func TestHangingEndpointHoldsNoOther(t *testing.T) {
	hang, healthy := newEndpoint(t), newEndpoint(t)
	hang.hang = make(chan struct{})
	patient := func(p *notificationv1.Provider) { p.Spec.Timeout = &metav1.Duration{Duration: 10 * time.Minute} }
	h := start(t, Options{MaxAttempts: 1}, transport.Options{},
		provider("hang", "generic", hang.URL, patient), provider("healthy", "generic", healthy.URL),
		alert("a-hang", "hang"), alert("b-healthy", "healthy"),
	)
	for i := range 3 {
		if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, fmt.Sprint("event ", i))); err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprint("healthy delivery ", i), func() bool { return healthy.count() == i+1 })
	}
	// It has its first request, and holds it until the test ends.
	eventually(t, "the hanging endpoint's request", func() bool { return hang.count() == 1 })
}

// TestRefusalFitsAnEvent: an endpoint's long answer, cut inside a multi-byte character, and a
// failure too long for an event's note still make an event the API server accepts (at most 1,024
// bytes of UTF-8; the harness fails the test on any other), cut where a character starts.
func TestRefusalFitsAnEvent(t *testing.T) {
	refuses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "x"+strings.Repeat("é", 2000))
	}))
	t.Cleanup(refuses.Close)
	h := start(t, Options{}, transport.Options{}, provider("refuses", "generic", refuses.URL), alert("refused", "refuses"))
	if err := h.d.Submit(*kustomizationEvent("apps", strings.Repeat("w", 253), SeverityInfo, "one")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal", func() bool { return h.events.find("refused Warning") != "" })
	if e := h.events.find("refused Warning"); !strings.Contains(e, "the endpoint answered 400 Bad Request: xéé") || !strings.HasSuffix(e, "é…") {
		t.Errorf("refusal event %q, want the start of the answer, cut after a whole character", e)
	}

	h.d.warn(alert("long", "refuses"), notificationv1.NotificationDispatchFailedReason, "ü"+strings.Repeat("€", 1000))
	e := h.events.find("long Warning")
	if note := strings.TrimPrefix(e, "long Warning NotificationDispatchFailed: "); len(note) > 1024 || len(note) < 1020 || !strings.HasSuffix(note, "€…") {
		t.Errorf("a 3,002-byte failure became a note of %d bytes ending %q; want it cut after a whole character to fit 1,024", len(note), note[max(0, len(note)-8):])
	}
}

// TestQueueFull: a Provider whose endpoint hangs holds at most QueueSize events; the others are
// dropped and counted, and the reconcilers never wait.
func TestQueueFull(t *testing.T) {
	hang := newEndpoint(t)
	hang.hang = make(chan struct{})
	h := start(t, Options{QueueSize: 1, MaxAttempts: 1}, transport.Options{}, provider("hang", "generic", hang.URL), alert("a", "hang"))
	// The endpoint never answers: a Submit that waited for room in the queue would never return.
	submitted := make(chan error, 1)
	go func() {
		for i := range 4 {
			if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, fmt.Sprint("event ", i))); err != nil {
				submitted <- err
				return
			}
		}
		submitted <- nil
	}()
	select {
	case err := <-submitted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Submit is waiting for a queue that the hanging endpoint keeps full")
	}
	// The drop is counted, then reported: wait for both, not for the count alone.
	eventually(t, "a drop counted and reported on the Alert", func() bool {
		return counter(t, h.d.metrics.dropped, "generic", DropQueueFull) >= 1 && h.events.find("has 1 events waiting") != ""
	})
}

// TestCrossNamespace: under --no-cross-namespace-refs an Alert does not deliver the events of
// another namespace, and says so.
func TestCrossNamespace(t *testing.T) {
	hook := newEndpoint(t)
	ops := func(a *notificationv1.Alert) {
		a.Namespace = "ops"
		a.Spec.EventSources[0].Namespace = "apps"
	}
	opsProvider := provider("hook", "generic", hook.URL, func(p *notificationv1.Provider) { p.Namespace = "ops" })
	h := start(t, Options{NoCrossNamespaceRefs: true}, transport.Options{}, opsProvider, alert("all", "hook", ops))
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, "m")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal", func() bool { return h.events.find("cross-namespace references have been blocked") != "" })
	if hook.count() != 0 {
		t.Error("the event was delivered")
	}
	// Without the flag it is.
	h = start(t, Options{}, transport.Options{}, opsProvider, alert("all", "hook", ops))
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, "m")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery", func() bool { return hook.count() == 1 })
}

// TestLabelsOfPostedEvents: an event posted over HTTP carries no labels; matchLabels reads them
// from the object.
func TestLabelsOfPostedEvents(t *testing.T) {
	hook := newEndpoint(t)
	labelled := func(a *notificationv1.Alert) { a.Spec.EventSources[0].MatchLabels = map[string]string{"team": "a"} }
	k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", Labels: map[string]string{"team": "a"}}}
	h := start(t, Options{}, transport.Options{}, k, provider("hook", "generic", hook.URL), alert("team-a", "hook", labelled))
	srv := httptest.NewServer(h.d.Handler())
	defer srv.Close()
	post := func(name, message string) int {
		e := kustomizationEvent("apps", name, SeverityInfo, message)
		e.ReportingController = "kustomize-controller"
		body, _ := json.Marshal(e)
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("web", "one"); s != http.StatusAccepted {
		t.Fatalf("POST: %d", s)
	}
	if s := post("web", "one"); s != http.StatusTooManyRequests {
		t.Errorf("a duplicate: %d, want 429 as Flux", s)
	}
	if s := post("api", "unlabelled object"); s != http.StatusAccepted { // no such object: no labels
		t.Errorf("POST: %d", s)
	}
	eventually(t, "the delivery", func() bool { return hook.count() == 1 })
	time.Sleep(50 * time.Millisecond)
	if hook.count() != 1 {
		t.Errorf("%d deliveries", hook.count())
	}
	for body, want := range map[string]int{"{": 400, `{"involvedObject":{"kind":"Kustomization","name":"x"},"severity":"warning","reason":"R"}`: 400} {
		resp, _ := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", body, resp.StatusCode, want)
		}
		resp.Body.Close()
	}
	if resp, _ := http.Get(srv.URL); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}
