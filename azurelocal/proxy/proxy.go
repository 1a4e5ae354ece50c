// Package proxy is the local Azure's door for clients that have no connect-to setting: an HTTP
// proxy that sends each connection to the address the connect-to map gives for its host and
// port, and refuses every other destination.
//
// In DESIGN.md's flow it stands in front of the gateway. A client that sets only HTTPS_PROXY
// (and trusts the local CA with SSL_CERT_FILE) keeps the real Azure host names: crane, docker,
// git, sops, the az CLI or any SDK opens a CONNECT tunnel to login.microsoftonline.com:443 or
// myreg.azurecr.io:443, the proxy joins it to the gateway, and TLS runs end to end between the
// client and the gateway, which presents a certificate for the real name. Plain HTTP requests in
// absolute form (HTTP_PROXY) are forwarded the same way, for IMDS at 169.254.169.254:80.
//
// The rules are the gateway's connect-to rules (gateway.ConnectToRules), in curl's
// HOST:PORT:ADDR:PORT form. A host may be a wildcard over one label (*.azurecr.io), as the
// gateway and its certificate match it.
//
// Not emulated: it is not a general proxy. A host the map does not name is refused with 403
// Forbidden and a reason that names the host, so nothing ever reaches the internet; proxy
// authentication, HTTPS to the proxy itself and HTTP/2 to the proxy are not offered.
package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/gateway"
)

// Option configures a Proxy.
type Option func(*Proxy)

// WithLogger receives a line for each refused or failed connection. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(p *Proxy) { p.log = l } }

// WithDialTimeout bounds the connection to the mapped address. Default: 10 seconds.
func WithDialTimeout(d time.Duration) Option { return func(p *Proxy) { p.dialer.Timeout = d } }

// Proxy is an http.Handler that serves CONNECT and absolute-form HTTP requests for the hosts of
// its rules. It is safe for concurrent use. Close ends the tunnels it holds open.
type Proxy struct {
	rules  []rule
	log    *slog.Logger
	dialer net.Dialer
	fwd    *httputil.ReverseProxy

	mu      sync.Mutex
	tunnels map[net.Conn]struct{}
	closed  bool
}

var _ http.Handler = (*Proxy)(nil)

// New returns a proxy for rules in the HOST:PORT:ADDR:PORT form, as gateway.ConnectToRules
// writes them; blank lines and lines that start with '#' are skipped.
func New(rules []string, opts ...Option) (*Proxy, error) {
	p := &Proxy{log: slog.Default(), dialer: net.Dialer{Timeout: 10 * time.Second}, tunnels: map[net.Conn]struct{}{}}
	for _, line := range rules {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := parseRule(line)
		if err != nil {
			return nil, err
		}
		p.rules = append(p.rules, r)
	}
	if len(p.rules) == 0 {
		return nil, errors.New("proxy: no connect-to rules; give it the gateway's (azurelocal.Azure.ConnectTo)")
	}
	for _, o := range opts {
		o(p)
	}
	p.fwd = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.Out.Host = pr.In.Host },
		Transport: &http.Transport{
			Proxy: nil, // never chain to another proxy
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				to, ok := p.Resolve(addr)
				if !ok {
					return nil, fmt.Errorf("%s is not in the connect-to map", addr)
				}
				return p.dialer.DialContext(ctx, network, to)
			},
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("azurelocal proxy: forwarding failed", "host", r.Host, "error", err)
			http.Error(w, fmt.Sprintf("azurelocal proxy: forwarding to %s failed: %v\n", r.Host, err), http.StatusBadGateway)
		},
	}
	return p, nil
}

// rule is one connect-to rule. An empty Port matches any port.
type rule struct {
	host, port string // pattern: a host name or *.suffix (one label), and a port
	addr       string // host:port to dial
}

// parseRule reads HOST:PORT:ADDR:PORT; IPv6 addresses are written in brackets.
func parseRule(s string) (rule, error) {
	var fields []string
	for rest := s; ; {
		var f string
		if strings.HasPrefix(rest, "[") {
			end := strings.Index(rest, "]")
			if end < 0 {
				return rule{}, fmt.Errorf("proxy: connect-to rule '%s': unclosed '['", s)
			}
			f, rest = rest[1:end], rest[end+1:]
			if rest != "" && rest[0] != ':' {
				return rule{}, fmt.Errorf("proxy: connect-to rule '%s': unexpected '%c' after ']'", s, rest[0])
			}
		} else {
			i := strings.IndexByte(rest, ':')
			if i < 0 {
				i = len(rest)
			}
			f, rest = rest[:i], rest[i:]
		}
		fields = append(fields, f)
		if rest == "" {
			break
		}
		rest = rest[1:]
	}
	if len(fields) != 4 || fields[0] == "" || fields[2] == "" || fields[3] == "" {
		return rule{}, fmt.Errorf("proxy: connect-to rule '%s': want HOST:PORT:ADDR:PORT", s)
	}
	if strings.HasPrefix(fields[0], "*.") {
		if err := gateway.ValidPattern(strings.ToLower(fields[0])); err != nil {
			return rule{}, fmt.Errorf("proxy: connect-to rule '%s': %w", s, err)
		}
	}
	return rule{host: strings.ToLower(fields[0]), port: fields[1], addr: net.JoinHostPort(fields[2], fields[3])}, nil
}

