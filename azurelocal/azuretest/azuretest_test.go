package azuretest_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
	"github.com/azimuth-gitops/azimuth/azurelocal/internal/jose"
)

// TestKeyPairs: a leaf chains to its CA through an intermediate, a reissued certificate keeps its
// key, and PEM is a pair TLS accepts.
func TestKeyPairs(t *testing.T) {
	root := azuretest.NewCA("root", nil)
	intermediate := azuretest.NewCA("intermediate", &root)
	leaf := azuretest.NewKeyPair("leaf", &intermediate)
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.Cert)
	inter.AddCert(intermediate.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("leaf does not chain to its root: %v", err)
	}
	if leaf.Cert.IsCA || !intermediate.Cert.IsCA || leaf.Cert.Subject.CommonName != "leaf" {
		t.Errorf("leaf IsCA %v, intermediate IsCA %v, leaf CN %q", leaf.Cert.IsCA, intermediate.Cert.IsCA, leaf.Cert.Subject.CommonName)
	}
	again := leaf.Reissue("leaf-2")
	if !again.Key.Equal(leaf.Key) || again.Cert.Equal(leaf.Cert) || again.Cert.CheckSignatureFrom(again.Cert) != nil {
		t.Error("Reissue must keep the key and self-sign a new certificate")
	}
	if _, err := tls.X509KeyPair(leaf.PEM(), leaf.PEM()); err != nil {
		t.Errorf("PEM: %v", err)
	}
	if got := azuretest.OneLine([]byte("a\nb\n"), []byte("c\n")); got != `a\nb\nc\n` {
		t.Errorf("OneLine = %q", got)
	}
}

// TestIssuer: the issuer publishes the key its tokens verify with, at the address its discovery
// document gives.
func TestIssuer(t *testing.T) {
	is := azuretest.NewIssuer()
	defer is.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(is.CAPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, client, is.URL()+"/.well-known/openid-configuration", &discovery)
	var keys jose.JWKS
	getJSON(t, client, discovery.JWKSURI, &keys)
	if discovery.Issuer != is.URL() || len(keys.Keys) != 1 || keys.Keys[0].Kid != azuretest.IssuerKeyID {
		t.Fatalf("discovery %+v, keys %+v", discovery, keys)
	}
	key, err := keys.Keys[0].PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.Parse(is.Token("system:serviceaccount:ns:sa", "api://AzureADTokenExchange"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(key); err != nil {
		t.Errorf("the token does not verify with the published key: %v", err)
	}
	exp, _ := tok.Time("exp")
	if tok.String("iss") != is.URL() || tok.String("sub") != "system:serviceaccount:ns:sa" ||
		!slices.Equal(tok.Audiences(), []string{"api://AzureADTokenExchange"}) || time.Until(exp) < 59*time.Minute {
		t.Errorf("claims %v", tok.Claims)
	}
	if c := azuretest.Claims(t, is.Token("s", "a")); c["sub"] != "s" || c["jti"] == nil {
		t.Errorf("Claims = %v", c)
	}
}

func getJSON(t *testing.T, c *http.Client, url string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderAndClock(t *testing.T) {
	var r azuretest.Recorder[int]
	r.Add(1)
	mark := r.Len()
	r.Add(2)
	r.Add(3)
	if got := r.Since(mark, nil); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("Since = %v", got)
	}
	if n := r.Count(0, func(i int) bool { return i%2 == 1 }); n != 2 {
		t.Errorf("Count = %d", n)
	}
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	c := azuretest.NewClock(start)
	c.Advance(time.Hour)
	if !c.Now().Equal(start.Add(time.Hour)) {
		t.Errorf("fixed clock at %v", c.Now())
	}
	var real azuretest.Clock
	real.Advance(-time.Hour)
	if d := time.Since(real.Now()); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("real clock %v behind", d)
	}
}

// TestStartAzure: the state directory StartAzure made goes with Stop; a directory in YAML and in
// the options is refused.
func TestStartAzure(t *testing.T) {
	a, err := azuretest.StartAzure("tenants: [{id: 2e811126-9388-40f9-a8e4-23ac7e094717}]", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Directory().Tenant("2e811126-9388-40f9-a8e4-23ac7e094717"); !ok {
		t.Error("the directory is not the YAML's")
	}
	state := a.StateDir()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state directory left behind: %v", err)
	}
	if _, err := azuretest.StartAzure("tenants: []", &azurelocal.Options{Directory: directory.Default()}); err == nil {
		t.Error("a directory in YAML and in Options must be refused")
	}
}
