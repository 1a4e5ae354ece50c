package notify

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	kustomizev1 "github.com/azimuth-gitops/azimuth/api/kustomize/v1"
	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/azurelocal/pki"
	"github.com/azimuth-gitops/azimuth/azurelocal/teams"
	"github.com/azimuth-gitops/azimuth/internal/azure/devops"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// fakeADO is Azure DevOps' statuses API for one PAT, reached as dev.azure.com through the
// connect-to map.
type fakeADO struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses map[string][]devops.Status // by commit, oldest first
	requests []string
}

const adoPAT = "pat-value-0123456789"

func newFakeADO(t *testing.T) (*fakeADO, transport.Options) {
	f := &fakeADO{statuses: map[string][]devops.Status{}}
	ca, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue([]string{"dev.azure.com"})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(":"+adoPAT)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		parts := strings.Split(r.URL.Path, "/") // /org/project/_apis/git/repositories/repo/commits/SHA/statuses
		if len(parts) != 10 || parts[1] != "contoso" || parts[2] != "platform" || parts[6] != "fleet" || r.URL.Query().Get("api-version") != "6.0" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		sha := parts[8]
		if r.Method == http.MethodPost {
			var st devops.Status
			json.NewDecoder(r.Body).Decode(&st)
			f.statuses[sha] = append(f.statuses[sha], st)
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(st)
			return
		}
		list := slices.Clone(f.statuses[sha])
		slices.Reverse(list)
		json.NewEncoder(w).Encode(map[string]any{"count": len(list), "value": list})
	}))
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	rules, err := transport.ParseConnectToList("dev.azure.com:443:" + strings.TrimPrefix(f.srv.URL, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	return f, transport.Options{ConnectTo: rules, RootCAs: ca.Pool()}
}

func (f *fakeADO) posted(sha string) []devops.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.statuses[sha])
}

func (f *fakeADO) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

const sha = "0123456789abcdef0123456789abcdef01234567"

