package transport

import (
	"fmt"
	"net"
	"strings"
)

// Rule sends connections for Host:Port to Addr:AddrPort instead. An empty Host or Port matches
// any host or port, as in curl; a Host of the form "*.example.com" matches every name below
// example.com (but not example.com itself). An empty Addr or AddrPort keeps the original one.
type Rule struct {
	Host     string
	Port     string
	Addr     string
	AddrPort string
}

// String renders the rule in the HOST:PORT:ADDR:PORT form ParseConnectTo reads.
func (r Rule) String() string {
	return bracket(r.Host) + ":" + r.Port + ":" + bracket(r.Addr) + ":" + r.AddrPort
}

// ParseConnectTo reads one rule in curl's --connect-to form, HOST:PORT:ADDR:PORT. IPv6
// addresses are written in brackets, as in "[::1]".
func ParseConnectTo(s string) (Rule, error) {
	parts, err := splitColons(strings.TrimSpace(s))
	if err != nil {
		return Rule{}, fmt.Errorf("invalid connect-to rule %q: %w", s, err)
	}
	if len(parts) != 4 {
		return Rule{}, fmt.Errorf("invalid connect-to rule %q: want HOST:PORT:ADDR:PORT, got %d fields", s, len(parts))
	}
	r := Rule{Host: strings.ToLower(parts[0]), Port: parts[1], Addr: parts[2], AddrPort: parts[3]}
	for _, p := range []struct{ name, value string }{{"PORT", r.Port}, {"second PORT", r.AddrPort}} {
		if err := checkPort(p.value); err != nil {
			return Rule{}, fmt.Errorf("invalid connect-to rule %q: %s: %w", s, p.name, err)
		}
	}
	if strings.Contains(strings.TrimPrefix(r.Host, "*."), "*") {
		return Rule{}, fmt.Errorf("invalid connect-to rule %q: a wildcard may only be the first label, as in *.azurecr.io", s)
	}
	if r.Host == "" && r.Port == "" && r.Addr == "" && r.AddrPort == "" {
		return Rule{}, fmt.Errorf("invalid connect-to rule %q: it changes nothing", s)
	}
	return r, nil
}

// ParseConnectToList reads rules separated by commas, spaces or new lines, skipping blank lines
// and lines that start with '#'. It is the format of AZIMUTH_CONNECT_TO and of the connect-to
// file the local Azure writes.
func ParseConnectToList(s string) ([]Rule, error) {
	var rules []Rule
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, field := range strings.FieldsFunc(line, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' || c == '\r' }) {
			r, err := ParseConnectTo(field)
			if err != nil {
				return nil, err
			}
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// ConnectTo is an ordered list of rules; the first rule that matches wins.
type ConnectTo []Rule

// Resolve returns the address to dial for address ("host:port"), which is address itself when
// no rule matches.
func (c ConnectTo) Resolve(address string) string {
	if len(c) == 0 {
		return address
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return address
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range c {
		if !r.matches(host, port) {
			continue
		}
		if r.Addr != "" {
			host = r.Addr
		}
		if r.AddrPort != "" {
			port = r.AddrPort
		}
		return net.JoinHostPort(host, port)
	}
	return address
}

func (r Rule) matches(host, port string) bool {
	if r.Port != "" && r.Port != port {
		return false
	}
	switch {
	case r.Host == "":
		return true
	case strings.HasPrefix(r.Host, "*."):
		suffix := r.Host[1:] // ".azurecr.io"
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	default:
		return r.Host == host
	}
}

// splitColons splits on ':' except inside brackets, and drops the brackets.
func splitColons(s string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	inBracket := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[' && !inBracket && cur.Len() == 0:
			inBracket = true
		case c == ']' && inBracket:
			inBracket = false
			if i+1 < len(s) && s[i+1] != ':' {
				return nil, fmt.Errorf("unexpected %q after ']'", s[i+1])
			}
		case c == ':' && !inBracket:
			parts = append(parts, cur.String())
			cur.Reset()
		case c == '[' || c == ']':
			return nil, fmt.Errorf("unexpected %q", c)
		default:
			cur.WriteByte(c)
		}
	}
	if inBracket {
		return nil, fmt.Errorf("unclosed '['")
	}
	return append(parts, cur.String()), nil
}

func checkPort(p string) error {
	if p == "" {
		return nil
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return fmt.Errorf("%q is not a port number", p)
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return fmt.Errorf("%q is not a port number", p)
		}
	}
	return nil
}

func bracket(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
