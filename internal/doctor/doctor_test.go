package doctor

import (
	"strings"
	"testing"
)

// The chain against the local Azure and a real API server is tested through the CLI, in
// cmd/azimuth/doctor_test.go.

func TestReport(t *testing.T) {
	r := &Report{Object: "OCIRepository a/b"}
	r.add(Link{Name: "provider", OK: true, Detail: "spec.provider is azure"})
	r.add(Link{Name: "identity", OK: true, Skipped: true, Detail: "controller"})
	if !r.OK() {
		t.Error("a chain of passed and skipped links is not OK")
	}
	r.add(Link{Name: "role", Detail: "refused", Fix: "azimuth setup grant"})
	if r.OK() {
		t.Error("a broken link is OK")
	}
	var b strings.Builder
	r.Print(&b)
	want := "OCIRepository a/b\n  ✔ provider: spec.provider is azure\n  - identity: controller\n  ✘ role: refused\n      fix: azimuth setup grant\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestUnknownKind(t *testing.T) {
	if _, err := Diagnose(t.Context(), Options{}, "helmrelease", "a", "b"); err == nil || !strings.Contains(err.Error(), "ocirepository") {
		t.Errorf("err = %v", err)
	}
}