// TestAzureDevOps: Flux's commit statuses: the state of the severity, the reason as description,
// genre fluxcd (fluxcd:SUMMARY with a summary), the name kind/name/UID prefix; Progressing is
// skipped, and a status equal to the last of its context is not posted again.
func TestAzureDevOps(t *testing.T) {
	ado, base := newFakeADO(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "pat"}, Data: map[string][]byte{"token": []byte(adoPAT)}}
	withPAT := func(p *notificationv1.Provider) { p.Spec.SecretRef = &meta.LocalObjectReference{Name: "pat"} }
	address := "https://dev.azure.com/contoso/platform/_git/fleet"
	h := start(t, Options{MaxAttempts: 1}, base, secret,
		provider("ado", "azuredevops", address, withPAT),
		provider("ado-summary", "azuredevops", address, withPAT),
		provider("ado-cel", "azuredevops", address, withPAT, func(p *notificationv1.Provider) {
			p.Spec.CommitStatusExpr = "(event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.clusterName).lowerAscii()"
		}),
		provider("ado-badcel", "azuredevops", address, withPAT, func(p *notificationv1.Provider) { p.Spec.CommitStatusExpr = "event.metadata.clusterName" }),
		provider("ado-both", "azuredevops", address, withPAT, func(p *notificationv1.Provider) { p.Spec.ServiceAccountName = "sa" }),
		alert("web", "ado", func(a *notificationv1.Alert) { a.Spec.EventSources[0].Name = "web" }),
		alert("summary", "ado-summary", func(a *notificationv1.Alert) {
			a.Spec.EventSources[0].Name = "api"
			a.Spec.EventMetadata = map[string]string{"summary": "prod"}
		}),
		alert("cel", "ado-cel", func(a *notificationv1.Alert) {
			a.Spec.EventSources[0].Name = "cel"
			a.Spec.EventMetadata = map[string]string{"clusterName": "Prod-01"}
		}),
		alert("badcel", "ado-badcel", func(a *notificationv1.Alert) { a.Spec.EventSources[0].Name = "badcel" }),
		alert("both", "ado-both", func(a *notificationv1.Alert) { a.Spec.EventSources[0].Name = "both" }),
	)
	submit := func(name, severity, reason, message string, meta map[string]string) {
		t.Helper()
		e := kustomizationEvent("apps", name, severity, message)
		e.Reason = reason
		if meta != nil {
			e.Metadata = meta
		}
		if err := h.d.Submit(*e); err != nil {
			t.Fatal(err)
		}
	}
	submit("web", SeverityInfo, "Progressing", "progressing", nil)
	submit("web", SeverityInfo, "ReconciliationSucceeded", "Applied revision", nil)
	eventually(t, "the status", func() bool { return len(ado.posted(sha)) == 1 })
	want := devops.Status{State: "succeeded", Description: "reconciliation succeeded", Context: devops.StatusContext{Name: "kustomization/web/0c9c2e41", Genre: "fluxcd"}}
	if got := ado.posted(sha)[0]; got != want {
		t.Errorf("status %+v, want %+v", got, want)
	}
	// The same state and description again: listed, not posted.
	n := ado.count()
	submit("web", SeverityInfo, "ReconciliationSucceeded", "another message", nil)
	eventually(t, "the list", func() bool { return ado.count() == n+1 })
	submit("web", SeverityError, "HealthCheckFailed", "Health check failed", nil)
	eventually(t, "the error status", func() bool { return len(ado.posted(sha)) == 2 })
	if got := ado.posted(sha)[1]; got.State != "error" || got.Description != "health check failed" {
		t.Errorf("error status %+v", got)
	}
	submit("api", SeverityInfo, "ReconciliationSucceeded", "m", map[string]string{"kustomize.toolkit.fluxcd.io/originRevision": "main@sha1:" + strings.Repeat("ab", 20)})
	eventually(t, "the summary status", func() bool { return len(ado.posted(strings.Repeat("ab", 20))) == 1 })
	if got := ado.posted(strings.Repeat("ab", 20))[0]; got.Context.Genre != "fluxcd:prod" || got.Context.Name != "kustomization/api/0c9c2e41" {
		t.Errorf("summary status %+v", got)
	}
	// spec.commitStatusExpr names the status.
	celSHA := strings.Repeat("cd", 20)
	submit("cel", SeverityInfo, "ReconciliationSucceeded", "m", map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:" + celSHA})
	eventually(t, "the status named by CEL", func() bool { return len(ado.posted(celSHA)) == 1 })
	if got := ado.posted(celSHA)[0]; got.Context.Name != "kustomization/cel/prod-01" || got.Context.Genre != "fluxcd" {
		t.Errorf("CEL status %+v", got)
	}
	// What cannot be posted says why.
	n = ado.count()
	submit("badcel", SeverityInfo, "ReconciliationSucceeded", "m", nil)
	submit("both", SeverityInfo, "ReconciliationSucceeded", "m", nil)
	submit("web", SeverityInfo, "ReconciliationSucceeded", "no revision", map[string]string{})
	for alertName, msg := range map[string]string{
		"badcel ": `spec.commitStatusExpr of provider 'apps/ado-badcel' "event.metadata.clusterName" is of type dyn, not string`,
		"both ":   "sets both spec.serviceAccountName and a 'token' in its secret",
		"web ":    "missing revision metadata",
	} {
		eventually(t, alertName+"refusal", func() bool { return h.events.find(msg) != "" })
		if e := h.events.find(msg); !strings.HasPrefix(e, alertName+"Warning NotificationDispatchFailed") || strings.Contains(e, adoPAT) {
			t.Errorf("%q", e)
		}
	}
	if ado.count() != n {
		t.Errorf("%d requests to Azure DevOps for refused events", ado.count()-n)
	}
}

