package notify

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
)

func kustomizationEvent(ns, name, severity, message string) *Event {
	return &Event{
		InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: ns, Name: name},
		Severity:       severity, Reason: "ReconciliationSucceeded", Message: message,
		Metadata: map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:0123456789abcdef0123456789abcdef01234567"},
	}
}

func TestSourceMatches(t *testing.T) {
	labels := func(l map[string]string) labelsFunc { return func() (map[string]string, error) { return l, nil } }
	team := labels(map[string]string{"team": "a"})
	src := func(kind, name, ns string, ml map[string]string) notificationv1.CrossNamespaceObjectReference {
		return notificationv1.CrossNamespaceObjectReference{Kind: kind, Name: name, Namespace: ns, MatchLabels: ml}
	}
	info, fail := kustomizationEvent("apps", "web", SeverityInfo, "ok"), kustomizationEvent("apps", "web", SeverityError, "failed")
	for _, tt := range []struct {
		name     string
		e        *Event
		alertNS  string
		severity string
		src      notificationv1.CrossNamespaceObjectReference
		objects  labelsFunc
		want     bool
	}{
		{"same name, the alert's namespace", info, "apps", "info", src("Kustomization", "web", "", nil), team, true},
		{"another name", info, "apps", "info", src("Kustomization", "api", "", nil), team, false},
		{"another kind", info, "apps", "info", src("GitRepository", "web", "", nil), team, false},
		{"name wildcard", info, "apps", "info", src("Kustomization", "*", "", nil), team, true},
		{"the alert's namespace is not the object's", info, "ops", "info", src("Kustomization", "*", "", nil), team, false},
		{"a namespace named", info, "ops", "info", src("Kustomization", "web", "apps", nil), team, true},
		{"every namespace", info, "ops", "info", src("Kustomization", "*", "*", nil), team, true},
		{"severity error drops info", info, "apps", "error", src("Kustomization", "web", "", nil), team, false},
		{"severity error keeps errors", fail, "apps", "error", src("Kustomization", "web", "", nil), team, true},
		{"severity info keeps errors", fail, "apps", "info", src("Kustomization", "web", "", nil), team, true},
		{"no severity is info", fail, "apps", "", src("Kustomization", "web", "", nil), team, true},
		{"labels match", info, "apps", "info", src("Kustomization", "*", "", map[string]string{"team": "a"}), team, true},
		{"labels differ", info, "apps", "info", src("Kustomization", "*", "", map[string]string{"team": "b"}), team, false},
		{"labels absent", info, "apps", "info", src("Kustomization", "*", "", map[string]string{"team": "a"}), labels(nil), false},
	} {
		got, err := sourceMatches(tt.e, tt.alertNS, tt.severity, tt.src, tt.objects)
		if err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// Labels are read only when a selector needs them, and a failed read is reported.
	read := func() (map[string]string, error) { return nil, errors.New("forbidden") }
	if ok, err := sourceMatches(info, "apps", "info", src("Kustomization", "web", "", nil), read); !ok || err != nil {
		t.Errorf("no selector: %v %v", ok, err)
	}
	if ok, err := sourceMatches(info, "apps", "info", src("Kustomization", "*", "", map[string]string{"team": "a"}), read); ok || err == nil {
		t.Errorf("a failed read: %v %v", ok, err)
	}
	if _, err := sourceMatches(info, "apps", "info", src("Kustomization", "*", "", map[string]string{"bad key!": "a"}), team); err == nil {
		t.Error("an invalid selector was accepted")
	}
}

func TestMessageAllowed(t *testing.T) {
	var c regexps
	var invalid []string
	report := func(list, expr string, err error) { invalid = append(invalid, list+":"+expr) }
	for _, tt := range []struct {
		name             string
		include, exclude []string
		message          string
		want             bool
	}{
		{"no lists", nil, nil, "anything", true},
		{"included", []string{"^Applied", "succeeded"}, nil, "reconciliation succeeded", true},
		{"not included", []string{"^Applied"}, nil, "health check failed", false},
		{"excluded", nil, []string{"Dependencies do not meet"}, "Dependencies do not meet ready condition", false},
		{"included then excluded", []string{".*"}, []string{"^Dependencies"}, "Dependencies do not meet", false},
		{"an invalid inclusion matches nothing", []string{"("}, nil, "(", false},
		{"an invalid exclusion excludes nothing", nil, []string{"("}, "(", true},
	} {
		spec := &notificationv1.AlertSpec{InclusionList: tt.include, ExclusionList: tt.exclude}
		if got := c.messageAllowed(spec, tt.message, report); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if !slices.Equal(invalid, []string{"inclusion:(", "exclusion:("}) {
		t.Errorf("invalid expressions reported: %v", invalid)
	}
}

func TestDedup(t *testing.T) {
	d := dedup{window: int64(5 * time.Minute)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := kustomizationEvent("apps", "web", SeverityInfo, "Applied revision")
	clean(e)
	k := key(e)
	if !d.first(k, now.UnixNano()) || d.first(k, now.Add(4*time.Minute).UnixNano()) {
		t.Fatal("a duplicate within the window passed")
	}
	if !d.first(k, now.Add(6*time.Minute).UnixNano()) {
		t.Error("the same event after the window was dropped")
	}
	// Another revision, message or object is another event; the reason and severity are not part
	// of the key, as in Flux.
	other := *e
	other.Metadata = map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:fedcba"}
	msg := *e
	msg.Message = "Health check failed"
	sev := *e
	sev.Severity = SeverityError
	if key(&other) == k || key(&msg) == k || key(&sev) != k {
		t.Error("the key does not follow Flux's components")
	}
}

func TestMetadata(t *testing.T) {
	e := kustomizationEvent("apps", "web", SeverityInfo, "m")
	e.Metadata = map[string]string{
		"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc1234",
		"kustomize.toolkit.fluxcd.io/token":    "t",
		"kustomize.toolkit.fluxcd.io/checksum": "c",
		"kustomize.toolkit.fluxcd.io/digest":   "d",
		"event.toolkit.fluxcd.io/env":          "prod",
		"event.toolkit.fluxcd.io/summary":      "from the object",
		"other.io/key":                         "dropped",
	}
	clean(e)
	if len(e.Metadata) != 4 {
		t.Fatalf("clean kept %v", e.Metadata)
	}
	out, conflicts := combine(e, map[string]string{"summary": "from eventMetadata", "cluster": "west"}, "")
	want := map[string]string{"revision": "main@sha1:abc1234", "env": "prod", "summary": "from eventMetadata", "cluster": "west"}
	if !mapsEqual(out.Metadata, want) || !slices.Equal(conflicts, []string{"summary"}) {
		t.Errorf("combine: %v %v, want %v", out.Metadata, conflicts, want)
	}
	out, _ = combine(e, map[string]string{"revision": "overridden?"}, "deprecated summary")
	if out.Metadata["revision"] != "main@sha1:abc1234" || out.Metadata["summary"] != "deprecated summary" {
		t.Errorf("precedence: %v", out.Metadata)
	}
	if e.Metadata["kustomize.toolkit.fluxcd.io/revision"] == "" {
		t.Error("combine changed the event it was given")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCommitSHA(t *testing.T) {
	const sha = "a1afe267b54f38b46b487f6e938a6fd508278c07"
	for _, rev := range []string{"master@sha1:" + sha, "environment/dev@sha1:" + sha, "sha1:" + sha, sha, "master/" + sha, "environment/dev/" + sha} {
		if got, err := commitSHA(rev); err != nil || got != sha {
			t.Errorf("%s: %q %v", rev, got, err)
		}
	}
	for _, rev := range []string{"master", "v1.0.0@sha256:xyz", "", "main/notasha"} {
		if _, err := commitSHA(rev); err == nil || !strings.Contains(err.Error(), "failed to extract commit hash from") {
			t.Errorf("%q: %v", rev, err)
		}
	}
	e := &Event{Metadata: map[string]string{"revision": "r", "originRevision": "o"}}
	if r, _ := revision(e); r != "o" {
		t.Errorf("originRevision before revision: %s", r)
	}
	e.Metadata["commit"] = "c"
	if r, _ := revision(e); r != "c" {
		t.Errorf("commit first: %s", r)
	}
}

func TestDescription(t *testing.T) {
	for in, want := range map[string]string{
		"ReconciliationSucceeded": "reconciliation succeeded",
		"HealthCheckFailed":       "health check failed",
		"NewArtifact":             "new artifact",
		"HTTPServerError":         "http server error",
		"Progressing":             "progressing",
		"info":                    "info",
	} {
		if got := description(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	e := kustomizationEvent("apps", "Web", SeverityInfo, "")
	if got := statusName("0c9c2e41-d2f9-4f9b-9c41-bebc1984d67a", e); got != "kustomization/web/0c9c2e41" {
		t.Errorf("status name %s", got)
	}
}

func FuzzCommitSHA(f *testing.F) {
	f.Add("main@sha1:a1afe267b54f38b46b487f6e938a6fd508278c07")
	f.Add("main/a1afe26")
	f.Fuzz(func(t *testing.T, rev string) {
		sha, err := commitSHA(rev)
		if err == nil && !isHex(sha) {
			t.Fatalf("%q gave %q", rev, sha)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Fatalf("an error of %d bytes", len(err.Error()))
		}
	})
}
