package transport

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/azimuth-gitops/azimuth/azurelocal/azuretest"
)

// tlsServer starts an HTTPS server and returns it with a pool trusting it. httptest's
// certificate names example.com, which lets a test ask for a real-looking host name.
func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, pool
}

func TestTransportFollowsConnectToAndTrustsRoots(t *testing.T) {
	srv, pool := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+r.Host)
	}))
	rule, err := ParseConnectTo("example.com:443:" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(&Options{ConnectTo: ConnectTo{rule}, RootCAs: pool}, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "hello from example.com" {
		t.Fatalf("body = %q", body)
	}

	// Without the roots the same request must fail verification: trust is not implied.
	plain, _ := NewClient(&Options{ConnectTo: ConnectTo{rule}}, 0)
	if _, err := plain.Get("https://example.com/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("request without the CA: err = %v, want a certificate error", err)
	}
}

func TestExtraCAs(t *testing.T) {
	srv, _ := tlsServer(t, http.NotFoundHandler())
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	rule, _ := ParseConnectTo("example.com:443:" + srv.Listener.Addr().String())
	client, err := NewClient(&Options{ConnectTo: ConnectTo{rule}, ExtraCAs: ca}, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := New(&Options{ExtraCAs: []byte("not pem")}); err == nil {
		t.Fatal("New accepted an extra CA bundle with no certificate")
	}
}

// connectProxy is a minimal HTTPS proxy: it answers CONNECT and records what it was asked.
type connectProxy struct {
	mu       sync.Mutex
	targets  []string
	authSeen []string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.authSeen = append(p.authSeen, r.Header.Get("Proxy-Authorization"))
	p.mu.Unlock()
	upstream, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, _ := w.(http.Hijacker).Hijack()
	io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { io.Copy(upstream, bufio.NewReader(buf)); upstream.Close() }()
	io.Copy(conn, upstream)
	conn.Close()
}

func TestProxyFromSecretIsUsed(t *testing.T) {
	srv, pool := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	proxy := &connectProxy{}
	proxySrv := httptest.NewServer(proxy)
	t.Cleanup(proxySrv.Close)

	u, err := ProxyFromSecret("proxy", map[string][]byte{"address": []byte(proxySrv.URL), "username": []byte("u"), "password": []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	client, _ := NewClient(&Options{RootCAs: pool, Proxy: u}, 0)
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(proxy.targets) != 1 || proxy.targets[0] != srv.Listener.Addr().String() {
		t.Fatalf("proxy saw CONNECT to %v, want %s", proxy.targets, srv.Listener.Addr())
	}
	if proxy.authSeen[0] != "Basic dTpw" {
		t.Fatalf("Proxy-Authorization = %q", proxy.authSeen[0])
	}
}

func TestProxyFromSecretErrorsNameTheKeyNotTheValue(t *testing.T) {
	tests := []struct {
		data    map[string][]byte
		wantErr string
	}{
		{map[string][]byte{}, "key 'address' is missing"},
		{map[string][]byte{"address": []byte("no scheme s3cr3t")}, "key 'address' must be a URL"},
		{map[string][]byte{"address": []byte("ftp://proxy:21")}, "key 'address' must be a URL"},
		{map[string][]byte{"address": []byte("http://user:s3cr3t@proxy:3128")}, "must not hold credentials"},
		{map[string][]byte{"address": []byte("http://proxy:3128"), "password": []byte("s3cr3t")}, "set together"},
	}
	for _, tt := range tests {
		_, err := ProxyFromSecret("corp-proxy", tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "corp-proxy") {
			t.Errorf("ProxyFromSecret(%v) error = %v, want one naming the secret and %q", tt.data, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error leaks a secret value: %v", err)
		}
	}
	u, err := ProxyFromSecret("p", map[string][]byte{"address": []byte("http://proxy.example.com:3128")})
	if err != nil || u.String() != (&url.URL{Scheme: "http", Host: "proxy.example.com:3128"}).String() {
		t.Fatalf("ProxyFromSecret = %v, %v", u, err)
	}
}

// A client certificate is presented to a server that asks for one, and a server that requires
// one refuses a client without it.
func TestClientCertificate(t *testing.T) {
	clientCA, client := clientPair(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	rule, _ := ParseConnectTo("example.com:443:" + srv.Listener.Addr().String())

	with, err := NewClient(&Options{ConnectTo: ConnectTo{rule}, RootCAs: roots, ClientCert: &client}, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := with.Get("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "tenant-a" {
		t.Fatalf("the server saw %q, want the client certificate's name", body)
	}

	without, _ := NewClient(&Options{ConnectTo: ConnectTo{rule}, RootCAs: roots}, 0)
	if _, err := without.Get("https://example.com/"); err == nil {
		t.Fatal("a server that requires a client certificate accepted a client without one")
	}
}

// clientPair makes a CA and a client certificate it issues, for the name tenant-a.
func clientPair(t *testing.T) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	ca := azuretest.NewCA("client CA", nil)
	client := azuretest.NewKeyPair("tenant-a", &ca)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool, tls.Certificate{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}
}

// A handshake that a certSecretRef can fix gets a hint that names what to put in it; other
// failures get none.
func TestTLSHint(t *testing.T) {
	clientCA, client := clientPair(t)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCA}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	rule, _ := ParseConnectTo("example.com:443:" + srv.Listener.Addr().String())
	_, stranger := clientPair(t) // issued by another CA
	for name, c := range map[string]struct {
		opts Options
		want string
	}{
		"an untrusted server":          {Options{ConnectTo: ConnectTo{rule}}, "'ca.crt'"},
		"no client certificate":        {Options{ConnectTo: ConnectTo{rule}, RootCAs: roots}, "'tls.crt' and 'tls.key'"},
		"a certificate of another CA":  {Options{ConnectTo: ConnectTo{rule}, RootCAs: roots, ClientCert: &stranger}, "refused the client certificate"},
		"the right client certificate": {Options{ConnectTo: ConnectTo{rule}, RootCAs: roots, ClientCert: &client}, ""},
	} {
		client, _ := NewClient(&c.opts, 0)
		resp, err := client.Get("https://example.com/")
		if err == nil {
			resp.Body.Close()
		}
		if hint := TLSHint(err); c.want == "" && hint != "" || !strings.Contains(hint, c.want) {
			t.Errorf("%s: %v: hint %q, want one saying %q", name, err, hint, c.want)
		}
	}
	if TLSHint(errors.New("connection refused")) != "" {
		t.Error("a failure that is no TLS one got a hint")
	}
}