// TestAzureDevOpsRefusal: a refused PAT is reported with what it needs, and not retried.
func TestAzureDevOpsRefusal(t *testing.T) {
	ado, base := newFakeADO(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "pat"}, Data: map[string][]byte{"token": []byte("wrong-pat-0123")}}
	h := start(t, Options{}, base, secret,
		provider("ado", "azuredevops", "https://dev.azure.com/contoso/platform/_git/fleet", func(p *notificationv1.Provider) { p.Spec.SecretRef = &meta.LocalObjectReference{Name: "pat"} }),
		alert("web", "ado"))
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, "m")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal", func() bool { return h.events.find("NotificationDispatchFailed") != "" })
	if e := h.events.find("NotificationDispatchFailed"); !strings.Contains(e, "could not list commit statuses: Azure DevOps answered 401") ||
		!strings.Contains(e, "Contributors group") || strings.Contains(e, "wrong-pat-0123") {
		t.Errorf("%q", e)
	}
	if ado.count() != 1 {
		t.Errorf("%d requests; a refusal is not retried", ado.count())
	}
}

// TestMSTeamsPayloads: Flux's Adaptive Card for Workflows and MessageCard for connectors.
func TestMSTeamsPayloads(t *testing.T) {
	e := Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "web", Namespace: "apps"}, Severity: SeverityError, Message: "Health check failed",
		Metadata: map[string]string{"revision": "main@sha1:abc", "summary": "prod", "cluster": "west"}}
	card := adaptiveCard(&e, "kustomization/web.apps")
	data, _ := json.Marshal(card)
	for _, want := range []string{`"type":"message"`, `"contentType":"application/vnd.microsoft.card.adaptive"`, `"version":"1.4"`, `"msteams":{"width":"Full"}`,
		`{"type":"TextBlock","text":"kustomization/web.apps","size":"large","weight":"bolder","wrap":true}`,
		`{"type":"TextBlock","text":"Health check failed","color":"attention","wrap":true}`,
		`"facts":[{"title":"summary","value":"prod"},{"title":"cluster","value":"west"},{"title":"revision","value":"main@sha1:abc"}]`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("adaptive card lacks %s:\n%s", want, data)
		}
	}
	legacy, _ := json.Marshal(messageCard(&e, "kustomization/web.apps"))
	for _, want := range []string{`"@type":"MessageCard"`, `"@context":"http://schema.org/extensions"`, `"themeColor":"FF0000"`, `"summary":"kustomization/web.apps"`,
		`"activityTitle":"Health check failed"`, `"activitySubtitle":"kustomization/web.apps"`} {
		if !strings.Contains(string(legacy), want) {
			t.Errorf("message card lacks %s:\n%s", want, legacy)
		}
	}
}

