package transport

import (
	"strings"
	"testing"
)

func TestParseConnectTo(t *testing.T) {
	tests := []struct {
		in      string
		want    Rule
		wantErr string
	}{
		{in: "login.microsoftonline.com:443:127.0.0.1:8443", want: Rule{"login.microsoftonline.com", "443", "127.0.0.1", "8443"}},
		{in: "*.azurecr.io:443:127.0.0.1:8443", want: Rule{"*.azurecr.io", "443", "127.0.0.1", "8443"}},
		{in: "169.254.169.254:80:[::1]:9000", want: Rule{"169.254.169.254", "80", "::1", "9000"}},
		{in: "[::1]:443::8443", want: Rule{"::1", "443", "", "8443"}},
		{in: "::127.0.0.1:8443", want: Rule{"", "", "127.0.0.1", "8443"}},
		{in: " Login.Microsoftonline.COM:443:127.0.0.1:1 ", want: Rule{"login.microsoftonline.com", "443", "127.0.0.1", "1"}},
		{in: "a:443:b", wantErr: "want HOST:PORT:ADDR:PORT"},
		{in: "a:443:b:1:2", wantErr: "want HOST:PORT:ADDR:PORT"},
		{in: "a:https:b:1", wantErr: "not a port number"},
		{in: "a:443:b:70000", wantErr: "not a port number"},
		{in: "a.*.io:443:b:1", wantErr: "wildcard"},
		{in: ":::", wantErr: "changes nothing"},
		{in: "[::1:443:b:1", wantErr: "unclosed"},
		{in: "[::1]x:443:b:1", wantErr: "after ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseConnectTo(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseConnectTo(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseConnectTo(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	rules, err := ParseConnectToList(`
# the local Azure
login.microsoftonline.com:443:127.0.0.1:8443
*.azurecr.io:443:127.0.0.1:9443, 169.254.169.254:80:127.0.0.1:8080
:22::2222`)
	if err != nil {
		t.Fatal(err)
	}
	c := ConnectTo(rules)
	tests := map[string]string{
		"login.microsoftonline.com:443":  "127.0.0.1:8443",
		"LOGIN.microsoftonline.com.:443": "127.0.0.1:8443",
		"login.microsoftonline.com:80":   "login.microsoftonline.com:80",
		"myreg.azurecr.io:443":           "127.0.0.1:9443",
		"a.b.azurecr.io:443":             "127.0.0.1:9443",
		"azurecr.io:443":                 "azurecr.io:443",
		"evilazurecr.io:443":             "evilazurecr.io:443",
		"169.254.169.254:80":             "127.0.0.1:8080",
		"github.com:22":                  "github.com:2222",
		"not-an-address":                 "not-an-address",
	}
	for in, want := range tests {
		if got := c.Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuleStringRoundTrip(t *testing.T) {
	for _, s := range []string{"a.b:1:c:2", "*.x.io:443:[::1]:8443", ":::9"} {
		r, err := ParseConnectTo(s)
		if err != nil {
			t.Fatal(err)
		}
		if r.String() != s {
			t.Errorf("String() = %q, want %q", r.String(), s)
		}
	}
}

func FuzzParseConnectTo(f *testing.F) {
	for _, s := range []string{"a:1:b:2", "*.azurecr.io:443:127.0.0.1:8443", "[::1]:1:[::2]:2", ":::", "[", "a:b:c:d:e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseConnectTo(s)
		if err != nil {
			return
		}
		again, err := ParseConnectTo(r.String())
		if err != nil || again != r {
			t.Fatalf("%q parsed to %+v, whose String %q parses to %+v, %v", s, r, r.String(), again, err)
		}
		_ = ConnectTo{r}.Resolve("host.example:443")
	})
}
