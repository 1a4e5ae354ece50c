package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		in      string
		want    rule
		wantErr bool
	}{
		{"login.microsoftonline.com:443:127.0.0.1:40443", rule{"login.microsoftonline.com", "443", "127.0.0.1:40443"}, false},
		{"*.AzureCR.io:443:127.0.0.1:40443", rule{"*.azurecr.io", "443", "127.0.0.1:40443"}, false},
		{"169.254.169.254:80:[::1]:8080", rule{"169.254.169.254", "80", "[::1]:8080"}, false},
		{"any.example:443:[::1]:443", rule{"any.example", "443", "[::1]:443"}, false},
		{"host:443:127.0.0.1", rule{}, true},
		{"host:443::40443", rule{}, true},
		{"*.*.io:443:127.0.0.1:1", rule{}, true},
		{"h:443:[::1:1", rule{}, true},
	}
	for _, tt := range tests {
		got, err := parseRule(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseRule(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResolve(t *testing.T) {
	p, err := New([]string{
		"# a comment", "",
		"login.microsoftonline.com:443:127.0.0.1:1001",
		"*.azurecr.io:443:127.0.0.1:1002",
		"169.254.169.254:80:127.0.0.1:1003",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"login.microsoftonline.com:443": "127.0.0.1:1001",
		"LOGIN.microsoftonline.com:443": "127.0.0.1:1001",
		"myreg.azurecr.io:443":          "127.0.0.1:1002",
		"169.254.169.254:80":            "127.0.0.1:1003",
		"login.microsoftonline.com:80":  "",
		"a.b.azurecr.io:443":            "", // one label, as the gateway and its certificate
		"azurecr.io:443":                "",
		"example.com:443":               "",
		"no-port":                       "",
	}
	for in, want := range tests {
		got, ok := p.Resolve(in)
		if got != want || ok != (want != "") {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded; want an error that asks for the rules")
	}
}

// serve runs p on loopback and returns its URL.
func serve(t *testing.T, p *Proxy) *url.URL {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(func() { p.Close(); srv.Close() })
	u, _ := url.Parse(srv.URL)
	return u
}

// backend is a TLS server standing in for the gateway; its certificate names example.com.
func backend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host="+r.Host+" sni="+r.TLS.ServerName)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func proxyClient(t *testing.T, proxyURL *url.URL, roots *tls.Config) *http.Client {
	t.Helper()
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: roots}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestConnect: a client that knows only the proxy reaches the mapped host with its real name
// (TLS end to end, SNI and Host unchanged), and is refused for any other host with 403 and a
// reason that names the host and what the proxy reaches.
func TestConnect(t *testing.T) {
	be := backend(t)
	p, err := New([]string{"example.com:443:" + be.Listener.Addr().String() + "", "*.azurecr.io:443:127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	pu := serve(t, p)
	client := proxyClient(t, pu, &tls.Config{RootCAs: be.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs})

	resp, err := client.Get("https://example.com/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(body); got != "host=example.com sni=example.com" {
		t.Errorf("backend saw %q", got)
	}

	_, err = client.Get("https://www.example.org/")
	if err == nil || !strings.Contains(err.Error(), "Forbidden: www.example.org:443 is not a host of the local Azure") ||
		!strings.Contains(err.Error(), "example.com:443, *.azurecr.io:443") {
		t.Errorf("err = %v, want a Forbidden that names the host and the destinations", err)
	}

	// The same refusal on the wire, as curl -v shows it.
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT www.example.org:443 HTTP/1.1\r\nHost: www.example.org:443\r\n\r\n")
	raw, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	rawBody, _ := io.ReadAll(raw.Body)
	if raw.StatusCode != http.StatusForbidden || !strings.Contains(string(rawBody), "never the internet") {
		t.Errorf("status %q, body %q", raw.Status, rawBody)
	}

	// A mapped host whose address does not answer: 502.
	_, err = client.Get("https://myreg.azurecr.io/v2/")
	if err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("err = %v, want Bad Gateway", err)
	}
}

// TestForward: absolute-form plain HTTP (HTTP_PROXY), as a managed identity client sends it to
// IMDS, is forwarded to the mapped address with the Host header unchanged; other hosts are
// refused.
func TestForward(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host+" "+r.URL.RequestURI()+" "+r.Header.Get("Metadata"))
	}))
	t.Cleanup(imds.Close)
	p, err := New([]string{"169.254.169.254:80:" + imds.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	client := proxyClient(t, serve(t, p), nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01", nil)
	req.Header.Set("Metadata", "true")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), "169.254.169.254 /metadata/identity/oauth2/token?api-version=2018-02-01 true"; got != want {
		t.Errorf("IMDS saw %q, want %q", got, want)
	}
	resp, err = client.Get("http://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d for an unmapped host, want 403", resp.StatusCode)
	}
}

// TestCloseEndsTunnels: Close ends open tunnels, which http.Server.Shutdown cannot see.
func TestCloseEndsTunnels(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c) // echo, never closes by itself
		}
	}()
	p, err := New([]string{"echo.example:443:" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	pu := serve(t, p)
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT echo.example:443 HTTP/1.1\r\nHost: echo.example:443\r\n\r\nping")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	echo := make([]byte, 4)
	if _, err := io.ReadFull(br, echo); err != nil || string(echo) != "ping" {
		t.Fatalf("echo %q, %v: bytes sent right after CONNECT must reach the other side", echo, err)
	}
	p.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("read after Close: %v, want EOF", err)
	}
}
