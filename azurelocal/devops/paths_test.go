package devops

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseHTTPPath(t *testing.T) {
	for _, tt := range []struct {
		path string
		want httpRequest
		ok   bool
	}{
		{"/contoso/My%20Project/_git/infra/info/refs", httpRequest{repoRef{"contoso", "My Project", "infra"}, reqInfoRefs}, true},
		{"/contoso/p/_GIT/r/git-upload-pack", httpRequest{repoRef{"contoso", "p", "r"}, reqUploadPack}, true},
		{"/contoso/p/_git/r/git-receive-pack", httpRequest{repoRef{"contoso", "p", "r"}, reqReceivePack}, true},
		{"/contoso/_git/fleet/info/refs", httpRequest{repoRef{"contoso", "fleet", "fleet"}, reqInfoRefs}, true},
		{"/contoso/p/_git/r%27s/info/refs", httpRequest{repoRef{"contoso", "p", "r's"}, reqInfoRefs}, true},
		{"/contoso/p/_git/r", httpRequest{}, false},
		{"/contoso/p/_git/r/objects/info/packs", httpRequest{}, false},
		{"/contoso/p/_git/info/refs", httpRequest{}, false},
		{"/contoso/p/x/_git/r/info/refs", httpRequest{}, false},
		{"/contoso/a%2Fb/_git/r/info/refs", httpRequest{}, false},
		{"/contoso/p/_git/%2e%2e/info/refs", httpRequest{}, false},
		{"/contoso//_git/r/info/refs", httpRequest{}, false},
		{"/contoso/p/_git/r%zz/info/refs", httpRequest{}, false},
		{"/contoso/p/_git/r%0a/info/refs", httpRequest{}, false},
		{"contoso/p/_git/r/info/refs", httpRequest{}, false},
	} {
		got, err := parseHTTPPath(tt.path)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseHTTPPath(%q) = %+v, %v; want %+v, ok %v", tt.path, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseSSHCommand(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want sshCommand
		ok   bool
	}{
		{"git-upload-pack 'v3/contoso/My%20Project/infra'", sshCommand{repoRef{"contoso", "My Project", "infra"}, UploadPack}, true},
		{"git-receive-pack '/v3/contoso/p/r'", sshCommand{repoRef{"contoso", "p", "r"}, ReceivePack}, true},
		{"git upload-pack 'v3/contoso/p/r'", sshCommand{repoRef{"contoso", "p", "r"}, UploadPack}, true},
		{"git-upload-pack v3/contoso/p/r", sshCommand{repoRef{"contoso", "p", "r"}, UploadPack}, true},
		{`git-upload-pack 'v3/contoso/p/it'\''s'`, sshCommand{repoRef{"contoso", "p", "it's"}, UploadPack}, true},
		{"git-upload-archive 'v3/contoso/p/r'", sshCommand{}, false},
		{"git-upload-pack 'contoso/p/r'", sshCommand{}, false},
		{"git-upload-pack 'v3/contoso/p/r/x'", sshCommand{}, false},
		{"git-upload-pack 'v3/contoso/p'", sshCommand{}, false},
		{"git-upload-pack 'v3/contoso/p/r", sshCommand{}, false},
		{"git-upload-pack 'v3/contoso/p/r'x", sshCommand{}, false},
		{"git-upload-pack 'v3/contoso/p/r' ; rm -rf /", sshCommand{}, false},
		{"git-upload-pack 'v3/contoso/%2e%2e/r'", sshCommand{}, false},
		{"sh -c 'git-upload-pack v3/a/b/c'", sshCommand{}, false},
		{"", sshCommand{}, false},
	} {
		got, err := parseSSHCommand(tt.cmd)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSSHCommand(%q) = %+v, %v; want %+v, ok %v", tt.cmd, got, err, tt.want, tt.ok)
		}
	}
}

// validNames checks what every accepted path must give: three names that stay inside one path
// segment each, so no request reaches a directory other than its repository's.
func validNames(t *testing.T, r repoRef) {
	for _, s := range []string{r.Org, r.Project, r.Repo} {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\") || strings.ContainsFunc(s, isControl) {
			t.Fatalf("accepted name %q in %+v", s, r)
		}
	}
}

func FuzzParseHTTPPath(f *testing.F) {
	for _, s := range []string{
		"/contoso/My%20Project/_git/infra/info/refs", "/contoso/_git/fleet/git-upload-pack",
		"/a/b/_git/c/git-receive-pack", "/a/%2e%2e/_git/c/info/refs", "/a/b/_git/c%2Fd/info/refs", "//_git//info/refs",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		req, err := parseHTTPPath(path)
		if err != nil {
			return
		}
		validNames(t, req.repoRef)
		// The names, escaped again, give the same request.
		again, err := parseHTTPPath("/" + url.PathEscape(req.Org) + "/" + url.PathEscape(req.Project) + "/_git/" + url.PathEscape(req.Repo) + "/" + req.Kind)
		if err != nil || again != req {
			t.Fatalf("%q gave %+v, which escaped again gives %+v, %v", path, req, again, err)
		}
	})
}

func FuzzParseSSHCommand(f *testing.F) {
	for _, s := range []string{
		"git-upload-pack 'v3/contoso/My%20Project/infra'", "git-receive-pack '/v3/a/b/c'", `git upload-pack 'v3/a/b/it'\''s'`,
		"git-upload-pack v3/a/b/c", "git-upload-pack 'v3/a/%2e%2e/c'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		c, err := parseSSHCommand(cmd)
		if err != nil {
			return
		}
		validNames(t, c.repoRef)
		if c.Service != UploadPack && c.Service != ReceivePack {
			t.Fatalf("service %q", c.Service)
		}
		quoted := "'" + strings.ReplaceAll("v3/"+url.PathEscape(c.Org)+"/"+url.PathEscape(c.Project)+"/"+url.PathEscape(c.Repo), "'", `'\''`) + "'"
		again, err := parseSSHCommand(c.Service + " " + quoted)
		if err != nil || again != c {
			t.Fatalf("%q gave %+v, which quoted again gives %+v, %v", cmd, c, again, err)
		}
	})
}
