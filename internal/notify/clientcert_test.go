package notify

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/azimuth-gitops/azimuth/api/meta"
	notificationv1 "github.com/azimuth-gitops/azimuth/api/notification/v1beta3"
	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
	"github.com/azimuth-gitops/azimuth/internal/transport"
)

// TestProviderClientCertificate: an endpoint that requires mutual TLS receives the event from
// the Provider whose certSecretRef holds a client certificate it trusts; the Provider with only
// the CA is refused in the handshake, and its event says which keys to set.
func TestProviderClientCertificate(t *testing.T) {
	clientCA := azuretest.NewCA("webhook clients", nil)
	client := azuretest.NewKeyPair("flux-alerts", &clientCA)
	trusted := x509.NewCertPool()
	trusted.AddCert(clientCA.Cert)
	var received atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "flux-alerts" {
			received.Add(1)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: trusted}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	serverCA := azuretest.CertPEM(srv.Certificate())

	secret := func(name string, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, Data: data}
	}
	withCert := func(name string) func(*notificationv1.Provider) {
		return func(p *notificationv1.Provider) { p.Spec.CertSecretRef = &meta.LocalObjectReference{Name: name} }
	}
	h := start(t, Options{}, transport.Options{},
		secret("mtls", map[string][]byte{"ca.crt": serverCA, "tls.crt": client.CertPEM(), "tls.key": client.KeyPEM()}),
		secret("ca-only", map[string][]byte{"ca.crt": serverCA}),
		provider("mtls", "generic", srv.URL, withCert("mtls")),
		provider("ca-only", "generic", srv.URL, withCert("ca-only")),
		alert("to-mtls", "mtls"),
		alert("to-ca-only", "ca-only"),
	)
	if err := h.d.Submit(*kustomizationEvent("apps", "web", SeverityInfo, "Reconciliation finished")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery and the refusal", func() bool { return received.Load() == 1 && h.events.find("ca-only") != "" })
	if e := h.events.find("ca-only"); !strings.Contains(e, "'tls.crt' and 'tls.key'") {
		t.Errorf("the refused Provider's event: %q", e)
	}
}
