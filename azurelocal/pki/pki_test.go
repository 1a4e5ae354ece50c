package pki

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateCAPersists(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode = %v, want 0600", info.Mode().Perm())
	}
	second, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.CertPEM, second.CertPEM) {
		t.Error("a restart must reuse the CA")
	}
}

func TestLoadOrCreateCAHalfState(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateCA(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateCA(dir); err == nil || !strings.Contains(err.Error(), "only one of") {
		t.Fatalf("err = %v, want a refusal to replace half a CA", err)
	}
}

func TestIssue(t *testing.T) {
	ca, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue([]string{"login.microsoftonline.com", "*.azurecr.io", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(leaf.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		ok   bool
	}{
		{"login.microsoftonline.com", true},
		{"myacr.azurecr.io", true},
		{"a.b.azurecr.io", false},
		{"127.0.0.1", true},
		{"example.com", false},
	}
	for _, tt := range tests {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: tt.host, Roots: ca.Pool()})
		if (err == nil) != tt.ok {
			t.Errorf("Verify(%s) err = %v, want ok=%v", tt.host, err, tt.ok)
		}
	}
	dir := t.TempDir()
	if err := leaf.WriteFiles(filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls-key.pem")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "tls.pem")); !bytes.Contains(data, ca.CertPEM) {
		t.Error("the written chain must end with the CA")
	}
}
