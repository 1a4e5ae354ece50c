package doctor

import (
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/internal/access"
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

func TestIssuerLink(t *testing.T) {
	spec := access.Spec{Namespace: "a", ServiceAccountName: "b"}
	const iss = "https://oidc.example.com/abc"
	for fed, want := range map[string]string{
		"":                              "give the doctor --federated-issuer",
		iss:                             "the federated credential's issuer is the token's",
		iss + "/":                       "differ only by a trailing slash",
		"https://OIDC.example.com/abc":  "differ only in case",
		"https://OIDC.example.com/abc/": "differ in case and by a trailing slash",
		"https://other.example.com/xyz": "is not the token's",
	} {
		l := Options{FederatedIssuer: fed}.issuerLink(iss, spec)
		if !strings.Contains(l.Detail, want) {
			t.Errorf("%q: detail %q lacks %q", fed, l.Detail, want)
		}
		if broken := !l.OK && !l.Skipped; broken != (fed != "" && fed != iss) {
			t.Errorf("%q: link %+v", fed, l)
		}
	}
}

func TestParseKey(t *testing.T) {
	k, err := parseKey("https://v.vault.azure.net/keys/sops/0123abcd")
	if err != nil || k.VaultURL != "https://v.vault.azure.net" || k.Name != "sops" || k.Version != "0123abcd" {
		t.Errorf("key %+v, %v", k, err)
	}
	for _, bad := range []string{"sops", "https://v.vault.azure.net/secrets/x", "https://v.vault.azure.net/keys/"} {
		if _, err := parseKey(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestSubjectLink(t *testing.T) {
	const sub = "system:serviceaccount:a:b"
	for _, tc := range []struct {
		fed      string
		caseOnly bool
		want     string
		broken   bool
	}{
		{"", false, "must be exactly that, case included", false},
		{"", true, "differs from the token's only in case", true},
		{sub, false, "is the token's", false},
		{"system:serviceaccount:a:B", false, "only in case", true},
		{"system:serviceaccount:a:c", false, "is not the token's", true},
	} {
		l := Options{FederatedSubject: tc.fed}.subjectLink(sub, tc.caseOnly, "azimuth setup identity")
		if !strings.Contains(l.Detail, tc.want) {
			t.Errorf("%q: detail %q lacks %q", tc.fed, l.Detail, tc.want)
		}
		if broken := !l.OK && !l.Skipped; broken != tc.broken {
			t.Errorf("%q: link %+v", tc.fed, l)
		}
		if tc.broken && !strings.Contains(l.Fix, `exactly "`+sub+`"`) {
			t.Errorf("%q: the fix does not name the exact subject: %q", tc.fed, l.Fix)
		}
	}
}
