package entra_test

import (
	"strings"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/entra"
)

// TestSubjectNameIssuerChain is issue 10's item 7: subject name and issuer authentication checks
// the chain to a CA the directory trusts, as Entra ID does. A CA made with the same names as the
// genuine one (so its leaves have the registered subject and issuer) is refused with AADSTS7000213,
// with or without that CA in x5c; the genuine chain is accepted.
func TestSubjectNameIssuerChain(t *testing.T) {
	f := newFixture(t)
	forgedCA := azuretest.NewKeyPair("test-ca", nil) // same names as f.sniCA, another key
	forged := azuretest.NewKeyPair("sni-app", &forgedCA)
	tests := []struct {
		name     string
		signer   azuretest.KeyPair
		x5c      []*x509Cert
		wantCode int
	}{
		{"genuine chain: new certificate and the CA that issued the registered one", f.sniOther, []*x509Cert{f.sniOther.Cert, f.sniCA.Cert}, 0},
		{"forged CA with the same names, in x5c", forged, []*x509Cert{forged.Cert, forgedCA.Cert}, 7000213},
		{"forged CA's certificate alone", forged, []*x509Cert{forged.Cert}, 7000213},
		{"forged certificate with the genuine CA beside it", forged, []*x509Cert{forged.Cert, f.sniCA.Cert}, 7000213},
		{"genuine certificate alone: the directory declares no CA", f.sniOther, []*x509Cert{f.sniOther.Cert}, 7000213},
		{"other names: not a subject name and issuer match", azuretest.NewKeyPair("someone-else", &f.sniCA),
			nil, 700027},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x5c := tt.x5c
			if x5c == nil {
				x5c = []*x509Cert{tt.signer.Cert, f.sniCA.Cert}
			}
			resp := f.post(t, "login.microsoftonline.com", tenantID,
				assertionForm(sniApp, f.certAssertion(t, tt.signer, sniApp, assertion{x5c: x5c})))
			if tt.wantCode == 0 {
				if resp.Status != 200 || resp.AccessToken == "" {
					t.Fatalf("status %d: %s", resp.Status, resp.Description)
				}
				return
			}
			if resp.Status != 401 || resp.Error != "invalid_client" || len(resp.Codes) != 1 || resp.Codes[0] != tt.wantCode {
				t.Fatalf("status %d %s %v: %s; want 401 invalid_client AADSTS%d", resp.Status, resp.Error, resp.Codes, resp.Description, tt.wantCode)
			}
			if tt.wantCode == 7000213 && !strings.HasPrefix(resp.Description, "AADSTS7000213: Invalid certificate chain.") {
				t.Errorf("description %q", resp.Description)
			}
		})
	}
}

// TestSubjectNameIssuerDeclaredCA: a CA certificate that follows the registered certificate in
// the directory's pem is trusted for the application, so a new certificate it issued is accepted
// with x5c holding only that certificate (as azidentity sends it from a file without the chain),
// or holding an intermediate below the declared root; a forged CA with the same names is not.
func TestSubjectNameIssuerDeclaredCA(t *testing.T) {
	f := newFixture(t)
	root := azuretest.NewCA("declared-root", nil)
	intermediate := azuretest.NewCA("declared-intermediate", &root)
	registered := azuretest.NewKeyPair("sni-declared", &root)
	rotated := azuretest.NewKeyPair("sni-declared", &root)
	registeredBelow := azuretest.NewKeyPair("sni-below", &intermediate)
	rotatedBelow := azuretest.NewKeyPair("sni-below", &intermediate)
	forgedRoot := azuretest.NewCA("declared-root", nil)
	forged := azuretest.NewKeyPair("sni-declared", &forgedRoot)
	const declaredApp = "0d1f6a43-7c1e-4f0b-9a55-6a3c2b8e41d7"
	dir, err := directory.Parse([]byte(`
tenants: [{id: ` + tenantID + `}]
applications:
  - name: declared
    clientId: ` + declaredApp + `
    principalId: 6f0c2b1e-35a4-4d2b-a1f7-0c9e8d7b6a54
    allowSubjectNameIssuer: true
    certificates:
      - {name: leaf, pem: "` + azuretest.OneLine(registered.CertPEM(), root.CertPEM()) + `"}
      - {name: below, pem: "` + azuretest.OneLine(registeredBelow.CertPEM(), root.CertPEM()) + `"}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := entra.New(dir, entra.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	g := &fixture{srv: srv, clock: f.clock}
	tests := []struct {
		name     string
		signer   azuretest.KeyPair
		x5c      []*x509Cert
		wantCode int
	}{
		{"new certificate of the declared CA, alone in x5c", rotated, []*x509Cert{rotated.Cert}, 0},
		{"new certificate below an intermediate of the declared root", rotatedBelow, []*x509Cert{rotatedBelow.Cert, intermediate.Cert}, 0},
		{"intermediate not sent", rotatedBelow, []*x509Cert{rotatedBelow.Cert}, 7000213},
		{"forged root with the declared root's names", forged, []*x509Cert{forged.Cert, forgedRoot.Cert}, 7000213},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := g.post(t, "login.microsoftonline.com", tenantID,
				assertionForm(declaredApp, g.certAssertion(t, tt.signer, declaredApp, assertion{x5c: tt.x5c})))
			if tt.wantCode == 0 {
				if resp.Status != 200 {
					t.Fatalf("status %d: %s", resp.Status, resp.Description)
				}
				return
			}
			if resp.Status != 401 || len(resp.Codes) != 1 || resp.Codes[0] != tt.wantCode {
				t.Fatalf("status %d %v: %s; want 401 AADSTS%d", resp.Status, resp.Codes, resp.Description, tt.wantCode)
			}
		})
	}
}
