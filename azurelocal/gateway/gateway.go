// Package gateway is the front door of the local Azure: one HTTPS listener that serves every
// emulated Azure host name and routes each request, by host name, to the emulator that owns it
// (login.microsoftonline.com to azurelocal/entra, *.azurecr.io to the registry, and so on).
//
// In DESIGN.md's flow it stands where the public Azure endpoints stand. Clients reach it only
// through a connect-to map (see ConnectToRules and internal/transport), applied by the client or
// by the local Azure's HTTP proxy (azurelocal/proxy), and trust of the local CA (azurelocal/pki);
// they keep the real host names, so product code has no local branch.
//
// Not emulated:
//   - DNS: nothing resolves the Azure names; the connect-to map does the redirection;
//   - regional and data endpoints (myacr.eastus.data.azurecr.io): a wildcard pattern matches
//     exactly one label, like the wildcard certificate that covers it.
package gateway

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Gateway routes requests by host name. It is an http.Handler; the zero value is not usable, use
// New.
type Gateway struct {
	mu     sync.RWMutex
	routes map[string]http.Handler // by lower-case pattern
	faults faults
}

var _ http.Handler = (*Gateway)(nil)

// New returns a gateway with no routes.
func New() *Gateway { return &Gateway{routes: map[string]http.Handler{}} }

// Register routes pattern to h, replacing any earlier handler for the same pattern. A pattern is
// an exact host name ("login.microsoftonline.com") or a wildcard over one label
// ("*.azurecr.io"). An exact pattern wins over a wildcard that also matches.
func (g *Gateway) Register(pattern string, h http.Handler) error {
	p := strings.ToLower(pattern)
	if err := ValidPattern(p); err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("gateway: nil handler for %s", pattern)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.routes[p] = h
	return nil
}

// Patterns returns the registered patterns, sorted.
func (g *Gateway) Patterns() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]string, 0, len(g.routes))
	for p := range g.routes {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// ValidPattern checks a host pattern.
func ValidPattern(p string) error {
	rest, _ := strings.CutPrefix(p, "*.")
	if rest == "" || strings.ContainsAny(rest, "*:/ ") || !strings.Contains(rest, ".") && net.ParseIP(rest) == nil {
		return fmt.Errorf("gateway: host pattern '%s' must be a host name such as login.microsoftonline.com, or *. followed by one, such as *.azurecr.io", p)
	}
	return nil
}

// MatchHost reports whether host matches pattern. Both compare case-insensitively; a wildcard
// pattern matches exactly one more label, as TLS certificates do.
func MatchHost(pattern, host string) bool {
	pattern, host = strings.ToLower(pattern), strings.ToLower(strings.TrimSuffix(host, "."))
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok {
		return pattern == host
	}
	label, rest, found := strings.Cut(host, ".")
	return found && label != "" && rest == suffix
}

// lookup finds the route for host: an exact pattern first, then a wildcard.
func (g *Gateway) lookup(host string) (pattern string, h http.Handler) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	g.mu.RLock()
	defer g.mu.RUnlock()
	if h, ok := g.routes[host]; ok {
		return host, h
	}
	if _, rest, ok := strings.Cut(host, "."); ok {
		if h, ok := g.routes["*."+rest]; ok {
			return "*." + rest, h
		}
	}
	return "", nil
}

// ServeHTTP routes r by its Host header. Over TLS the SNI name must match the same pattern as the
// Host header, or the answer is 421 Misdirected Request, as a shared front end would say when a
// connection is reused for a host it does not serve.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := hostOnly(r.Host)
	pattern, h := g.lookup(host)
	if h == nil {
		http.Error(w, fmt.Sprintf("azurelocal gateway: no emulator serves host '%s'; served hosts: %s\n",
			host, strings.Join(g.Patterns(), ", ")), http.StatusNotFound)
		return
	}
	if r.TLS != nil && r.TLS.ServerName != "" && !strings.EqualFold(r.TLS.ServerName, host) {
		if sniPattern, _ := g.lookup(r.TLS.ServerName); sniPattern != pattern {
			http.Error(w, fmt.Sprintf("azurelocal gateway: this connection was opened for '%s' (TLS server name), not for host '%s'\n",
				r.TLS.ServerName, host), http.StatusMisdirectedRequest)
			return
		}
	}
	if g.serveFault(w, r, host) {
		return
	}
	h.ServeHTTP(w, r)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(hostport, "[]")
}

// ConnectToRules returns the connect-to map, one rule per line in curl's --connect-to form
// HOST:PORT:ADDR:PORT, that sends each of hosts on port 443 to gatewayAddr and the IMDS address
// 169.254.169.254:80 to imdsAddr. internal/transport reads this format.
func ConnectToRules(hosts []string, gatewayAddr, imdsAddr string) []string {
	rules := make([]string, 0, len(hosts)+1)
	for _, h := range hosts {
		rules = append(rules, h+":443:"+bracketHostPort(gatewayAddr))
	}
	if imdsAddr != "" {
		rules = append(rules, IMDSAddress+":80:"+bracketHostPort(imdsAddr))
	}
	return rules
}

// IMDSAddress is the link-local address of the Azure Instance Metadata Service.
const IMDSAddress = "169.254.169.254"

// bracketHostPort renders host:port with IPv6 hosts in brackets, as curl writes them.
func bracketHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}