// TestMSTeamsCardsFitTeams: a message too long for a Teams card (a change set of hundreds of
// objects) is cut, saying how much was left out, and then over-long metadata, so that the local
// Teams, which refuses what Teams refuses, accepts the card; a card that cannot fit is an error.
func TestMSTeamsCardsFitTeams(t *testing.T) {
	srv := httptest.NewServer(teams.New())
	t.Cleanup(srv.Close)
	target := strings.TrimPrefix(srv.URL, "http://")
	rules, err := transport.ParseConnectToList("prod-12.westeurope.logic.azure.com:80:" + target + ",contoso.webhook.office.com:80:" + target +
		",default2e8111261a.26.environment.api.powerplatform.com:80:" + target)
	if err != nil {
		t.Fatal(err)
	}
	client, err := transport.NewClient(&transport.Options{ConnectTo: rules}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var changes strings.Builder
	for i := 0; changes.Len() < MaxMessage-100; i++ {
		fmt.Fprintf(&changes, "Deployment/apps/wéb-%d configured\n", i)
	}
	small := map[string]string{"revision": "main@sha1:0b8b1a466c7d"}
	for _, endpoint := range []struct {
		name    string
		address string
		legacy  bool
	}{
		{"Workflows", "http://prod-12.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=s", false},
		{"Power Platform workflow", "http://default2e8111261a.26.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=s", false},
		{"connector", "http://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", true},
	} {
		sender, ok := newMSTeams(client, endpoint.address)
		if !ok || sender.legacy != endpoint.legacy {
			t.Fatalf("%s: sender %+v, want legacy %t", endpoint.name, sender, endpoint.legacy)
		}
		for _, c := range []struct {
			name     string
			message  string
			metadata map[string]string
			fits     bool
		}{
			{"a change set of hundreds of objects", changes.String(), small, true},
			{"a metadata value of 30 KB", "Health check failed", map[string]string{"summary": strings.Repeat("ü", 15000)}, true},
			{"a thousand metadata values", "Health check failed", thousandKeys(), false},
		} {
			e := Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "web", Namespace: "apps"}, Severity: SeverityInfo, Message: c.message, Metadata: c.metadata}
			body, _ := sender.card(e)
			err := sender.send(t.Context(), e)
			switch {
			case c.fits && err != nil:
				t.Errorf("%s, %s: %v", endpoint.name, c.name, err)
			case !c.fits && (err == nil || !strings.Contains(err.Error(), "over the 14336 that fit a Teams message")):
				t.Errorf("%s, %s: error %v, want one saying the card cannot fit", endpoint.name, c.name, err)
			case !c.fits:
				continue
			}
			if !json.Valid(body) || len(body) > teamsBudget {
				t.Errorf("%s, %s: a card of %d bytes", endpoint.name, c.name, len(body))
			}
			if c.message == changes.String() && (!strings.Contains(string(body), `Deployment/apps/wéb-0 configured\n`) || !strings.Contains(string(body), `bytes left out: a Teams message holds at most 28 KB)`)) {
				t.Errorf("%s, %s: the card does not keep the start of the message and say it was cut:\n%.300s", endpoint.name, c.name, body)
			}
		}
	}
}

func thousandKeys() map[string]string {
	m := map[string]string{}
	for i := range 1000 {
		m[fmt.Sprintf("key-%d", i)] = strings.Repeat("v", 100)
	}
	return m
}

// TestRecorder: the tee records the Kubernetes event and submits Flux's event: the object with its
// kind, info for Normal and error for Warning, the annotations as metadata, the labels.
func TestRecorder(t *testing.T) {
	scheme := testScheme(t)
	d := New(nil, nil, &Options{})
	inner := events.NewFakeRecorder(10)
	r := NewRecorder(inner, d, scheme, "kustomize-controller")
	k := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web", UID: "u1", Labels: map[string]string{"team": "a"}}}
	r.AnnotatedEventf(k, nil, map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:" + sha}, corev1.EventTypeWarning, "HealthCheckFailed", "Reconcile", "timeout %s", "after 5m")
	r.Eventf(k, nil, corev1.EventTypeNormal, "ReconciliationSucceeded", "Reconcile", "Applied")
	if got := <-inner.Events; got != "Warning HealthCheckFailed timeout after 5m" {
		t.Errorf("inner got %q", got)
	}
	e := <-d.intake
	if e.InvolvedObject.Kind != "Kustomization" || e.InvolvedObject.APIVersion != "kustomize.toolkit.fluxcd.io/v1" || e.Severity != SeverityError ||
		e.Message != "timeout after 5m" || e.Metadata["kustomize.toolkit.fluxcd.io/revision"] != "main@sha1:"+sha || e.labels["team"] != "a" ||
		e.ReportingController != "kustomize-controller" || time.Since(e.Timestamp.Time) > time.Minute {
		t.Errorf("submitted %+v", e)
	}
	if e := <-d.intake; e.Severity != SeverityInfo || len(e.Metadata) != 0 {
		t.Errorf("the Normal event: %+v", e)
	}
	// An object the scheme does not know is recorded, not submitted.
	r.Eventf(&metav1.PartialObjectMetadata{}, nil, corev1.EventTypeNormal, "R", "A", "n")
	if len(d.intake) != 0 {
		t.Error("an unknown object was submitted")
	}
}