func (r rule) matches(host, port string) bool {
	return (r.port == "" || r.port == port) && gateway.MatchHost(r.host, host)
}

func (r rule) String() string {
	if r.port == "" {
		return r.host
	}
	return r.host + ":" + r.port
}

// Resolve returns the address the first matching rule gives for hostport ("host:port").
func (p *Proxy) Resolve(hostport string) (string, bool) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", false
	}
	for _, r := range p.rules {
		if r.matches(host, port) {
			return r.addr, true
		}
	}
	return "", false
}

// Destinations returns the hosts and ports the proxy reaches, as the rules name them.
func (p *Proxy) Destinations() []string {
	out := make([]string, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.String()
	}
	return out
}

// ServeHTTP serves CONNECT host:port, and GET (or any method) http://host/... in absolute form.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.connect(w, r)
	case r.URL.IsAbs() && r.URL.Scheme == "http":
		p.forward(w, r)
	case r.URL.IsAbs():
		http.Error(w, fmt.Sprintf("azurelocal proxy: %s URLs go through a CONNECT tunnel; set HTTPS_PROXY, not a request to the proxy\n", r.URL.Scheme), http.StatusBadRequest)
	default:
		http.Error(w, "azurelocal proxy: this is an HTTP proxy for the local Azure; use it as HTTPS_PROXY (and HTTP_PROXY for IMDS), not as a server\n", http.StatusBadRequest)
	}
}

// refusal is the status line reason and body for a destination outside the map. Go clients
// print the reason ("proxyconnect ...: Forbidden: ..."), curl -v shows both.
func (p *Proxy) refusal(hostport string) string {
	return fmt.Sprintf("%s is not a host of the local Azure; this proxy reaches only %s and never the internet (list other hosts in NO_PROXY)",
		hostport, strings.Join(p.Destinations(), ", "))
}

func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if _, _, err := net.SplitHostPort(target); err != nil {
		http.Error(w, fmt.Sprintf("azurelocal proxy: CONNECT needs host:port, got '%s'\n", target), http.StatusBadRequest)
		return
	}
	addr, ok := p.Resolve(target)
	if !ok {
		p.log.Info("azurelocal proxy: refused", "target", target)
		writeStatus(w, http.StatusForbidden, p.refusal(target))
		return
	}
	upstream, err := p.dialer.DialContext(r.Context(), "tcp", addr)
	if err != nil {
		p.log.Warn("azurelocal proxy: the local Azure did not answer", "target", target, "addr", addr, "error", err)
		writeStatus(w, http.StatusBadGateway, fmt.Sprintf("the local Azure at %s (for %s) did not answer: %v", addr, target, err))
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		http.Error(w, "azurelocal proxy: cannot take over the connection: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if !p.track(conn, upstream) {
		conn.Close()
		upstream.Close()
		return
	}
	defer p.untrack(conn, upstream)
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	splice(conn, buf.Reader, upstream)
}

// writeStatus answers with a status line whose reason carries the explanation, and the same text
// as the body, on a connection that is then closed.
func writeStatus(w http.ResponseWriter, status int, reason string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, "azurelocal proxy: "+reason+"\n", status)
		return
	}
	defer conn.Close()
	body := "azurelocal proxy: " + reason + "\n"
	fmt.Fprintf(buf, "HTTP/1.1 %d %s: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), strings.NewReplacer("\r", " ", "\n", " ").Replace(reason), len(body), body)
	buf.Flush()
}

// splice copies both ways until each side has finished writing, then closes both.
func splice(client net.Conn, clientReader *bufio.Reader, upstream net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(upstream, clientReader) // includes what the client sent after its CONNECT
		closeWrite(upstream)
	}()
	go func() {
		defer wg.Done()
		io.Copy(client, upstream)
		closeWrite(client)
	}()
	wg.Wait()
	client.Close()
	upstream.Close()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	c.Close()
}

func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	port := r.URL.Port()
	if port == "" {
		port = "80"
	}
	target := net.JoinHostPort(r.URL.Hostname(), port)
	if _, ok := p.Resolve(target); !ok {
		p.log.Info("azurelocal proxy: refused", "target", target)
		http.Error(w, "azurelocal proxy: "+p.refusal(target)+"\n", http.StatusForbidden)
		return
	}
	r.URL.Host = target
	p.fwd.ServeHTTP(w, r)
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range conns {
		p.tunnels[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.tunnels, c)
	}
}

// Close ends every open tunnel and refuses new ones; http.Server.Shutdown does not see hijacked
// connections, so call both.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := make([]net.Conn, 0, len(p.tunnels))
	for c := range p.tunnels {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	if t, ok := p.fwd.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	return nil
}
